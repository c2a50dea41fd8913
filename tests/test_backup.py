"""`revive backup`: a consistent copy of the embedded SQLite database while the site runs
(a tester found no backup procedure for the default install)."""

from __future__ import annotations

import json
import sqlite3

from revive.cli_commands import backup_command
from revive.extensions import db
from tests.apps import other_app


def test_backup_copies_the_sqlite_file_and_never_overwrites(tmp_path):
    app = other_app(
        {
            "TESTING": True,
            "SECRET_KEY": "backup-test",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.db'}",
        }
    )
    with app.app_context():
        db.create_all()
        db.session.execute(db.text("CREATE TABLE probe (v TEXT)"))
        db.session.execute(db.text("INSERT INTO probe VALUES ('存量专利')"))
        db.session.commit()
    target = tmp_path / "backups" / "revive-2026-12-07.db"
    cli = app.test_cli_runner()
    result = cli.invoke(backup_command, [str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.splitlines()[-1])["bytes"] == target.stat().st_size
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT v FROM probe").fetchall() == [("存量专利",)]
    again = cli.invoke(backup_command, [str(target)])
    assert again.exit_code != 0 and "目标文件已存在" in again.output
    with app.app_context():
        db.engine.dispose()


def test_backup_of_an_in_memory_database_says_there_is_nothing_to_copy(runner, tmp_path):
    result = runner.invoke(backup_command, [str(tmp_path / "x.db")])
    assert result.exit_code != 0
    assert "内存" in result.output or "PostgreSQL" in result.output
