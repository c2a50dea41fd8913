"""Commands of the ``revive`` CLI, contributed by each domain's ``cli`` module, plus
``revive requeue-jobs`` (the background queue's) and ``revive backup`` (the embedded
database's), which belong to no domain."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click
from flask.cli import with_appcontext

from revive import queue
from revive.benchmark import cli as benchmark_cli
from revive.dashboard import cli as dashboard_cli
from revive.deals import cli as deals_cli
from revive.demands import cli as demands_cli
from revive.demo import cli as demo_cli
from revive.extensions import db
from revive.inventory import cli as inventory_cli
from revive.onboarding import cli as onboarding_cli


@click.command("requeue-jobs")
@with_appcontext
def requeue_jobs_command() -> None:
    """Run the recovery sweep now (beat runs it every REVIVE_SWEEP_SECONDS): send jobs the
    broker never got or lost, re-send those whose worker died, queue tokenization of every
    patent whose tokens are stale, and rewrite the demands' searchable texts stored under older
    contact rules (revive.demands.upkeep). Prints what was sent as JSON ({task: [row id, …]})."""
    sent = queue.resend_stuck(full=True)
    if not sent:
        click.echo("没有需要补发的任务。", err=True)
    click.echo(json.dumps(sent, ensure_ascii=False))


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Copy the SQLite database (the embedded default, ``instance/revive.db``) to TARGET while
    the site and worker keep running: SQLite's online backup, a consistent copy (copying the
    file itself can catch a half-written page and misses what is still in ``-wal``). On
    PostgreSQL use pg_dump (README「备份、恢复与升级」). Prints the copy's size as JSON."""
    engine = db.engine
    if engine.dialect.name != "sqlite":
        raise click.ClickException(
            "数据库是 PostgreSQL：请用 pg_dump 备份（见 README「备份、恢复与升级」）"
        )
    source = engine.url.database
    if not source or source == ":memory:":
        raise click.ClickException("当前数据库在内存中，没有可备份的文件")
    if target.exists():
        raise click.ClickException(f"目标文件已存在：{target}（不覆盖，请换一个文件名）")
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    click.echo(f"已备份到 {target}", err=True)
    click.echo(json.dumps({"backup": str(target), "bytes": target.stat().st_size}))


def register(cli: click.Group) -> None:
    modules = (
        onboarding_cli,
        demo_cli,
        inventory_cli,
        demands_cli,
        deals_cli,
        benchmark_cli,
        dashboard_cli,
    )
    for module in modules:
        for command in module.commands:
            cli.add_command(command)
    cli.add_command(requeue_jobs_command)
    cli.add_command(backup_command)
