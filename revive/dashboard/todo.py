"""今日待办: what a user has to act on, first on their home page (``todo_for``).

An officer's first page was the inventory funnel; the day's work was spread over a menu badge,
one card among the KPIs and another tab (officer trial). A university's tech-transfer director
and a college admin pieced theirs together from menu badges (provincial trial). Each item here
is a count with what it is out of, the oldest case's age where age is what makes it urgent, and
a link to the page where the work is done. Nothing here is new data: the same queries as the
badges, the review queue, the overdue page, the unmet-demand page and the deals board, each
scoped by its domain's permissions module.

- officer, platform admin (``officer_todo``): machine candidates to review, overdue answers,
  stalled deals, unmet demands;
- university admin, college admin (``admin_todo``): patents waiting for their review (学院审核
  for a college admin; 学校审核, and the college reviews nobody else can pick up, for a
  university admin), deals awaiting their answer and how many of them are overdue, open-licence
  applications awaiting confirmation, and the patents of their scope not submitted (退回, 草稿).

Every item is one aggregate statement, whatever the data (no query per patent or deal).
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
from revive.inventory.models import EntryStatus, Patent
from revive.inventory.permissions import visible_patents_clause
from revive.inventory.queries import review_scope
from revive.licensing import queries as licence_queries
from revive.licensing.models import ApplicationStatus
from revive.matching.models import Match, MatchState
from revive.matching.queries import WEAK
from revive.templating import format_rate

OFFICER_TODO_ROLES = frozenset({Role.OFFICER, Role.PLATFORM_ADMIN})
ADMIN_TODO_ROLES = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN})
TODO_ROLES = OFFICER_TODO_ROLES | ADMIN_TODO_ROLES  # who has a 今日待办
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


def todo_for(user: User) -> list[Todo]:
    """The user's 今日待办 items, in the order to work them ([] for roles without one)."""
    if user.role in OFFICER_TODO_ROLES:
        return officer_todo(user)
    if user.role in ADMIN_TODO_ROLES:
        return admin_todo(user)
    return []


def nothing_due(items: list[Todo]) -> bool:
    """Every item is 0: the page says so instead of listing zeros."""
    return all(t.count == 0 for t in items)


def officer_todo(user: User) -> list[Todo]:
    """The officer's (or platform admin's) to-do items, in the order to work them."""
    if user.role not in OFFICER_TODO_ROLES:
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


# ---------------------------------------------------------------------------- university side


def _unit(user: User) -> str:
    return "本学院" if user.role == Role.COLLEGE_ADMIN else "本校"


def admin_todo(user: User) -> list[Todo]:
    """The university admin's (or college admin's) to-do items, in the order to work them."""
    if user.role not in ADMIN_TODO_ROLES:
        return []
    return [
        _review_item(user),
        _answers_item(user),
        _licence_item(user),
        *_unsubmitted_items(user),
    ]


def _review_item(user: User) -> Todo:
    """The reviewer's queue (``inventory.queries.review_scope``, as the queue and its badge)."""
    scope = review_scope(user)
    waiting, at_college, oldest = db.session.execute(
        sa.select(
            sa.func.count(Patent.id),
            sa.func.count(sa.case((Patent.status == EntryStatus.PENDING_COLLEGE, Patent.id))),
            sa.func.min(Patent.status_changed_at),
        ).where(visible_patents_clause(user), scope if scope is not None else sa.false())
    ).one()
    if user.role == Role.COLLEGE_ADMIN:
        label, parts = "待学院审核的专利", [f"本学院提交、等待学院审核的 {waiting} 件"]
    else:
        label = "待我审核的专利"
        parts = [f"待学校审核 {waiting - at_college} 件"]
        if at_college:
            parts.append(f"待学院审核 {at_college} 件（未指定学院或学院没有管理员，由学校审核）")
    note = "，".join(parts) + (f"；最早的已等待 {_days(oldest)} 天" if waiting else "")
    return Todo(
        "patent_review",
        label,
        int(waiting),
        note,
        url_for("inventory.review_queue"),
        urgent=bool(waiting),
    )


def _answers_item(user: User) -> Todo:
    """Deals awaiting the university's answer and the overdue among them: the overdue page's
    figures (``activity.overdue_counts``) over the deals the user may see and answer."""
    awaiting, overdue = activity.overdue_counts(visible_deals_clause(user))
    if awaiting:
        note = (
            f"推送给{_unit(user)}专利、尚未答复的对接；其中逾期未答复 {overdue} 个"
            f"（逾期数 / 待答复数：{format_rate(overdue, awaiting)}）"
        )
    else:
        note = f"推送给{_unit(user)}专利的对接都已答复"
    return Todo(
        "answers",
        "待答复的对接",
        awaiting,
        note,
        # the board's list of exactly these deals (it had linked to the overdue ones only,
        # or to the whole board: a trial)
        url_for("deals.board", awaiting=1),
        urgent=bool(overdue),
    )


def _licence_item(user: User) -> Todo:
    """Open-licence applications awaiting the holder (the menu's count)."""
    waiting = licence_queries.awaiting_count(user) or 0
    return Todo(
        "licences",
        "待确认的开放许可实施申请",
        waiting,
        f"企业就{_unit(user)}专利的开放许可声明提交，等待确认或登记签订",
        url_for("licensing.applications_list", status=ApplicationStatus.SUBMITTED.value),
        urgent=bool(waiting),
    )


def _unsubmitted_items(user: User) -> list[Todo]:
    """Returned and draft patents of the user's scope, out of all its patents (one statement)."""
    returned = Patent.status == EntryStatus.RETURNED
    draft = Patent.status == EntryStatus.DRAFT
    total, n_returned, returned_at, n_draft, draft_at = db.session.execute(
        sa.select(
            sa.func.count(Patent.id),
            sa.func.count(sa.case((returned, Patent.id))),
            sa.func.min(sa.case((returned, Patent.status_changed_at))),
            sa.func.count(sa.case((draft, Patent.id))),
            sa.func.min(sa.case((draft, Patent.status_changed_at))),
        ).where(visible_patents_clause(user))
    ).one()
    of = f"{_unit(user)}盘点的 {total} 件专利中"
    return [
        Todo(
            "returned",
            "退回待修改的专利",
            int(n_returned),
            of
            + (f"；最早的已退回 {_days(returned_at)} 天，修改后重新提交审核" if n_returned else ""),
            url_for("inventory.list_patents", status=EntryStatus.RETURNED.value),
        ),
        Todo(
            "drafts",
            "未提交审核的草稿",
            int(n_draft),
            of + (f"；最早的已 {_days(draft_at)} 天未提交" if n_draft else ""),
            url_for("inventory.list_patents", status=EntryStatus.DRAFT.value),
        ),
    ]
