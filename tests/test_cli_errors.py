"""The ``revive`` command answers an operator's set-up mistakes with one line they can act on,
not a traceback (an operator's trial read 156 lines of psycopg traceback for a wrong port, and
an English ValueError for REVIVE_TIMEZONE=Beijing)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from revive.cli import operator_message
from revive.config import ConfigError


def _error(url: str, statement: str = "SELECT 1") -> Exception:
    try:
        with sa.create_engine(url).connect() as conn:
            conn.execute(sa.text(statement))
    except Exception as exc:  # noqa: BLE001
        return exc
    raise AssertionError("no error")


def test_each_set_up_mistake_has_its_message(tmp_path, monkeypatch):
    monkeypatch.setenv("REVIVE_DATA_DIR", str(tmp_path))
    assert "DATABASE_URL 无效" in operator_message(_error("postgre://x"))
    down = "postgresql+psycopg://postgres@127.0.0.1:1/none"
    monkeypatch.setenv("DATABASE_URL", down)
    assert "无法连接数据库" in operator_message(_error(down))
    empty = f"sqlite:///{tmp_path / 'e.db'}"
    monkeypatch.setenv("DATABASE_URL", empty)
    assert "revive db upgrade" in operator_message(_error(empty, "SELECT * FROM users"))
    assert operator_message(ConfigError("REVIVE_TIMEZONE='x' is not a known time zone"))
    assert operator_message(KeyError("a bug")) is None  # a bug keeps its traceback


def test_an_sql_error_on_a_working_database_keeps_its_traceback(tmp_path, monkeypatch):
    """A code review: every SQLite error is an OperationalError, so a migration's "no such
    column" or a syntax error read 「无法连接数据库」. The database is looked at afresh: it
    answers and holds the tables, so the error is not a set-up mistake."""
    url = f"sqlite:///{tmp_path / 'ok.db'}"
    with sa.create_engine(url).begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REVIVE_DATA_DIR", str(tmp_path))
    assert operator_message(_error(url, "SELECT nonsense FROM users")) is None
    assert operator_message(_error(url, "SELEC 1")) is None
    assert operator_message(sa.exc.ArgumentError("a bug building a statement")) is None


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"REVIVE_TIMEZONE": "Beijing"}, "REVIVE_TIMEZONE"),
        ({"DATABASE_URL": "postgre://x"}, "DATABASE_URL 无效"),
    ],
)
def test_the_command_prints_one_line_and_fails(tmp_path, env, words):
    done = subprocess.run(
        [sys.executable, "-m", "revive.cli", "db", "current"],
        env={**os.environ, "REVIVE_DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert words in done.stderr and "Traceback" not in done.stderr
