"""Settings that name a data file or hold JSON stop the start with the setting's name, instead
of failing pages later with a 500 (revive.app._check_settings_files)."""

from __future__ import annotations

import pytest

from tests.apps import other_app

BASE = {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"}


@pytest.mark.usefixtures("_data_dir")
@pytest.mark.parametrize(
    ("setting", "value", "words"),
    [
        ("REVIVE_REGIONS_FILE", "/nonexistent/regions.json", "REVIVE_REGIONS_FILE"),
        ("REVIVE_ANNUAL_FEE_TABLE", "/nonexistent/fees.json", "年费标准文件不存在"),
        ("REVIVE_TIER_RULES", '{"a_min_avg": 4.5', "REVIVE_TIER_RULES"),
        ("REVIVE_TIER_RULES", '{"colour": 1}', "unknown tier thresholds: colour"),
        ("REVIVE_FEE_REDUCTION_DEFAULT", 50, "must be 0, 70 or 85"),
    ],
)
def test_a_setting_that_cannot_be_used_stops_the_start(setting, value, words):
    with pytest.raises(ValueError, match=words) as raised:
        other_app({**BASE, setting: value})
    assert setting in str(raised.value)


@pytest.mark.usefixtures("_data_dir")
def test_a_regions_file_that_is_no_region_list_stops_the_start(tmp_path):
    path = tmp_path / "regions.json"
    path.write_text('{"province": "某省"}', encoding="utf-8")  # no divisions
    with pytest.raises(ValueError, match="REVIVE_REGIONS_FILE"):
        other_app({**BASE, "REVIVE_REGIONS_FILE": str(path)})


@pytest.mark.usefixtures("_data_dir")
def test_the_packaged_defaults_start():
    app = other_app({**BASE, "REVIVE_TIER_RULES": '{"a_min_avg": 4.5}'})
    assert app.config["REVIVE_FEE_REDUCTION_DEFAULT"] == 85


def test_processes_starting_at_once_agree_on_the_generated_secret_key(tmp_path, monkeypatch):
    """Without SECRET_KEY a key is generated once in the data dir; processes starting at the
    same moment (web and workers) all read the same whole key, never an empty one."""
    import multiprocessing

    monkeypatch.delenv("SECRET_KEY", raising=False)
    context = multiprocessing.get_context("fork")
    with context.Pool(6) as pool:
        keys = pool.map(_key_of, [str(tmp_path)] * 24)
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no draft left behind
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_key_made_for_a_shared_database_is_a_warning(tmp_path, monkeypatch, caplog):
    """An operator's production web started without SECRET_KEY made a key of its own quietly;
    the workers holding the real key then refused to start. With a database server it says so;
    the embedded default (SQLite) makes its key quietly, as before."""
    from revive.config import _secret_key

    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with caplog.at_level("WARNING", logger="revive.config"):
        _secret_key(tmp_path / "a")
    assert not caplog.records
    with caplog.at_level("WARNING", logger="revive.config"):
        _secret_key(tmp_path / "b", shared=True)
    assert "SECRET_KEY is not set" in caplog.text and "同一个" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="revive.config"):
        _secret_key(tmp_path / "b", shared=True)  # read again: already made
    assert not caplog.records


def _key_of(base: str) -> str:
    from pathlib import Path

    from revive.config import _secret_key

    return _secret_key(Path(base))


@pytest.mark.parametrize("module", ["revive", "revive.cli"])
def test_python_dash_m_runs_the_commands(module):
    """`python -m revive …` (and `-m revive.cli`) is the `revive` script, not a silent no-op."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[1],
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: revive") and "create-admin" in done.stdout


PRODUCTION = {"DATABASE_URL": "postgresql+psycopg://revive@db-host/revive"}


@pytest.mark.parametrize(
    "key",
    [
        "changeme",
        "secret",
        "dev",
        "0123456789abcdef0123456789abcde",  # 31 characters
        "please-changeme-to-a-long-random-string",
        "django-insecure-your-secret-key-goes-here-0123",
        "ab" * 20,
    ],
)
def test_production_refuses_a_weak_secret_key(key, tmp_path, monkeypatch):
    """An operator's stray web ran with SECRET_KEY=changeme, accepted silently: whoever knows
    it signs a session cookie as anyone. A deployment on a database server refuses it."""
    from revive.config import ConfigError, load_config

    monkeypatch.setenv("REVIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", PRODUCTION["DATABASE_URL"])
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY 太弱") as raised:
        load_config()
    assert "token_hex(32)" in str(raised.value) and "too weak" in str(raised.value)


def test_a_weak_secret_key_is_left_to_tests_debug_and_the_embedded_default(tmp_path, monkeypatch):
    from revive.config import load_config

    monkeypatch.setenv("REVIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "dev")
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert load_config()["SECRET_KEY"] == "dev"  # make run's SQLite
    monkeypatch.setenv("DATABASE_URL", PRODUCTION["DATABASE_URL"])
    assert load_config({"TESTING": True})["SECRET_KEY"] == "dev"
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert load_config()["SECRET_KEY"] == "dev"
    monkeypatch.delenv("FLASK_DEBUG")
    strong = "0f3c9a7e51d24b86a0c2e9f47b1d38a65e2c7f90d4b1a8e3"
    monkeypatch.setenv("SECRET_KEY", strong)
    assert load_config()["SECRET_KEY"] == strong
    monkeypatch.delenv("SECRET_KEY")  # unset: the data dir's generated key (64 hex digits)
    assert len(load_config()["SECRET_KEY"]) == 64
