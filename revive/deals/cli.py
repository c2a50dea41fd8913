"""``revive notify-overdue``: remind universities of unanswered pushed deals past their due date
(the beat schedule runs the same service hourly as the deals.notify_overdue task)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from revive.deals import services


@click.command("notify-overdue")
@with_appcontext
def notify_overdue_command() -> None:
    """Remind universities of unanswered pushed deals past their due date (once per deal)."""
    ids = services.notify_overdue()
    click.echo(f"已提醒 {len(ids)} 条逾期未答复的对接" + (f"：{ids}" if ids else ""))


commands = [notify_overdue_command]
