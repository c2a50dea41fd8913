"""Notices of the inventory review (盘点建档 → 学院审核 → 学校审核):

- the inventors of a patent (its linked inventor accounts) are told when it is 退回 (with the
  reviewer's comment), 入库, 不入库 or 建议放弃 — added inside the transaction of the move
  (``notify_inventors``, the receiver of ``signals.patent_transitioned``), so the notice and the
  move commit together; a batch (``notify_batch``, from ``perform_batch``) tells each person
  once, listing their patents;
- reviewers get one digest a day of the patents that arrived in their queue since their last
  digest and still wait there (``send_review_digests``, an hourly beat task that sends each
  reviewer at most one a local day, from REVIVE_DIGEST_HOUR on) — not one message per patent.
  Who reviews what is ``inventory.queries.review_scope``: college admins 待学院审核 of their
  college, university admins 待学校审核 of their university (and 待学院审核 without a college).

Texts speak from the notice's own moment (its created_at), in local time (revive.clock).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from revive import clock
from revive.accounts.models import Role, User
from revive.db import utcnow
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, StatusChange
from revive.inventory.permissions import visible_patents_clause
from revive.inventory.queries import review_scope
from revive.notifications.models import Notification
from revive.notifications.services import app_link, notify, send_emails

logger = logging.getLogger(__name__)

DIGEST_KIND = "review_digest"
DIGEST_LOOKBACK = timedelta(days=7)  # a reviewer's first digest (or after a long pause)
DIGEST_LISTED = 20  # patents named in one digest; the rest are counted


@dataclass(frozen=True)
class Outcome:
    kind: str
    title: str  # {title}: the patent's title
    detail: str  # {who}, {comment}: after the 申请号 alone, or above a batch's list of patents
    many: str = ""  # a batch's title: {owner} (您的 / 本学院的 / nothing), {n}


OUTCOMES: dict[str, Outcome] = {
    "college_return": Outcome(
        "patent_returned",
        "您的专利《{title}》被学院退回，请修改后重新提交",
        "{who}退回，意见：{comment}",
        "{owner}{n} 件专利被学院退回，请修改后重新提交",
    ),
    "school_return": Outcome(
        "patent_returned",
        "您的专利《{title}》被学校退回，请修改后重新提交",
        "{who}退回，意见：{comment}",
        "{owner}{n} 件专利被学校退回，请修改后重新提交",
    ),
    "reopen": Outcome(
        "patent_returned",
        "学校撤回了对您的专利《{title}》的审核结论，已退回修改",
        "{who}撤回重审，意见：{comment}",
        "学校撤回了对{owner}{n} 件专利的审核结论，已退回修改",
    ),
    "enter": Outcome(
        "patent_entered",
        "您的专利《{title}》已登记入库",
        "{who}审核通过，已进入可转化专利资源库，将面向企业推广。",
        "{owner}{n} 件专利已登记入库",
    ),
    "not_enter": Outcome(
        "patent_not_entered",
        "您的专利《{title}》未予入库",
        "{who}决定不入库，原因：{comment}",
        "{owner}{n} 件专利未予入库",
    ),
    "abandon": Outcome(
        "patent_abandon",
        "学校建议放弃您的专利《{title}》",
        "{who}建议放弃（不再维持），原因：{comment}",
        "学校建议放弃{owner}{n} 件专利",
    ),
}


# The school's decisions the patent's college hears of too: its admin filed or passed the
# patent and fixes what is returned (a tester's college admin heard nothing of 学校退回).
COLLEGE_TITLES = {
    "school_return": "学校退回了本学院的专利《{title}》，请修改后重新提交",
    "reopen": "学校撤回了本学院专利《{title}》的审核结论，已退回修改",
    "not_enter": "本学院的专利《{title}》未予入库",
    "abandon": "学校建议放弃本学院的专利《{title}》",
}


def _recipients(
    patent: Patent,
    action: str,
    actor: User | None,
    college_admins: Callable[[int], list[User]] | None = None,
) -> list[tuple[User, str]]:
    """Who hears of ``action`` on ``patent`` and as whom: ("inventor", the linked inventor
    accounts) or ("college", its college's admins, of the school's decisions) — never the actor,
    never twice. ``college_admins``: how to read a college's admins (a batch reads each
    college once)."""
    college_admins = college_admins or _college_admins
    told = {actor.id} if actor is not None else set()
    out: list[tuple[User, str]] = []
    for u in patent.inventor_users:
        if u.id not in told:
            told.add(u.id)
            out.append((u, "inventor"))
    if action in COLLEGE_TITLES and patent.college_id is not None:
        for u in college_admins(patent.college_id):
            if u.id not in told:
                told.add(u.id)
                out.append((u, "college"))
    return out


def _who(actor: User | None) -> str:
    return f"{actor.name}（{actor.role.label}）" if actor is not None else "系统"


def notify_inventors(
    patent: Patent, action: str, actor: User | None, comment: str | None, at: datetime
) -> list[Notification]:
    """Tell the patent's inventor accounts of a review outcome, and its college's admins of the
    school's (no commit; e-mails go after the commit). Other moves (submit, college approval,
    …) tell them nothing."""
    outcome = OUTCOMES.get(action)
    if outcome is None:
        return []
    rows = [
        _single(outcome, action, patent, as_whom, user, _who(actor), comment, at)
        for user, as_whom in _recipients(patent, action, actor)
    ]
    if rows:
        send_emails(rows, after_commit=True)
    return rows


def _single(
    outcome: Outcome,
    action: str,
    patent: Patent,
    as_whom: str,
    user: User,
    who: str,
    comment: str | None,
    at: datetime,
) -> Notification:
    template = COLLEGE_TITLES[action] if as_whom == "college" else outcome.title
    return notify(
        outcome.kind,
        template.format(title=patent.title),
        user_id=user.id,
        body=f"申请号 {patent.application_no}。"
        + outcome.detail.format(who=who, comment=comment or "—"),
        link=app_link("inventory.detail", patent_id=patent.id),
        created_at=at,
    )


def notify_batch(
    patents: list[Patent], action: str, actor: User | None, comment: str | None, at: datetime
) -> list[Notification]:
    """A batch's notices (``inventory.services.perform_batch``): one per person, whatever the
    number of their patents in it — a school's 入库 of 500 patents had sent their college admin
    500 messages. A person with one patent in the batch reads the single notice
    ``notify_inventors`` would send. No commit; e-mails go after the commit."""
    outcome = OUTCOMES.get(action)
    if outcome is None or not patents:
        return []
    who = _who(actor)
    admins_of = functools.cache(_college_admins)  # a batch is mostly of one or two colleges
    heard: dict[int, tuple[User, list[tuple[Patent, str]]]] = {}
    for patent in patents:
        for user, as_whom in _recipients(patent, action, actor, admins_of):
            heard.setdefault(user.id, (user, []))[1].append((patent, as_whom))
    rows = []
    for user, items in heard.values():
        if len(items) == 1:
            patent, as_whom = items[0]
            rows.append(_single(outcome, action, patent, as_whom, user, who, comment, at))
            continue
        roles = {as_whom for _, as_whom in items}
        owner = {"inventor": "您的", "college": "本学院的"}[roles.pop()] if len(roles) == 1 else ""
        lines = [outcome.detail.format(who=who, comment=comment or "—")]
        lines += [f"· {p.application_no}《{p.title}》" for p, _ in items[:DIGEST_LISTED]]
        if len(items) > DIGEST_LISTED:
            lines.append(f"……另有 {len(items) - DIGEST_LISTED} 件")
        rows.append(
            notify(
                outcome.kind,
                outcome.many.format(owner=owner, n=f" {len(items)}").strip(),
                user_id=user.id,
                body="\n".join(lines),
                link=app_link("inventory.list_patents", status=items[0][0].status.value),
                created_at=at,
            )
        )
    if rows:
        send_emails(rows, after_commit=True)
    return rows


def _college_admins(college_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(
                User.role == Role.COLLEGE_ADMIN,
                User.college_id == college_id,
                User.is_active_flag.is_(True),
            )
        )
    )


# ---------------------------------------------------------------------------- digest


def _reviewers(institution_ids: set[int]) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.is_active_flag.is_(True),
                User.organization_id.in_(institution_ids),
                sa.or_(
                    User.role == Role.UNIVERSITY_ADMIN,
                    sa.and_(User.role == Role.COLLEGE_ADMIN, User.college_id.is_not(None)),
                ),
            )
            .order_by(User.id)
        )
    )


def _last_digests() -> dict[int, datetime]:
    return dict(
        db.session.execute(
            sa.select(Notification.user_id, sa.func.max(Notification.created_at))
            .where(Notification.kind == DIGEST_KIND, Notification.user_id.is_not(None))
            .group_by(Notification.user_id)
        ).all()
    )


def _arrived(since: datetime, now: datetime) -> sa.ColumnElement[bool]:
    """Patents that entered the review status they are still in between the two moments."""
    moved_in = sa.select(StatusChange.patent_id).where(
        StatusChange.patent_id == Patent.id,
        StatusChange.to_status == Patent.status,
        StatusChange.created_at > since,
        StatusChange.created_at <= now,
    )
    return sa.exists(moved_in)


def _digest(reviewer: User, since: datetime, now: datetime) -> Notification | None:
    scope = review_scope(reviewer)
    if scope is None:
        return None
    where = [scope, visible_patents_clause(reviewer), _arrived(since, now)]
    arrived = db.session.execute(
        sa.select(Patent.application_no, Patent.title)
        .where(*where)
        .order_by(Patent.status_changed_at, Patent.id)
        .limit(DIGEST_LISTED)
    ).all()
    if not arrived:
        return None
    count = db.session.scalar(sa.select(sa.func.count(Patent.id)).where(*where)) or 0
    waiting = (
        db.session.scalar(
            sa.select(sa.func.count(Patent.id)).where(scope, visible_patents_clause(reviewer))
        )
        or 0
    )
    level = "学院" if reviewer.role == Role.COLLEGE_ADMIN else "学校"
    lines = [f"自 {clock.format_dt(since)} 以来新提交、等待{level}审核的专利 {count} 件："]
    lines += [f"· {appno}《{title}》" for appno, title in arrived]
    if count > len(arrived):
        lines.append(f"……另有 {count - len(arrived)} 件")
    at = f"{clock.zone_label()} {clock.format_dt(now)}"
    lines.append(f"截至 {at}，共有 {waiting} 件专利等待您审核。")
    return notify(
        DIGEST_KIND,
        f"待{level}审核：新到 {count} 件专利（{clock.format_date(now)} 汇总）",
        user_id=reviewer.id,
        body="\n".join(lines),
        link=app_link("inventory.review_queue"),
        created_at=now,
    )


def send_review_digests(now: datetime | None = None) -> int:
    """Send the day's digest to every reviewer who has new arrivals and none yet today (local
    day), once the local hour has reached REVIVE_DIGEST_HOUR. Safe to run hourly and twice.
    Commits; returns the number sent."""
    now = now or utcnow()
    if clock.to_local(now).hour < int(current_app.config.get("REVIVE_DIGEST_HOUR", 8)):
        return 0
    earliest = now - DIGEST_LOOKBACK
    institutions = set(
        db.session.scalars(
            sa.select(Patent.institution_id)
            .where(
                Patent.status.in_((EntryStatus.PENDING_COLLEGE, EntryStatus.PENDING_SCHOOL)),
                _arrived(earliest, now),
            )
            .distinct()
        )
    )
    if not institutions:
        return 0
    last = _last_digests()
    today = clock.local_date(now)
    sent: list[Notification] = []
    for reviewer in _reviewers(institutions):
        previous = last.get(reviewer.id)
        if previous is not None and clock.local_date(previous) >= today:
            continue  # one a day
        since = max(clock.as_utc(previous), earliest) if previous is not None else earliest
        digest = _digest(reviewer, since, now)
        if digest is not None:
            sent.append(digest)
    db.session.commit()
    send_emails(sent)
    if sent:
        logger.info("Sent %d review digest(s)", len(sent))
    return len(sent)
