"""A match decision — the one service for it (the review queue, the match page, the API and the
demo all come here): an officer accepts a candidate, which pushes it to both sides as a deal,
or rejects it with a reason.

``decide`` takes one match, ``decide_selected`` the ticked ones; both are built on ``_decide``:
the matching half (``revive.matching.decisions.apply_decision``: validation, state, audit row)
and, on acceptance, the deal (``revive.deals.services.push``: deal, event, audit, the two
notifications), in one transaction, e-mails after the commit (a bulk decision's notices: one
e-mail per person listing them, notifications.one_email_each). The direction is review →
matching, review → deals; neither of those imports this.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from revive.accounts.models import User
from revive.db import savepoint
from revive.deals import services as deal_services
from revive.errors import ConflictError, DomainError, InvalidTransition, NotFoundError
from revive.extensions import db
from revive.locking import conflict_on_stale
from revive.matching.decisions import DECIDED_ELSEWHERE, apply_decision
from revive.matching.models import Match, MatchState
from revive.notifications import services as notifications
from revive.notifications.models import Notification
from revive.selection import selected_ids

STALE_MATCH = DECIDED_ELSEWHERE
# A candidate gone from the table: the engine drops undecided candidates when a run re-ranks
# the demand and when the demand is closed.
GONE = "该候选匹配已不存在（可能已被重新匹配移出前列，或需求已关闭），请刷新队列"
# What a bulk decision's one e-mail per person says was done (notifications.one_email_each).
BULK_PUSHED = "技术经理人推送了专利对接"
BULK_DECLINED = "技术经理人审核了您的对接申请"


def _decide(
    match_id: int,
    decision: MatchState | str,
    actor: User,
    reason_code: str | None,
    comment: str | None,
    expected_version: int | None = None,
) -> tuple[Match, list[Notification]]:
    """Decide one match in the caller's transaction; an acceptance creates its deal. Returns
    the match and the notifications to e-mail after the commit. No commit."""
    match = apply_decision(match_id, decision, actor, reason_code, comment, expected_version)
    sent: list[Notification] = []
    if match.state == MatchState.ACCEPTED:
        sent = deal_services.push(match, actor, comment)
    elif match.intent_at is not None:
        sent = [_intent_declined(match)]
    return match, sent


def _intent_declined(match: Match) -> Notification:
    """The enterprise asked for this introduction (申请对接) and an officer did not take it up:
    it is told, as it is told of a push (a tester's rejected request left its inbox silent).
    The reason stays with the officers, as on the pool's 我的对接申请 page."""
    return notifications.notify(
        "intent_declined",
        f"对接申请未被采纳：{match.patent.title}",
        organization_id=match.demand.enterprise_id,
        body=(
            f"技术经理人审核后，暂未将该专利推荐给您的需求「{match.demand.title}」。"
            "您可以继续在成果库中查找，或在需求页补充技术细节后再申请。"
        ),
        link=notifications.app_link("demands.detail", demand_id=match.demand_id),
    )


@conflict_on_stale(STALE_MATCH)
def decide(
    match_id: int,
    decision: MatchState | str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Match:
    """Accept (and push) or reject one candidate. Commits."""
    match, sent = _decide(match_id, decision, actor, reason_code, comment, expected_version)
    db.session.commit()
    notifications.send_emails(sent)
    return match


@conflict_on_stale(STALE_MATCH)
def decide_selected(
    match_ids: Iterable[Any],
    decision: MatchState | str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
) -> dict[str, list]:
    """Accept (and push) or reject the selected candidates (form values or JSON ids, checked
    by revive.selection). Each is decided in its own savepoint, so one someone else already
    decided, or that is gone, is skipped with the reason, not fatal; a refusal that holds for
    the whole batch (e.g. rejecting without a reason) raises and keeps nothing of it.
    Returns {"done": [id…], "skipped": [(id, message)…]}. Commits once."""
    ids = selected_ids(match_ids, empty="请先勾选要处理的候选匹配", noun="匹配编号")
    done: list[int] = []
    skipped: list[tuple[int, str]] = []
    sent: list[Notification] = []
    try:
        for match_id in ids:
            try:
                with savepoint():
                    sent.extend(_decide(match_id, decision, actor, reason_code, comment)[1])
                done.append(match_id)
            except NotFoundError:
                skipped.append((match_id, GONE))
            except (ConflictError, InvalidTransition) as exc:
                skipped.append((match_id, str(exc)))
            except StaleDataError:  # decided by someone else after we read it
                skipped.append((match_id, STALE_MATCH))
    except DomainError:
        # e.g. rejecting without a reason: nothing of this batch may stay in the session.
        db.session.rollback()
        raise
    # One e-mail per person for the whole batch (an enterprise or a university pushed twenty
    # deals got twenty e-mails); the inbox keeps its notice per deal.
    pushed = any(n.kind == "match_pushed" for n in sent)
    notifications.one_email_each(sent, BULK_PUSHED if pushed else BULK_DECLINED)
    db.session.commit()
    notifications.send_emails(sent)
    return {"done": done, "skipped": skipped}
