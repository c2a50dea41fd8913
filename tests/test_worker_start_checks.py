"""A worker refuses to start, saying why, when it could only fail: its SECRET_KEY is not the
web's (the web records a fingerprint of its key; an operator's workers e-mailed reset links the
web then refused with 410, and nothing said why), or the database is not migrated."""

from __future__ import annotations

import re
import subprocess
import sys

import sqlalchemy as sa

from revive.extensions import db
from revive.settings import keycheck
from revive.settings.models import PlatformSetting

STRONG_KEY = "0f3c9a7e51d24b86a0c2e9f47b1d38a65e2c7f90d4b1a8e3"


def test_a_worker_with_another_key_is_told_why(app, monkeypatch):
    assert keycheck.key_mismatch(app) is None  # nothing recorded yet: nothing to compare
    keycheck.record_web_key(app)
    assert keycheck.key_mismatch(app) is None  # the same key
    stored = db.session.scalar(
        sa.select(PlatformSetting.value).where(PlatformSetting.key == keycheck.KEY)
    )
    assert str(app.secret_key) not in str(stored)  # a fingerprint, not the key
    monkeypatch.setattr(app, "secret_key", "another-key")
    reason = keycheck.key_mismatch(app)
    assert reason and "SECRET_KEY" in reason and "先重启网站" in reason
    keycheck.record_web_key(app)  # the web restarted with the new key: the worker may run
    assert keycheck.key_mismatch(app) is None
    assert (
        "_secret_key_fingerprint"
        not in __import__("revive.settings.services").settings.services.current()
    )


def test_the_refusal_names_the_web_process_that_recorded_the_key(app, monkeypatch, caplog):
    """An operator's stray web process, started by hand with SECRET_KEY=changeme, recorded its
    fingerprint last, and the correctly configured workers refused to start saying only that
    their key was not the web's: the refusal names the process that recorded it and when, and
    the stray web says in its own log that it replaced another process's key."""
    monkeypatch.setattr(keycheck.socket, "gethostname", lambda: "web-1")
    keycheck.record_web_key(app)  # the real web
    monkeypatch.setattr(keycheck.socket, "gethostname", lambda: "stray-host")
    monkeypatch.setattr(keycheck.os, "getpid", lambda: 4242)
    real_key = app.secret_key
    monkeypatch.setattr(app, "secret_key", "changeme")
    with caplog.at_level("WARNING", logger="revive.settings.keycheck"):
        keycheck.record_web_key(app)  # the stray web
    assert "host web-1" in caplog.text and "stop it" in caplog.text
    monkeypatch.setattr(app, "secret_key", real_key)  # a worker with the right key
    reason = keycheck.key_mismatch(app)
    assert "主机 stray-host 上的网站进程 4242" in reason and "请停止它" in reason
    # when, in the platform's zone with its offset, as the log lines
    assert re.search(
        r"web process 4242 on host stray-host at \d{4}-\d\d-\d\d [\d:]{8}\+0800", reason
    )
    assert "changeme" not in reason


def test_a_web_started_before_migrations_says_so_in_one_line(tmp_path, caplog):
    """Before `revive db upgrade` the login page answered 200 and the log held a traceback
    per web process from this step: one warning line instead (/healthz says the rest)."""
    from tests.apps import other_app

    empty = other_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}",
        }
    )
    with caplog.at_level("WARNING", logger="revive.settings.keycheck"):
        keycheck.record_web_key(empty)
    assert len(caplog.records) == 1
    (record,) = caplog.records
    assert record.exc_info is None and "revive db upgrade" in record.getMessage()


