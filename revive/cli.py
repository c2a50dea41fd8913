"""The ``revive`` console script: Flask's CLI (db upgrade, run, …) plus our operations.

revive db upgrade                      migrate the database named by DATABASE_URL
revive create-admin --email … --name … [--password-file PATH]   the first platform admin
revive add-institutions FILE [--dry-run]                         universities and institutes
revive seed-demo                       load the demo universities, users and patents
revive import-patents FILE --institution NAME [--dry-run]
"""

from __future__ import annotations

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
    cli(prog_name="revive")


if __name__ == "__main__":  # python -m revive.cli …, as the `revive` script
    main()
