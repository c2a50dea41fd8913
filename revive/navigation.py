"""The main navigation: the menu as data, and the counts beside its queues.

The menu groups the pages (专利 / 需求 / 匹配 / 对接 / 推广 / 管理) so that every role's top row
fits one line at 1366 px: a group shows as a drop-down (``<details>``, no framework; static/js
closes an open one on an outside click or Esc) when the role may open two or more of its pages,
as a plain link when only one. Which pages a role may open is read from the routes themselves
(``templating.can_open``).

Counts (``nav_counts()``, a template global): what waits for the user — the review queue
(待我审核: a college admin's 待学院审核, a university admin's 待学校审核; the officer's candidate
matches), deals awaiting the university's answer, patents returned to an inventor, patents an
enterprise was asked to evaluate, unread notifications — and what arrived since the user last
opened a queue (``Item.new``: officers' new demands and intents, an enterprise's new
suggestions; revive.alerts.queries). One COUNT query each, run only when a
page shows it, cached for the request (``g``). A top layer: it reads every domain's queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, g, has_request_context, request
from flask_login import current_user

from revive.accounts.models import Role, User
from revive.alerts import queries as alert_queries
from revive.dashboard.activity import awaiting_clause
from revive.deals.models import Deal
from revive.deals.permissions import visible_deals_clause
from revive.demands.models import Demand, DemandStatus
from revive.evaluations import queries as evaluation_queries
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.inventory.permissions import visible_patents_clause
from revive.inventory.queries import review_scope
from revive.licensing import queries as licence_queries
from revive.matching.models import Match, MatchState
from revive.matching.queries import WEAK
from revive.notifications import queries as inbox


@dataclass(frozen=True)
class Item:
    endpoint: str
    label: str
    section: str | None = None  # a blueprint whose pages all mark this item current
    count: str | None = None  # key of nav_counts()
    hint: str = ""  # what the count counts (the badge's accessible name)
    new: str | None = None  # key of nav_counts(): what arrived since the user last looked
    new_hint: str = ""


@dataclass(frozen=True)
class Group:
    label: str
    items: tuple[Item, ...]


MENU: tuple[Group, ...] = (
    Group("数据看板", (Item("dashboard.home", "数据看板"),)),
    Group(
        "专利",
        (
            Item("inventory.list_patents", "专利盘点", count="returned", hint="件退回待修改"),
            Item("inventory.review_queue", "待我审核", count="patent_review", hint="件待审核"),
            Item("imports.upload", "批量导入", section="imports"),
        ),
    ),
    Group(
        "需求",
        (
            Item(
                "demands.list_demands",
                "企业需求",
                section="demands",
                new="demand_news",
                new_hint="条新需求",
            ),
            Item("pool.search", "专利库", section="pool"),
            # an enterprise's own requests, whatever demand they are on (an SME trial found
            # them only on each demand's page: the inbox and the deal board stay empty until
            # an officer acts)
            Item("pool.intents", "我的对接申请"),
            Item("demands.import_upload", "导入需求"),
        ),
    ),
    Group(
        "匹配",
        (
            Item(
                "review.queue",
                "匹配审核",
                count="match_review",
                hint="条候选待审核",
                new="new_intents",
                new_hint="件新的对接申请",
            ),
            Item("matching.engine", "匹配任务", section="matching"),
            Item("review.rejections", "否决统计"),
        ),
    ),
    Group(
        "对接",
        (
            Item("deals.board", "供需对接", section="deals", count="deal_answers", hint="项待答复"),
            Item("licensing.list_declarations", "开放许可", section="licensing"),
            Item(
                "licensing.applications_list",
                "许可实施申请",
                count="licence_applications",
                hint="件实施申请待确认",
            ),
        ),
    ),
    Group(
        "推广",
        (
            Item("evaluations.todo", "市场评价", count="evaluations", hint="件待评价"),
            Item("evaluations.promotion", "分层推广"),
            Item("pools.index", "产业专利池", section="pools"),
            Item("roadshows.roadshow_list", "路演推介", section="roadshows"),
            Item("evaluations.calibration", "评价校准"),
        ),
    ),
    Group(
        "管理",
        (
            Item("onboarding.institutions", "高校/科研院所", section="onboarding"),
            Item("settings.edit", "平台设置", section="settings"),
            Item("accounts.members", "成员管理"),
            Item("audit.log", "审计日志", section="audit"),
        ),
    ),
)


def item_label(item: Item, user: User) -> str:
    if item.endpoint == "demands.list_demands" and user.role == Role.ENTERPRISE:
        return "我的需求"
    return item.label


def item_new_hint(item: Item, user: User) -> str:
    if item.new == "demand_news" and user.role == Role.ENTERPRISE:
        return "件新推荐（含新专利提醒）"
    return item.new_hint


# ---------------------------------------------------------------------------- counts


def _count(stmt: sa.Select) -> int:
    return db.session.scalar(stmt) or 0


def _patent_review(user: User) -> int | None:
    scope = review_scope(user)
    if scope is None:
        return None
    return _count(sa.select(sa.func.count(Patent.id)).where(scope, visible_patents_clause(user)))


def _returned(user: User) -> int | None:
    if user.role != Role.INVENTOR:
        return None
    return _count(
        sa.select(sa.func.count(Patent.id)).where(
            visible_patents_clause(user), Patent.status == EntryStatus.RETURNED
        )
    )


def _match_review(user: User) -> int | None:
    if user.role not in (Role.OFFICER, Role.PLATFORM_ADMIN):
        return None
    # What the review queue lists: weak machine candidates (below the bar, shown on request)
    # are no backlog, and counting them made a badge of 195 for 14 items to review.
    return _count(
        sa.select(sa.func.count(Match.id))
        .join(Demand, Demand.id == Match.demand_id)
        .where(
            Match.state == MatchState.CANDIDATE,
            Demand.status == DemandStatus.OPEN,
            sa.not_(WEAK),
        )
    )


def _deal_answers(user: User) -> int | None:
    """Deals pushed to the user's university that it has not answered yet: open deals in any
    stage (an officer may record 已接洽 before the answer; the university still answers), as the
    overdue page and 今日待办 count them (``dashboard.activity.awaiting_clause``)."""
    if user.role not in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN):
        return None
    return _count(
        sa.select(sa.func.count(Deal.id)).where(visible_deals_clause(user), awaiting_clause())
    )


def _evaluations(user: User) -> int | None:
    if user.role != Role.ENTERPRISE or user.organization_id is None:
        return None
    return evaluation_queries.todo_count(user)


def _demand_news(user: User) -> int | None:
    """Officers: demands posted since they last opened the list; enterprises: suggestions (new
    entered patents' alerts among them) on their demands since they last opened theirs."""
    if user.role == Role.ENTERPRISE:
        return alert_queries.new_suggestions(user)
    return alert_queries.new_demands(user)


COUNTS: dict[str, Callable[[User], int | None]] = {
    "demand_news": _demand_news,
    "new_intents": alert_queries.new_intents,
    "licence_applications": licence_queries.awaiting_count,
    "patent_review": _patent_review,
    "returned": _returned,
    "match_review": _match_review,
    "deal_answers": _deal_answers,
    "evaluations": _evaluations,
    "unread": lambda user: inbox.unread_count(user),
}


class Counts:
    """The counts of the signed-in user, each computed on first use (one query), kept for the
    rest of the request."""

    def __init__(self, user: User) -> None:
        self._user = user
        self._values: dict[str, int | None] = {}

    def __getitem__(self, key: str) -> int | None:
        if key not in self._values:
            authenticated = self._user is not None and self._user.is_authenticated
            self._values[key] = COUNTS[key](self._user) if authenticated else None
        return self._values[key]

    def get(self, key: str | None) -> int | None:
        return self[key] if key else None


def nav_counts() -> Counts:
    """This request's counts (kept on ``g`` with the request they belong to: a test client
    may serve several requests in one app context)."""
    req = request._get_current_object() if has_request_context() else None
    cached = g.get("revive_nav_counts")
    if cached is None or cached[0] is not req:
        cached = g.revive_nav_counts = (req, Counts(current_user))
    return cached[1]


def register(app: Flask) -> None:
    app.add_template_global(MENU, "nav_menu")
    app.add_template_global(nav_counts, "nav_counts")
    app.add_template_global(item_label, "nav_label")
    app.add_template_global(item_new_hint, "nav_new_hint")
