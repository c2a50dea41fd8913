"""revive import-patents FILE --institution NAME [--college NAME] [--dry-run] [--all-or-nothing]

The shared command-line import run (``revive.imports.cli.run_import``: progress on stderr, a
JSON summary last on stdout, exit status 1 on a file-level error) for one institution; an
unknown institution or college is a file-level error.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from revive.accounts.models import OrgKind
from revive.errors import NotFoundError
from revive.imports import services
from revive.imports.cli import run_import
from revive.imports.models import ImportJob
from revive.inventory.services import college_index


@click.command("import-patents")
@click.argument("file")
@click.option("--institution", required=True, help="单位全称（须为已登记的高校/科研院所）")
@click.option("--college", default=None, help="只导入该学院的专利（文件中学院留空的行归入该学院）")
@click.option("--dry-run", is_flag=True, help="只校验并预览，不写入")
@click.option("--all-or-nothing", is_flag=True, help="有任何无效行则不写入任何数据")
@with_appcontext
def import_patents_command(
    file: str, institution: str, college: str | None, dry_run: bool, all_or_nothing: bool
) -> None:
    """Import a patent spreadsheet (.xlsx / CSV) for one institution."""

    def create(path: Path) -> ImportJob:
        org = services.find_institution(institution)
        if org is None or org.kind != OrgKind.UNIVERSITY:
            raise NotFoundError(f"未找到高校/科研院所：{institution}")
        college_id = None
        if college:
            college_id = college_index(org.id).get(college)
            if college_id is None:
                raise NotFoundError(f"{institution} 下没有学院：{college}")
        return services.create_patent_import(
            path,
            actor=None,
            institution_id=org.id,
            college_id=college_id,
            all_or_nothing=all_or_nothing,
            enqueue=False,
        )

    run_import(
        file, create, dry_run=dry_run, all_or_nothing=all_or_nothing, institution=institution
    )


commands = [import_patents_command]
