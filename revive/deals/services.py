"""Pushing accepted matches to both sides (the start of 供需对接)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy.orm.exc import StaleDataError

from revive.accounts.models import User
from revive.audit import services as audit
from revive.db import utcnow
from revive.deals.models import Deal, DealEvent, Stage
from revive.errors import ConflictError, InvalidTransition, NotFoundError
from revive.extensions import db
from revive.matching import services as matching
from revive.matching.models import Match, MatchState
from revive.notifications import services as notifications
from revive.notifications.models import Notification


def decide(
    match_id: int,
    decision: MatchState | str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Match:
    """Accept (and push) or reject one candidate. Commits."""
    match = matching.apply_decision(
        match_id, decision, actor, reason_code, comment, expected_version
    )
    sent: list[Notification] = []
    if match.state == MatchState.ACCEPTED:
        sent = _push(match, actor)
    _commit()
    notifications.send_emails(sent)
    return match


def _commit() -> None:
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise ConflictError("该匹配结果已被他人处理，请刷新后查看") from None


def _push(match: Match, actor: User) -> list[Notification]:
    """Create the deal for an accepted match and notify the enterprise and the university."""
    now = utcnow()
    days = int(current_app.config.get("REVIVE_RESPONSE_DAYS", 7))
    deal = Deal(
        match=match,
        demand_id=match.demand_id,
        patent_id=match.patent_id,
        university_id=match.patent.institution_id,
        enterprise_id=match.demand.enterprise_id,
        officer_id=actor.id,
        stage=Stage.RECOMMENDED,
        stage_changed_at=now,
        pushed_at=now,
        response_due_at=now + timedelta(days=days),
    )
    db.session.add(deal)
    db.session.flush()
    db.session.add(
        DealEvent(deal_id=deal.id, actor_id=actor.id, to_stage=Stage.RECOMMENDED, kind="stage")
    )
    audit.record(
        "deal",
        deal.id,
        "push",
        actor,
        organization_id=deal.university_id,
        match_id=match.id,
        demand_id=match.demand_id,
        patent_id=match.patent_id,
    )
    link = url_for("deals.detail", deal_id=deal.id)
    patent, demand = match.patent, match.demand
    return [
        notifications.notify(
            "match_pushed",
            f"为您的需求“{demand.title}”推荐了专利：{patent.title}",
            organization_id=deal.enterprise_id,
            body=f"{patent.institution.name}的专利《{patent.title}》与您的需求相匹配，"
            "技术经理人已审核推荐。",
            link=link,
            deal_id=deal.id,
        ),
        notifications.notify(
            "match_pushed",
            f"企业需求“{demand.title}”匹配到贵校专利：{patent.title}",
            organization_id=deal.university_id,
            body=f"请在 {days} 天内（{deal.response_due_at:%Y-%m-%d} 前）答复是否愿意对接。",
            link=link,
            deal_id=deal.id,
        ),
    ]


def decide_many(
    match_ids: Sequence[int],
    decision: MatchState | str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
) -> dict[str, list]:
    """Bulk accept/reject: each match is decided in its own savepoint, so one that someone
    else already decided is reported and skipped, not fatal. Commits once."""
    done: list[int] = []
    skipped: list[tuple[int, str]] = []
    sent: list[Notification] = []
    for match_id in dict.fromkeys(match_ids):
        try:
            with db.session.begin_nested():
                match = matching.apply_decision(match_id, decision, actor, reason_code, comment)
                if match.state == MatchState.ACCEPTED:
                    sent.extend(_push(match, actor))
            done.append(match_id)
        except (ConflictError, InvalidTransition, NotFoundError) as exc:
            skipped.append((match_id, str(exc)))
    _commit()
    notifications.send_emails(sent)
    return {"done": done, "skipped": skipped}
