"""What an install carries. An operator's `pip install .` left revive/inventory/resources/
annual_fees.json behind (not in pyproject's package-data), so the app could not start: every
data file inside the package must be listed. templates/ and migrations/ sit beside the package
(revive.config.PROJECT_ROOT) and never go into a wheel: the README installs from the checkout
with `pip install -e .`, as the Dockerfile does."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _data_files(package: Path) -> set[Path]:
    return {
        path
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix not in {".py", ".pyc"}
        and "__pycache__" not in path.parts
        and not path.name.startswith(".")
    }


def test_every_data_file_of_the_package_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["revive"]
    package = ROOT / "revive"
    listed = {path for pattern in patterns for path in package.glob(pattern) if path.is_file()}
    missing = sorted(str(p.relative_to(ROOT)) for p in _data_files(package) - listed)
    assert not missing, missing
    assert not _data_files(ROOT / "workers")  # workers/ is code only (nothing to list)


def test_the_readme_installs_from_the_checkout():
    """Both halves' commands install with `pip install -e .` (templates/ and migrations/ are
    not in a wheel), none with a plain `pip install .`."""
    readme = (ROOT / "README.md").read_text("utf-8")
    for half in readme.split("\n## English\n"):
        commands = "\n".join(re.findall(r"```bash\n(.*?)```", half, re.S))
        assert "pip install -e ." in commands
        assert not re.search(r"pip install \.(\s|$)", commands)
