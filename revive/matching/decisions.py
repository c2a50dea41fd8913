"""A match decision on the matching side: an officer accepts or rejects a candidate (the
state, who and when, the reason, the audit row) in the caller's transaction.

The whole action — with the deal an acceptance creates and the commit — is
``revive.review.services.decide`` / ``decide_selected``; this is its matching half.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import User
from revive.audit import services as audit
from revive.clock import format_dt
from revive.common.fields import strip_invisible
from revive.db import lock_row, utcnow
from revive.demands.models import Demand, DemandStatus
from revive.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from revive.extensions import db
from revive.inventory import fees
from revive.inventory.models import EntryStatus, Patent
from revive.inventory.public import gone_status, gone_text
from revive.matching.models import Match, MatchState
from revive.matching.permissions import STAFF_ROLES
from revive.matching.reasons import REJECT_REASONS, reason_label

DECISIONS = {"accept": MatchState.ACCEPTED, "reject": MatchState.REJECTED}
DECIDED_ELSEWHERE = "该匹配结果已被他人处理，请刷新后查看"
# Still undecided, yet changed since the form was made: nobody handled it (a user was told
# 已被他人处理 when the enterprise had applied for the patent meanwhile).
CHANGED_SINCE = (
    "该候选在您打开页面后有了更新（如企业申请了对接、需求修改后重新匹配），"
    "尚未被审核：请刷新后查看再审核"
)
DEMAND_CLOSED = "需求已关闭，不能再审核它的候选匹配（企业不再征集；候选保留为记录）"


def decided_message(match: Match, actor: User) -> str:
    """What a stale decision form is told: who decided the pair, when and how ("您"
    when it was the same person: a double submit, a second window); while the pair is still
    a candidate, that it changed (an intent, a re-match) but nobody decided it."""
    if match.state == MatchState.CANDIDATE or match.decided_at is None:
        return CHANGED_SINCE
    who = (
        "您"
        if match.decided_by_id == actor.id
        else (match.decided_by.name if match.decided_by is not None else "他人")
    )
    when = format_dt(match.decided_at)
    reason = f"（{reason_label(match.reason_code)}）" if match.reason_code else ""
    verb = match.state.label.removeprefix("已")  # 已采纳 → "已由…于…采纳", not "…已采纳"
    return f"该匹配已由{who}于 {when} {verb}{reason}，无需重复审核"


def apply_decision(
    match_id: int,
    decision: MatchState | str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Match:
    """Validate and apply a decision in the current transaction (the caller commits)."""
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以审核匹配结果")
    match = db.session.get(Match, match_id)
    if match is None:
        raise NotFoundError("匹配结果不存在")
    state = DECISIONS.get(str(decision)) or _state(decision)
    if state not in (MatchState.ACCEPTED, MatchState.REJECTED):
        raise ValidationFailed("请选择“采纳”或“否决”")
    if expected_version is not None and expected_version != match.version:
        raise ConflictError(decided_message(match, actor))
    if match.state != MatchState.CANDIDATE:
        raise InvalidTransition(f"该匹配结果{match.state.label}，不能重复审核")
    check_demand_open(match.demand_id)
    if state == MatchState.ACCEPTED:
        check_patent_pushable(match.patent)
    comment = strip_invisible(comment or "") or None
    if comment and len(comment) > 2000:
        raise ValidationFailed("备注不能超过 2000 字")
    reason_code = (reason_code or "").strip() or None
    if state == MatchState.REJECTED:
        if reason_code not in REJECT_REASONS:
            raise ValidationFailed("否决时请选择原因")
        if reason_code == "other" and not comment:
            raise ValidationFailed("选择“其他”原因时请填写说明")
    else:
        reason_code = None
    match.state, match.decided_by_id, match.decided_at = state, actor.id, utcnow()
    match.reason_code = reason_code
    match.comment = comment
    audit.record(
        "match",
        match.id,
        state.value,
        actor,
        demand_id=match.demand_id,
        patent_id=match.patent_id,
        reason=reason_code,
        comment=comment,
    )
    return match


def check_demand_open(demand_id: int) -> None:
    """Refuse deciding a closed demand's candidates (a stale queue tab, the API): neither a
    push nor a rejection — the enterprise no longer looks, and a rejection would count in the
    statistics and the strength model's training. The demand's row is held first, as a
    push holds it, so a decision and the demand's closing run one after the other."""
    lock_row(Demand, demand_id)
    status = db.session.scalar(sa.select(Demand.status).where(Demand.id == demand_id))
    if status != DemandStatus.OPEN:
        raise InvalidTransition(DEMAND_CLOSED)


def check_patent_pushable(patent: Patent) -> None:
    """Refuse adopting a candidate whose patent can no longer be transferred: its right left
    the university (a tester adopted a candidate proposed before the patent was assigned, and
    both sides were asked to answer), or its term has ended."""
    # Held until the decision commits, and read afresh: a school's 撤回重审 committed while
    # the officer's page was open had still been adopted, and both sides were asked to act.
    lock_row(Patent, patent.id)
    db.session.refresh(patent)
    if patent.status != EntryStatus.ENTERED:
        raise InvalidTransition(
            f"该专利当前为「{patent.status.label}」，已不在可转化专利资源库中（学校撤回重审或"
            "退回），不能推荐给企业；请否决此候选（原因选「其他」并注明）"
        )
    gone = gone_status(patent)
    if gone is not None:
        raise InvalidTransition(
            f"该专利{gone_text(gone)}（实施状态：{gone.label}），专利权已不属于本单位，"
            "不能再推荐给企业；请否决此候选（原因选「其他」并注明）"
        )
    ended = fees.expired_on(patent)
    if ended is not None:
        raise InvalidTransition(
            f"该专利保护期已于 {ended.isoformat()} 届满（按申请日计算），不能再推荐给企业；"
            "请否决此候选"
        )


def _state(value: MatchState | str) -> MatchState | None:
    try:
        return MatchState(value)
    except ValueError:
        return None
