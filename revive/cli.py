"""The ``revive`` console script: Flask's CLI (db upgrade, run, …) plus our operations.

revive db upgrade                      migrate the database named by DATABASE_URL
revive create-admin --email … --name … [--password-file PATH]   the first platform admin
revive add-institutions FILE [--dry-run]                         universities and institutes
revive seed-demo                       load the demo universities, users and patents
revive import-patents FILE --institution NAME [--dry-run]
"""

from __future__ import annotations

import sys

import click
from flask.cli import FlaskGroup

from revive import create_app


def _create_app(*_: object) -> object:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def cli() -> None:
    """Revive 存量专利盘活平台 — operations."""


def _register() -> None:
    # Each domain contributes its commands; imported lazily to keep `revive --help` fast.
    from revive.cli_commands import register

    register(cli)


def main() -> None:
    _register()
    try:
        cli(prog_name="revive")
    except Exception as exc:
        message = operator_message(exc)
        if message is None:
            raise
        click.echo(f"错误 / error: {message}", err=True)
        sys.exit(1)


def operator_message(exc: BaseException) -> str | None:
    """What an operator can act on, for the mistakes of setting up (an operator's trial read
    156 lines of psycopg traceback for a wrong port): a setting that cannot be used, a
    DATABASE_URL that names no driver, a database that does not answer, a database not
    migrated yet. A database error says so only when a fresh look at the database confirms it
    (an SQL error of a migration, a lock timeout or a bug keeps its traceback: a code review
    found them all read "cannot connect"). None for anything else."""
    import sqlalchemy as sa

    from revive.config import ConfigError

    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, sa.exc.NoSuchModuleError) or (
        isinstance(exc, sa.exc.ArgumentError) and "Could not parse SQLAlchemy URL" in str(exc)
    ):
        return f"DATABASE_URL 无效（{_first_line(exc)}）：应形如 postgresql+psycopg://用户@主机:5432/库名"
    if isinstance(exc, sa.exc.DBAPIError):
        state, detail = _database_state()
        if state == "unreachable":
            return f"无法连接数据库：请检查 DATABASE_URL 和数据库服务（{detail}）"
        if state == "empty" and sys.argv[1:3] != ["db", "upgrade"]:
            return f"数据库尚未初始化：请运行 revive db upgrade（{_first_line(exc.orig or exc)}）"
    return None


def _database_state() -> tuple[str, str]:
    """("unreachable", why) | ("empty", "") (no tables of ours) | ("ok", "") for the database
    DATABASE_URL names, looked at afresh with a short connect timeout."""
    import sqlalchemy as sa

    from revive.config import load_config

    url = load_config()["SQLALCHEMY_DATABASE_URI"]
    args = {} if url.startswith("sqlite") else {"connect_timeout": 5}
    engine = sa.create_engine(url, connect_args=args)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
    except sa.exc.SQLAlchemyError as probe:
        return "unreachable", _first_line(getattr(probe, "orig", None) or probe)
    finally:
        engine.dispose()
    return ("ok" if "users" in tables else "empty"), ""


def _first_line(exc: object) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


if __name__ == "__main__":  # python -m revive.cli …, as the `revive` script
    main()
