"""今日待办: what a tech-transfer officer has to act on, first on their home page.

An officer's first page was the inventory funnel; the day's work was spread over a menu badge,
one card among the KPIs and another tab (officer trial). Each item here is a count with what
it is out of, the oldest case's age where age is what makes it urgent, and a link to the page
where the work is done. Nothing here is new data: the same queries as the badge, the overdue
page, the unmet-demand page and the deals board.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for

from revive.accounts.models import Role, User
from revive.dashboard import activity
from revive.db import as_utc, utcnow
from revive.deals.models import Deal
from revive.deals.permissions import visible_deals_clause
from revive.deals.queries import days_in_stage_over
from revive.deals.workflow import OPEN_STAGES
from revive.demands.models import Demand, DemandStatus
from revive.extensions import db
from revive.matching.models import Match, MatchState
from revive.matching.queries import WEAK

TODO_ROLES = frozenset({Role.OFFICER, Role.PLATFORM_ADMIN})
# An open deal in its stage for more than this many whole days needs a nudge: counted as the
# deals board shows its days (deals.queries.days_in_stage), so 「14 天」 there is not stalled here.
STALLED_DAYS = 14


@dataclass(frozen=True)
class Todo:
    key: str
    label: str
    count: int
    note: str  # what the count is out of, and the oldest case's age
    href: str
    urgent: bool = False


def _days(moment) -> int:
    return max(0, (utcnow() - as_utc(moment)).days) if moment else 0


def officer_todo(user: User) -> list[Todo]:
    """The officer's (or platform admin's) to-do items, in the order to work them."""
    if user.role not in TODO_ROLES:
        return []
    items: list[Todo] = []

    to_review = (
        sa.select(
            sa.func.count(Match.id),
            sa.func.count(sa.distinct(Match.demand_id)),
            sa.func.min(Match.created_at),
        )
        .join(Demand, Demand.id == Match.demand_id)
        .where(
            Match.state == MatchState.CANDIDATE,
            Demand.status == DemandStatus.OPEN,
            sa.not_(WEAK),
        )
    )
    pairs, demands, oldest = db.session.execute(to_review).one()
    items.append(
        Todo(
            "review",
            "待审核的机器推荐",
            int(pairs),
            f"涉及 {demands} 条开放需求" + (f"；最早的已等待 {_days(oldest)} 天" if pairs else ""),
            url_for("review.queue"),
            urgent=bool(pairs),
        )
    )

    scope = visible_deals_clause(user)
    awaiting, overdue = activity.overdue_counts(scope)
    items.append(
        Todo(
            "overdue",
            "逾期未答复的对接",
            overdue,
            f"待高校答复的 {awaiting} 个对接中",
            url_for("dashboard.overdue"),
            urgent=bool(overdue),
        )
    )

    mine = Deal.officer_id == user.id if user.role == Role.OFFICER else sa.true()
    open_deals, stalled = db.session.execute(
        sa.select(
            sa.func.count(Deal.id),
            sa.func.count(sa.case((days_in_stage_over(STALLED_DAYS), Deal.id))),
        ).where(scope, mine, Deal.stage.in_(OPEN_STAGES))
    ).one()
    whose = "您负责的" if user.role == Role.OFFICER else "全部"
    board_args = {"officer": user.id} if user.role == Role.OFFICER else {}
    items.append(
        Todo(
            "stalled",
            f"超过 {STALLED_DAYS} 天没有进展的对接",
            int(stalled),
            f"{whose} {open_deals} 个进行中的对接中"
            f"（在当前阶段已停留 {STALLED_DAYS + 1} 天及以上）",
            url_for("deals.board", **board_args),
            urgent=bool(stalled),
        )
    )

    open_demands, unmet = activity.unmet_counts()
    items.append(
        Todo(
            "unmet",
            "暂无合适专利的开放需求",
            unmet,
            f"开放需求 {open_demands} 条中；可请企业补充细节，或手动查找专利",
            url_for("dashboard.unmet"),
        )
    )
    return items
