"""revive import-demands FILE [--dry-run] [--all-or-nothing]

The shared command-line import run (``revive.imports.cli.run_import``: a job row, validate,
commit, synchronously; progress on stderr, a JSON summary last on stdout, exit status 1 on a
file-level error or when --all-or-nothing finds invalid rows).
"""

from __future__ import annotations

from functools import partial

import click
from flask.cli import with_appcontext

from revive.demands import importers
from revive.imports.cli import run_import


@click.command("import-demands")
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="只校验并预览，不写入")
@click.option("--all-or-nothing", is_flag=True, help="有任何无效行则不写入任何数据")
@with_appcontext
def import_demands_command(file: str, dry_run: bool, all_or_nothing: bool) -> None:
    """Import enterprise demands collected offline (.xlsx / CSV)."""
    create = partial(
        importers.create_demand_import, actor=None, all_or_nothing=all_or_nothing, enqueue=False
    )
    run_import(
        file,
        create,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        extra_counts=("new_enterprises",),
    )


commands = [import_demands_command]
