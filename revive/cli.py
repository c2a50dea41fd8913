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
    database that does not answer, a DATABASE_URL that names no driver, a database not
    migrated yet. None for anything else (a bug keeps its traceback)."""
    import sqlalchemy as sa

    from revive.config import ConfigError

    if isinstance(exc, ConfigError):
        return str(exc)
    if isinstance(exc, sa.exc.NoSuchModuleError | sa.exc.ArgumentError):
        return f"DATABASE_URL 无效（{_first_line(exc)}）：应形如 postgresql+psycopg://用户@主机:5432/库名"
    if isinstance(exc, sa.exc.DBAPIError):
        text = _first_line(getattr(exc, "orig", None) or exc)
        lowered = text.lower()
        if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
            return f"数据库尚未初始化：请运行 revive db upgrade（{text}）"
        if isinstance(exc, sa.exc.OperationalError):
            return f"无法连接数据库：请检查 DATABASE_URL 和数据库服务（{text}）"
    return None


def _first_line(exc: object) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]


if __name__ == "__main__":  # python -m revive.cli …, as the `revive` script
    main()
