"""revive seed-demo, revive demo-logins."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from revive.accounts.models import Role
from revive.deals.models import Stage
from revive.demo.seed import DEMO_PASSWORD, demo_logins, seed_demo
from revive.inventory.models import EntryStatus

LABELS = {
    "organizations": "单位",
    "colleges": "学院",
    "users": "用户",
    "patents": "专利",
    "demands": "企业需求",
    "index_builds": "索引构建",
    "match_runs": "匹配运行",
    "matches": "匹配结果",
    "deals": "对接",
    "deal_events": "对接记录",
    "contracts": "合同",
    "evaluations": "企业评价",
    "evaluation_invites": "评价邀请",
    "declarations": "开放许可声明",
    "notifications": "通知",
    "audit_events": "审计事件",
    "pools": "产业专利池",
    "pool_patents": "专利池候选与成员",
    "roadshows": "路演",
}


def _counts(counts: dict, enum_cls: type) -> str:
    return "，".join(f"{m.label} {counts[m]}" for m in enum_cls if m in counts)


def _echo_logins() -> None:
    click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：")
    for login in demo_logins():
        click.echo(f"  {login.label:　<8} {login.email:<40} {login.who}")
        click.echo(f"  {'':　<8} {'':<40} 看点：{login.shows}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Load the demo universities, users, patents, demands, matches, deals and evaluations
    (safe to run again)."""
    summary = seed_demo()
    created = "，".join(f"{LABELS[k]} {n}" for k, n in summary.created.items())
    click.echo(f"演示数据已就绪。本次新增：{created}")
    click.echo("  现有：" + "，".join(f"{LABELS[k]} {n}" for k, n in summary.totals.items()))
    click.echo("  用户角色：" + _counts(summary.users_by_role, Role))
    click.echo("  入库状态：" + _counts(summary.patents_by_status, EntryStatus))
    click.echo("  对接阶段：" + _counts(summary.deals_by_stage, Stage))
    click.echo(f"  用时 {summary.seconds:.1f} 秒")
    _echo_logins()


@click.command("demo-logins")
def demo_logins_command() -> None:
    """Print the demo accounts and their password."""
    _echo_logins()


commands = [seed_demo_command, demo_logins_command]
