"""Candidates people add beside the engine's proposals, into the same review pipeline.

    submit_intent       an enterprise asks for an introduction to an entered patent (申请对接)
                        for one of its open demands — or a minimal demand made on the spot
    add_candidate       an officer adds an entered patent to a demand by hand, with a note
    assess_pair         the engine's assessment of one (demand, patent) pair, when the index
                        is loaded (strength, tier, reasons, sub-need); else none (人工添加)

Both end as a ``Match`` in state 待审核 that officers decide like any other (accept → push →
deal; reject with a reason). ``Match.source`` says who brought the pair ("intent" /
"officer"); a pair that already exists keeps its row and gets the intent (message, time,
who) or the officer's note attached, so there is never a second row for one pair (unique
(demand, patent)). Re-running the matcher refreshes the assessment of such rows but never
drops them (matching.runs._store_results drops only machine candidates).

Decisions:

- An intent needs a demand: the pipeline, the deal and every figure are per (demand, patent).
  The enterprise picks one of its open demands, or names a new one on the patent page: the
  minimal demand is posted through demands.services.post_demand (title as given, prefilled
  from the patent; description = the intent's message), so it is matched like any posting.
- A pair already pushed cannot be asked for again (the deal exists: the page links it); a
  pair an officer declined is not reopened by an intent (the enterprise sees declined pairs
  as a count only, never the reason) — it may pick or create another demand.
- The message is required (what the company wants to know or do) and capped at
  INTENT_MESSAGE_MAX characters; the officer's note at NOTE_MAX (as decision comments).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from revive import engine, signals
from revive.accounts.models import Organization, Role, User
from revive.audit import services as audit
from revive.audit.models import AuditEvent
from revive.common.links import refuse_links
from revive.db import RACED, as_utc, lock_row, retried, utcnow
from revive.demands import services as demand_services
from revive.demands.models import Demand, DemandStatus
from revive.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    RateLimited,
    ValidationFailed,
)
from revive.extensions import db
from revive.inventory.models import Patent
from revive.inventory.public import is_public
from revive.matching import holds, indexes, runs, tokens
from revive.matching.models import Match, MatchSource, MatchState
from revive.matching.permissions import STAFF_ROLES
from revive.notifications import services as notifications
from revive.ratelimit import check_hourly

INTENT_MESSAGE_MAX = 1000
NOTE_MAX = 2000
DEMAND_TITLE_MAX = 300
STALE = "该候选已被他人处理，请刷新后重试"


# ---------------------------------------------------------------------------- assessment


def assess_pair(demand: Demand, patent_id: int) -> dict[str, Any] | None:
    """Features, strength, tier, sub-need and reasons of one pair as a run would store them,
    from the active index and strength model; None without an index, when the patent is not
    in it, or when the two texts share no word (then nothing is claimed: 人工添加)."""
    loaded = indexes.load_active_index()
    if loaded is None:
        return None
    build, index = loaded
    if not len(index.positions([patent_id])):
        return None
    assessor = runs.assessor_for(build, index)
    (result,) = engine.match_demands(
        index,
        assessor.chars,
        assessor.model,
        [(demand.id, demand.title, tokens.demand_text(demand))],
        texts_of=tokens.texts_of,
        top_k=1,
        min_score=0.0,
        allowed=[{patent_id}],
        bar=assessor.bar,
        strong=assessor.strong,
    )
    if not result.proposals:
        return None
    values = runs.proposal_values(result.proposals[0], 1, assessor)
    values["rank"] = None  # not a place in the engine's ranking
    values["index_version"] = build.id
    return values


def _new_match(demand: Demand, patent: Patent, source: MatchSource) -> Match:
    m = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        state=MatchState.CANDIDATE,
        source=source,
        score=0.0,
        terms=[],
        reasons=[],
    )
    values = assess_pair(demand, patent.id)
    if values:
        for key, value in values.items():
            setattr(m, key, value)
    m.trl_below_expectation = bool(
        demand.expected_trl and patent.trl is not None and patent.trl < demand.expected_trl
    )
    db.session.add(m)
    return m


def _pair(demand_id: int, patent_id: int) -> Match | None:
    return db.session.scalar(
        sa.select(Match).where(Match.demand_id == demand_id, Match.patent_id == patent_id)
    )


def _text(raw: Any, *, label: str, limit: int, required: bool, key: str) -> str | None:
    if raw is not None and not isinstance(raw, str):
        raise ValidationFailed(f"{label}须为文字", details={key: "须为文字"})
    text = (raw or "").replace("\x00", "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{label}", details={key: f"请填写{label}"})
    if len(text) > limit:
        raise ValidationFailed(
            f"{label}不能超过 {limit} 字（当前 {len(text)} 字）", details={key: f"最多 {limit} 字"}
        )
    return text or None


def _open_demand_for_staff(actor: User, demand_id: int, *, refused: str, closed: str) -> Demand:
    """The open demand an officer (or the platform admin) acts on: PermissionDenied for other
    roles (``refused`` names the act), NotFoundError, InvalidTransition(``closed``) when closed."""
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied(f"只有技术经理人或平台管理员可以{refused}")
    demand = db.session.get(Demand, demand_id)
    if demand is None:
        raise NotFoundError("需求不存在")
    if demand.status != DemandStatus.OPEN:
        raise InvalidTransition(closed)
    return demand


def _public_patent(patent_id: Any) -> Patent:
    patent = db.session.get(Patent, patent_id) if isinstance(patent_id, int) else None
    if patent is None or not is_public(patent):
        raise NotFoundError("专利不存在或尚未入库")
    return patent


# ---------------------------------------------------------------------------- intents


def default_demand_title(patent: Patent) -> str:
    """The title a minimal demand made from a patent page starts with."""
    return f"引进“{patent.title}”相关技术"[:DEMAND_TITLE_MAX]


# 申请对接 and 申请实施开放许可 (revive.licensing.applications) share one hourly budget per
# enterprise, REVIVE_INTENTS_PER_HOUR: each notifies and e-mails other people with the
# enterprise's own text. Counted, as open-licence applications always were, on a row each
# request leaves behind for good: its audit event, written in the request's own transaction.
# A withdrawn intent's match row is deleted (or its intent cleared), so counting live matches
# let a security review send 40 intents in an hour by withdrawing each one after sending it.
ASKING = (("match", "intent"), ("licence_application", "apply"))
ASKING_HINT = "（申请对接与申请实施开放许可共用这一额度，撤回的申请也计入）"


def check_asking_budget(actor: User, what: str) -> None:
    """RateLimited (429) once the actor's enterprise sent REVIVE_INTENTS_PER_HOUR intents and
    open-licence applications, withdrawn ones included, in the last hour; ``what`` names the
    action refused.

    The enterprise's row is locked first (revive.db.lock_row) and held until the commit, so
    requests arriving together count one after the other: call it in the transaction that
    writes the request's audit event (60 requests at once let 35 through a cap of 30 when
    nothing was locked). Refused: rolled back, which lets the lock go."""
    lock_row(Organization, actor.organization_id)
    try:
        _count_asking(actor, what)
    except RateLimited:
        db.session.rollback()
        raise


def _count_asking(actor: User, what: str) -> None:
    check_hourly(
        sa.select(sa.func.count(AuditEvent.id))
        .join(User, User.id == AuditEvent.actor_id)
        .where(
            User.organization_id == actor.organization_id,
            sa.or_(*(sa.and_(AuditEvent.entity == e, AuditEvent.action == a) for e, a in ASKING)),
        ),
        AuditEvent.created_at,
        "REVIVE_INTENTS_PER_HOUR",
        what,
        ASKING_HINT,
    )


def submit_intent(
    actor: User,
    patent_id: int,
    message: Any,
    *,
    demand_id: int | None = None,
    new_demand_title: Any = None,
) -> Match:
    """An enterprise asks for an introduction to an entered patent for one of its open demands
    (``demand_id``) or a new minimal one (``new_demand_title``). Creates the candidate
    (source "intent") or attaches the intent to the existing pair. Commits; audited."""
    if actor.role != Role.ENTERPRISE or actor.organization_id is None:
        raise PermissionDenied("只有企业用户可以申请对接")
    patent = _public_patent(patent_id)
    check_asking_budget(actor, "申请对接")  # early: no new demand when over the budget
    text = _text(message, label="对接说明", limit=INTENT_MESSAGE_MAX, required=True, key="message")
    # quoted in the officers' notices and, once pushed, the university's notice and e-mail
    refuse_links([("message", "对接说明", text)])
    if demand_id is not None:
        demand = db.session.get(Demand, demand_id) if isinstance(demand_id, int) else None
        if demand is None or demand.enterprise_id != actor.organization_id:
            raise NotFoundError("需求不存在或您无权查看")
        if demand.status != DemandStatus.OPEN:
            raise InvalidTransition("该需求已关闭，请选择其他需求或新建需求")
        _check_pair(_pair(demand.id, patent.id))
    elif new_demand_title is None:
        raise ValidationFailed(
            "请选择一条需求，或新建需求", details={"demand_id": "请选择需求或新建需求"}
        )
    else:
        title = _text(
            new_demand_title,
            label="需求名称",
            limit=DEMAND_TITLE_MAX,
            required=True,
            key="new_demand_title",
        )
        # the new demand's title: quoted in notices and e-mails (demands.fields refuses it
        # too, under the key "title", which this form does not have)
        refuse_links([("new_demand_title", "需求名称", title)])
        _check_not_asked(actor.organization_id, patent.id, title)
        try:
            demand = demand_services.post_demand(
                {"title": title, "description": text, **demand_services.contact_of(actor)},
                actor=actor,
            )
        except demand_services.DuplicateDemand as same:
            # The same request sent twice at once (a double click): post_demand serialises
            # on the enterprise and the second finds the first's demand; the intent goes to
            # that demand, where attach() finds it already asked (a concurrency test had
            # two demands with two intents). The same title and text asking for another
            # patent joins the same demand.
            demand = db.session.get(Demand, same.demand_id)
    held = _held_refusal(patent.id, demand.enterprise_id, officer=False)
    if held:
        raise InvalidTransition(held)
    ids = (demand.id, demand.enterprise_id, patent.id)

    def attach() -> Match:
        demand_id, enterprise_id, pid = ids
        # counted again under the lock, in this transaction: post_demand committed (and let
        # the lock go) since the first count
        check_asking_budget(actor, "申请对接")
        match = _pair(demand_id, pid)
        _check_pair(match)
        if match is None:
            match = _new_match(
                db.session.get(Demand, demand_id), db.session.get(Patent, pid), MatchSource.INTENT
            )
            db.session.flush()
        match.intent_message, match.intent_at, match.intent_by_id = text, utcnow(), actor.id
        audit.record(
            "match",
            match.id,
            "intent",
            actor,
            organization_id=enterprise_id,
            demand_id=demand_id,
            patent_id=pid,
            message=text,
        )
        db.session.commit()
        return match

    match = _retried(attach)
    signals.intent_submitted.send(None, match_id=match.id)
    return match


def _check_not_asked(enterprise_id: int, patent_id: int, title: str | None) -> None:
    """The same request sent again (a second click, a retried API call) must not post a
    second demand with a second intent: refused when an open demand of this enterprise with
    this title already asks for this patent."""
    asked = db.session.scalar(
        sa.select(Demand.title)
        .join(Match, Match.demand_id == Demand.id)
        .where(
            Demand.enterprise_id == enterprise_id,
            Demand.status == DemandStatus.OPEN,
            Demand.title == title,
            Match.patent_id == patent_id,
            Match.intent_at.is_not(None),
        )
        .limit(1)
    )
    if asked is not None:
        raise ConflictError(
            f"您已就该专利申请对接（需求“{asked}”），无需重复提交；请在该需求页查看进度"
        )


def _retried(write: Any) -> Match:
    """Run ``write`` (which commits); once more when a match run wrote the same pair meanwhile
    (the new demand's own run, or a re-run re-scoring the row: unique pair, row version)."""
    try:
        return retried(write, 2)
    except RACED:
        raise ConflictError(STALE) from None


def _held_refusal(patent_id: int, enterprise_id: int, *, officer: bool) -> str | None:
    """Why this enterprise cannot be offered the patent for a contract in force (matching.holds,
    the rule runs and the patent page apply): it holds one itself, or another company holds a
    sole or exclusive licence. Said when the pair is asked for or added by hand, not only when
    an officer accepts it. An enterprise is not told who holds another's licence."""
    found = [h for h in holds.holds([patent_id]) if h.kind != holds.HoldKind.FAILED]
    own = next((h for h in found if h.enterprise_id == enterprise_id), None)
    if own is not None:
        if officer:
            return f"需求企业已持有该专利的合同（{own.text}），不再向其推荐该专利"
        return (
            f"贵企业已持有该专利的合同（{own.text}），无需再申请对接；"
            "如需变更合同，请联系技术经理人"
        )
    other = next((h for h in found if h.kind == holds.HoldKind.EXCLUSIVE), None)
    if other is not None:
        if officer:
            return f"该专利{other.text}；许可期间不能许可其他企业实施，不能推荐"
        return "该专利处于独占（或排他）许可期内，许可期间不能许可其他企业实施，暂不能申请对接"
    return None


def _check_pair(match: Match | None) -> None:
    """Refuse an intent on a pair already pushed, declined or asked for."""
    if match is None:
        return
    if match.state == MatchState.ACCEPTED:
        raise InvalidTransition("技术经理人已把该专利推送给这条需求，请在需求页的对接进展中查看")
    if match.state == MatchState.REJECTED:
        raise InvalidTransition(
            "技术经理人已审核过该专利与这条需求的组合，未予推送；可选择其他需求或新建需求后再申请"
        )
    if match.has_intent:
        raise InvalidTransition("您已就这条需求申请过对接该专利，技术经理人审核后会通知您")


# ---------------------------------------------------------------------------- officers


def add_candidate(actor: User, demand_id: int, patent_id: Any, note: Any = None) -> Match:
    """An officer adds an entered patent to an open demand as a candidate (source "officer")
    with a note for the enterprise; on an existing undecided pair the note is attached.
    Commits; audited."""
    demand = _open_demand_for_staff(
        actor, demand_id, refused="添加候选", closed="需求已关闭，不能再添加候选"
    )
    patent = _public_patent(patent_id)
    text = _text(note, label="推荐说明", limit=NOTE_MAX, required=False, key="note")
    held = _held_refusal(patent.id, demand.enterprise_id, officer=True)
    if held:
        raise InvalidTransition(held)
    ids = (demand.id, patent.id)

    def add() -> Match:
        demand_id, pid = ids
        match = _pair(demand_id, pid)
        if match is not None and match.state != MatchState.CANDIDATE:
            raise InvalidTransition(f"该专利与这条需求的组合{match.state.label}，不能再添加")
        created = match is None
        if created:
            match = _new_match(
                db.session.get(Demand, demand_id), db.session.get(Patent, pid), MatchSource.OFFICER
            )
        if text and match.note and text not in match.note and match.added_by_id != actor.id:
            # Another officer's note stays: both are kept, the later one after it (two
            # officers adding one candidate at once had lost the first note).
            match.note = f"{match.note}\n{text}"[:NOTE_MAX]
        elif text:
            match.note = text
        match.added_by_id = actor.id
        db.session.flush()
        audit.record(
            "match",
            match.id,
            "officer_add",
            actor,
            demand_id=demand_id,
            patent_id=pid,
            note=text,
            existing=None if created else match.source.value,
            strength=match.strength,
        )
        db.session.commit()
        return match

    return _retried(add)


# ---------------------------------------------------------------------------- asking for detail

ASK_NOTE_MAX = 500
ASK_AGAIN_AFTER = timedelta(hours=24)
DEFAULT_ASK = "请补充要解决的技术问题、现在的做法和期望达到的指标，系统会据此重新匹配。"


def ask_for_detail(demand_id: int, actor: User, note: Any = None) -> Demand:
    """请企业补充技术细节: an officer notifies the enterprise of a thin posting (a title-only
    or very short one, matched on what it has) with a note and a link to edit the demand;
    saving the edit re-matches it. A user found the officer's notice 「建议请企业补充技术细节」
    led nowhere. At most once a day per demand (a double click, two officers); audited.
    Commits; the e-mail goes after the commit."""
    demand = _open_demand_for_staff(
        actor, demand_id, refused="请企业补充需求", closed="需求已关闭，无需补充"
    )
    text = _text(note, label="说明", limit=ASK_NOTE_MAX, required=False, key="note") or DEFAULT_ASK
    lock_row(Demand, demand.id)  # two officers at once: the second sees the first's request
    last = db.session.scalar(
        sa.select(sa.func.max(AuditEvent.created_at)).where(
            AuditEvent.entity == "demand",
            AuditEvent.entity_id == demand.id,
            AuditEvent.action == "detail_requested",
        )
    )
    if last is not None and as_utc(last) > utcnow() - ASK_AGAIN_AFTER:
        db.session.rollback()
        raise InvalidTransition("已在 24 小时内请企业补充过这条需求，请等待企业修改")
    sent = notifications.notify(
        "demand_detail",
        f"技术经理人请您补充需求“{demand.title}”的技术细节",
        organization_id=demand.enterprise_id,
        body=text,
        link=f"/demands/{demand.id}/edit",
    )
    audit.record(
        "demand",
        demand.id,
        "detail_requested",
        actor,
        organization_id=demand.enterprise_id,
        note=text,
    )
    db.session.commit()
    notifications.send_emails([sent])
    return demand


def withdraw_intent(actor: User, match_id: int) -> Match | None:
    """The enterprise takes back a 申请对接 officers have not handled yet (an SME tester who had
    picked the wrong demand was stuck with it). A pair that exists only because of the intent
    is removed; a machine or officer candidate stays, without the intent. Once an officer has
    decided (pushed or not adopted) there is nothing to withdraw. Commits; audited. Returns
    the pair when it stays, None when it was removed."""
    if actor.role != Role.ENTERPRISE or actor.organization_id is None:
        raise PermissionDenied("只有企业用户可以撤回对接申请")
    match = db.session.get(Match, match_id)
    if match is None or match.demand.enterprise_id != actor.organization_id:
        raise NotFoundError("对接申请不存在或您无权查看")
    lock_row(Match, match.id)
    db.session.refresh(match)
    if match.intent_at is None:
        raise InvalidTransition("这条对接申请已经撤回")
    if match.state != MatchState.CANDIDATE:
        raise InvalidTransition(
            f"技术经理人已处理这条申请（{match.state.label}），不能撤回；"
            "如不再需要，请在对接页面或需求页面说明，或关闭需求"
        )
    demand_id, patent_id = match.demand_id, match.patent_id
    audit.record(
        "match",
        match.id,
        "withdraw_intent",
        actor,
        organization_id=actor.organization_id,
        demand_id=demand_id,
        patent_id=patent_id,
    )
    if match.source == MatchSource.INTENT:
        db.session.delete(match)
        db.session.commit()
        return None
    match.intent_message = match.intent_at = match.intent_by_id = None
    db.session.commit()
    return match
