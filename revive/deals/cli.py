"""``revive notify-overdue``: remind universities of unanswered pushed deals past their due date
(the beat schedule runs the same service hourly as the deals.notify_overdue task).

``revive end-closed-demand-deals``: once, after upgrading — end the deals left open on demands
closed before closing a demand ended its deals (they would count as awaiting an answer)."""

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


@click.command("end-closed-demand-deals")
@with_appcontext
def end_closed_demand_deals_command() -> None:
    """End (未成交: 企业已关闭需求) the open deals of demands closed before this was automatic."""
    ids = services.end_deals_of_closed_demands()
    click.echo(f"已结束 {len(ids)} 条需求已关闭的对接" + (f"：{ids}" if ids else ""))


commands = [notify_overdue_command, end_closed_demand_deals_command]