def test_web_processes_starting_together_record_one_fingerprint_quietly(app, monkeypatch, caplog):
    """On a fresh database the web's processes insert the row at once; the one that loses read
    a warning with an IntegrityError traceback into the first start's log (a trial)."""
    real, calls = keycheck._record, []

    def racing(mine: str) -> None:
        if not calls:  # another process inserts between this one's read and its insert
            calls.append(mine)
            db.session.add(PlatformSetting(key=keycheck.KEY, value={"web": mine}))
            db.session.commit()
            db.session.add(PlatformSetting(key=keycheck.KEY, value={"web": mine}))
            db.session.commit()
        real(mine)

    monkeypatch.setattr(keycheck, "_record", racing)
    with caplog.at_level("WARNING", logger="revive.settings.keycheck"):
        keycheck.record_web_key(app)
    assert calls and not caplog.records
    assert keycheck.key_mismatch(app) is None


def test_the_worker_process_refuses_to_start(tmp_path):
    """``celery -A workers.app`` imports workers.app: with another key it exits with the reason."""
    db_url = f"sqlite:///{tmp_path / 'k.db'}"
    env = {
        "DATABASE_URL": db_url,
        "REVIVE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "web-key",
        "PATH": "/usr/bin:/bin",
    }
    setup = (
        "from revive import create_app; from revive.extensions import db;"
        "from revive.settings.keycheck import record_web_key;"
        "app = create_app(); ctx = app.app_context(); ctx.push(); db.create_all(); ctx.pop();"
        "record_web_key(app)"
    )
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, capture_output=True)
    ok = subprocess.run(
        [sys.executable, "-c", "import workers.app"], env=env, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    refused = subprocess.run(
        [sys.executable, "-c", "import workers.app"],
        env={**env, "SECRET_KEY": "worker-key"},
        capture_output=True,
        text=True,
    )
    assert refused.returncode != 0 and "SECRET_KEY" in refused.stderr


def test_a_worker_on_a_database_not_migrated_refuses_to_start(tmp_path):
    """An operator's worker started before `revive db upgrade` reported "ready", then logged a
    traceback every minute."""
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "REVIVE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k",
        "PATH": "/usr/bin:/bin",
    }
    refused = subprocess.run(
        [sys.executable, "-c", "import workers.app"], env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "revive db upgrade" in refused.stderr


def test_a_worker_that_cannot_reach_the_database_refuses_to_start(tmp_path):
    """An operator's worker with a wrong DATABASE_URL reported "ready", took a match run and
    an index build, failed both, and they sat 排队中 until the sweep re-sent them ten minutes
    later. It waits REVIVE_WORKER_DB_WAIT seconds for the database, then stops with the reason
    (the address without its password)."""
    env = {
        "DATABASE_URL": "postgresql+psycopg://revive:s3cret@127.0.0.1:1/revive",
        "REVIVE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": STRONG_KEY,  # a database server: production refuses a weak one
        "REVIVE_WORKER_DB_WAIT": "0",
        "PATH": "/usr/bin:/bin",
    }
    refused = subprocess.run(
        [sys.executable, "-c", "import workers.app"], env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "数据库无法连接" in refused.stderr and "127.0.0.1:1" in refused.stderr
    assert "s3cret" not in refused.stderr


def test_inspect_and_beat_do_not_wait_for_the_database(tmp_path):
    """`celery -A workers.app inspect ping` (the compose health check) and beat import the
    module too: they skip the worker's start checks instead of waiting for the database."""
    env = {
        "DATABASE_URL": "postgresql+psycopg://revive@127.0.0.1:1/revive",
        "REVIVE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": STRONG_KEY,
        "REVIVE_WORKER_DB_WAIT": "600",
        "PATH": "/usr/bin:/bin",
    }
    for command in ("inspect", "beat"):
        code = f"import sys; sys.argv = ['celery', '{command}']; import workers.app"
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr


def test_a_database_server_connection_gives_up_in_seconds(monkeypatch, tmp_path):
    from revive.config import load_config

    monkeypatch.setenv("REVIVE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://revive@db-host/revive")
    monkeypatch.setenv("REDIS_URL", "redis://redis-host:6379/0")
    cfg = load_config()
    assert cfg["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"] == {"connect_timeout": 10}
    assert cfg["CELERY"]["broker_transport_options"]["socket_connect_timeout"] == 5
