"""Floors: the engine is pure (stdlib, jieba, scikit-learn, numpy, scipy, numba, pyahocorasick) and never drags the
web stack in."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "revive" / "engine"
ALLOWED_THIRD_PARTY = {"jieba", "sklearn", "numpy", "scipy", "numba", "ahocorasick"}


def test_engine_imports_neither_flask_nor_sqlalchemy():
    # A fresh interpreter: importing and using revive.engine must not load the web stack
    # (the package root is import-light; the app factory lives in revive.app).
    code = (
        "import sys;"
        "import revive.engine;"
        "revive.engine.build_index([revive.engine.patent_tokens('专利', '许可')], [1], version=1);"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'flask', 'sqlalchemy'}"
        " or (m.startswith('revive.') and not m.startswith('revive.engine')));"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_engine_source_imports_only_stdlib_and_its_libraries():
    for path in ENGINE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                ok = (
                    top in sys.stdlib_module_names
                    or top in ALLOWED_THIRD_PARTY
                    or name == "revive.engine"
                    or name.startswith("revive.engine.")
                )
                assert ok, f"{path.name} imports {name}"


REVIVE = ENGINE.parent
# Packages above notifications and the audit record (they notify and record, never the reverse):
# a deal's visibility reaches notifications through revive.notifications.scope.
HIGHER = ("deals", "matching", "review", "pool", "pools", "alerts", "licensing", "evaluations")


def _revive_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.update([node.module, *(f"{node.module}.{a.name}" for a in node.names)])
    return {n for n in found if n.startswith("revive.")}


def test_notifications_and_the_audit_record_import_no_higher_package():
    files = [
        *(REVIVE / "notifications").glob("*.py"),
        REVIVE / "audit" / "services.py",
        REVIVE / "audit" / "models.py",
    ]
    for path in files:
        for name in _revive_imports(path):
            assert name.split(".")[1] not in HIGHER, f"{path.relative_to(REVIVE)} imports {name}"


# The matching lifecycle, bottom up: a module imports none above it (no cycle to hide).
MATCHING_ORDER = ("jobs", "tokens", "indexes", "strength", "runs", "pairs")


def test_the_matching_modules_import_only_the_ones_below():
    for i, name in enumerate(MATCHING_ORDER):
        above = {f"revive.matching.{m}" for m in MATCHING_ORDER[i:]}
        found = _revive_imports(REVIVE / "matching" / f"{name}.py") & above
        assert not found, f"matching/{name}.py imports {sorted(found)}"


def test_every_module_is_on_a_floor_of_the_layers_contract():
    """The layers contract only checks the modules it names (itself or a package above it):
    a new module of a package split across floors (the industry pools') must be given one."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    layers = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")[
        "layers"
    ]
    named = {m.strip() for floor in layers for m in floor.replace("|", ":").split(":")}
    missing = []
    for path in sorted((ROOT / "revive").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            continue
        if not any(".".join(parts[:n]) in named for n in range(2, len(parts) + 1)):
            missing.append(".".join(parts))
    assert not missing, missing
