"""Commands of the ``revive`` CLI, contributed by each domain's ``cli`` module, plus
``revive requeue-jobs`` (the background queue's, which belongs to no domain)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from revive import queue
from revive.benchmark import cli as benchmark_cli
from revive.dashboard import cli as dashboard_cli
from revive.deals import cli as deals_cli
from revive.demands import cli as demands_cli
from revive.demo import cli as demo_cli
from revive.inventory import cli as inventory_cli
from revive.onboarding import cli as onboarding_cli


@click.command("requeue-jobs")
@with_appcontext
def requeue_jobs_command() -> None:
    """Run the recovery sweep now (beat runs it every REVIVE_SWEEP_SECONDS): send jobs the
    broker never got or lost, re-send those whose worker died, and queue tokenization of every
    patent whose tokens are stale. Prints what was sent as JSON ({task: [row id, …]})."""
    click.echo(json.dumps(queue.resend_stuck(full=True), ensure_ascii=False))


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
