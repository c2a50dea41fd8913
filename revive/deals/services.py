"""供需对接 services: the deal of an accepted match (push: called by the one decision service,
revive.review.services.decide / decide_selected), then the pipeline —
stage changes through the deals.workflow table, the university's response, the contract, and
the overdue-response reminder. Every change writes a DealEvent and an audit event in the same
transaction, notifies the other side in the inbox (e-mail after the commit), and is guarded by
the deal's version (optimistic locking: the second writer gets a ConflictError).

Decisions worth knowing:

- responded_at keeps the *first* answer's time (timeliness is measured on it); the university
  may change its answer while the deal is open, and each answer is an event;
- an answer of 暂不对接 does not end the deal by itself: the officer records 未成交 with a reason
  (or talks the sides round), so the outcome figures stay in one accountable hand;
- a deal is overdue while it is open, unanswered and past response_due_at; the reminder is
  sent once per deal (the response_overdue notification is the marker);
- the contract can be corrected after signing (e.g. the 备案号 arrives weeks later);
- closing a demand ends its open deals as 未成交 (reason 企业已关闭需求) in the closing
  transaction (end_for_closed_demand; demands sits below deals, so demands.services reaches it
  through the hook deals.receivers registers); signed deals stay as they are. A closed
  demand's match is never pushed, and a deal of a closed demand is not reopened.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_request_context, url_for
from sqlalchemy.orm import joinedload

from revive import clock, signals
from revive.accounts.models import Role, User
from revive.audit import services as audit
from revive.common.fields import EXPONENT, MAX_AMOUNT_CHARS, clean_text, strip_invisible
from revive.common.links import refuse_links
from revive.db import LabeledEnum, as_utc, lock_row, utcnow
from revive.deals import permissions, queries, workflow
from revive.deals.models import (
    EXCLUSIVE_SCOPES,
    Contract,
    ContractKind,
    Deal,
    DealEvent,
    LicenseScope,
    Stage,
    UniversityResponse,
)
from revive.deals.reasons import (
    CHOSEN_REASONS,
    DEMAND_CLOSED,
    FAILURE_REASONS,
    RIGHTS_GONE,
    failure_label,
)
from revive.demands import permissions as demand_permissions
from revive.demands.contacts import hide_contacts
from revive.demands.models import Demand, DemandStatus
from revive.errors import ConflictError, InvalidTransition, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import fees
from revive.inventory import services as inventory
from revive.inventory.models import EntryStatus, ImplementationStatus, Patent, PatentRevision
from revive.inventory.public import gone_status, gone_text
from revive.locking import conflict_on_stale
from revive.matching import runs
from revive.matching.holds import Hold, HoldKind
from revive.matching.models import Match
from revive.notifications import services as notifications
from revive.notifications.models import Notification
from revive.templating import format_wan

logger = logging.getLogger(__name__)

STALE_DEAL = "该对接记录已被他人修改，请刷新后重试"
MAX_COMMENT = 2000


def push_note(match: Match, comment: str | None) -> str | None:
    """The recommendation note a push carries: the push form's comment, else the note the
    officer wrote when adding the patent by hand (Match.note)."""
    text = (comment or "").strip()
    return text or (match.note or "").strip() or None


def push(match: Match, actor: User, comment: str | None = None) -> list[Notification]:
    """Create the deal for an accepted match and notify the enterprise and the university, in
    the caller's transaction; returns the notifications to e-mail after its commit.

    The officer's comment on the push is the recommendation note (推荐说明) for both sides:
    stored on the deal (Deal.note) and written into both notifications. (It used to stay in
    Match.comment only — the officers' decision record, which enterprises never see — so
    the note the form promised never reached the enterprise.)"""
    _check_demand_open(match.demand_id, "不能再推送专利")
    # A pair the engine no longer proposes (a contract in force), added by hand or proposed
    # before the contract: the officer had accepted it and a deal was created.
    refused = held_refusal(match.patent_id, match.demand.enterprise_id)
    if refused is not None:
        raise InvalidTransition(refused)
    note = push_note(match, comment)
    now = utcnow()
    days = int(current_app.config.get("REVIVE_RESPONSE_DAYS", 7))
    deal = Deal(
        match=match,
        demand_id=match.demand_id,
        patent_id=match.patent_id,
        university_id=match.patent.institution_id,
        enterprise_id=match.demand.enterprise_id,
        officer_id=actor.id,
        note=note,
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
        source=match.source.value if match.source else None,
        note=note,
    )
    link = deal_link(deal.id)
    patent, demand = match.patent, match.demand
    said = f"\n技术经理人推荐说明：{note}" if note else ""
    asked = "（应贵企业的对接申请）" if match.intent_at is not None else ""
    return [
        notifications.notify(
            "match_pushed",
            f"为您的需求“{demand.title}”推荐了专利：{patent.title}",
            organization_id=deal.enterprise_id,
            body=f"{patent.institution.name}的专利《{patent.title}》与您的需求相匹配，"
            f"技术经理人已审核推荐{asked}。{said}",
            link=link,
            deal_id=deal.id,
            created_at=now,
        ),
        # The deadline is the deal's own (pushed_at + REVIVE_RESPONSE_DAYS), in local time,
        # and the notification is dated with the same moment: its text and its date agree.
        notifications.notify(
            "match_pushed",
            f"企业需求“{demand.title}”匹配到贵校专利：{patent.title}",
            organization_id=deal.university_id,
            body=f"请在 {days} 天内（{clock.zone_label()} "
            f"{clock.format_dt(deal.response_due_at)} 前）答复是否愿意对接。"
            # without the contact details the enterprise wrote into it, as on the deal page
            # (demands.privacy: officers put the two sides in touch)
            + (
                f"\n企业的对接说明：{hide_contacts(match.intent_message)}"
                if match.intent_message
                else ""
            )
            + said,
            link=link,
            deal_id=deal.id,
            created_at=now,
        ),
    ]


def _check_demand_open(demand_id: int, refused: str) -> None:
    """Refuse when the demand is closed. The demand's row is held first, so a push and the
    demand's closing (demands.services.close_demand holds it too) run one after the other:
    a push waiting for a closing sees the demand closed, and a closing that waited for a push
    ends the deal it made."""
    lock_row(Demand, demand_id)
    status = db.session.scalar(sa.select(Demand.status).where(Demand.id == demand_id))
    if status != DemandStatus.OPEN:
        raise InvalidTransition(f"企业已关闭该需求，{refused}")


# ---------------------------------------------------------------------------- the pipeline


def stale_message(deal: Deal, actor: User, expected_version: int) -> str:
    """What a form made from an older version of the deal is told. When every change since was
    the user's own (a second window, a double submit) it says so — "您", when, and the stage
    now — as a stale match decision does (matching.decisions.decided_message); otherwise the
    general message: who else changed it is for the refreshed page's timeline, not this one."""
    changes = queries.changes_since(deal, expected_version)
    if not changes or any(e.actor_id != actor.id for e in changes):
        return STALE_DEAL
    when = clock.format_dt(changes[0].created_at)
    return (
        f"该对接记录已由您于 {when} 修改（可能在另一个窗口或重复提交），"
        f"当前阶段为「{deal.stage.label}」，请刷新后查看"
    )


def _load(deal_id: int, actor: User, expected_version: int | None) -> Deal:
    """The deal, held until the caller commits and read afresh: two submits at once (a double
    click, a second window) are taken one after the other, and the second is told it was the
    user's own change (it had read the generic 「已被他人修改」)."""
    deal = permissions.get_visible_deal(actor, deal_id)
    # The patent first, then the deal: a contract's checks need the patent held, and signing
    # ends the patent's other deals; so two contracts on two deals of one patent queue on the
    # patent instead of each holding a deal the other needs.
    lock_row(Patent, deal.patent_id)
    lock_row(Deal, deal.id)
    db.session.refresh(deal)
    db.session.refresh(deal.patent)  # what a contract's checks read (_clean_contract)
    if expected_version is not None and expected_version != deal.version:
        raise ConflictError(stale_message(deal, actor, expected_version))
    return deal


def refusal(deal: Deal, action: workflow.Action, actor: User | None = None) -> str | None:
    """Why ``action`` is not possible on ``deal`` beyond the stage table, or None: a deal of a
    closed demand is not reopened (the enterprise no longer looks for a solution); and the two
    parties record contact and negotiation only once the university has answered 愿意对接 —
    before that the enterprise could move a deal to 洽谈中 on its own while the university was
    still asked whether it wants to talk at all. Staff may (an answer given by telephone)."""
    if action.target is None and deal.demand.status != DemandStatus.OPEN:
        return f"企业已关闭需求，不能「{action.label}」该对接"
    gone = gone_status(deal.patent)
    if action.target is None and gone is not None:
        return f"专利{gone_text(gone)}，专利权已不属于高校，不能「{action.label}」该对接"
    if actor is not None and actor.role not in workflow.STAFF and action.parties_allowed:
        if deal.response == UniversityResponse.DECLINED:
            return (
                f"高校已答复「暂不对接」，不能「{action.label}」；"
                "技术经理人会与双方沟通或结束该对接"
            )
        if deal.response is None:
            if permissions.is_university_side(actor, deal):
                return f"请先答复是否愿意对接：答复「愿意对接」后才能「{action.label}」"
            return f"高校尚未答复是否愿意对接，答复「愿意对接」后才能「{action.label}」"
    return None


def _comment(raw: Any, label: str = "备注") -> str | None:
    text = strip_invisible(str(raw)) if raw is not None else ""
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(f"{label}不能超过 {MAX_COMMENT} 字")
    return text or None


def _event(
    deal: Deal,
    actor: User | None,
    kind: str,
    from_stage: Stage | None,
    to_stage: Stage,
    comment: str | None = None,
) -> DealEvent:
    event = DealEvent(
        deal_id=deal.id,
        actor_id=getattr(actor, "id", None),
        from_stage=from_stage,
        to_stage=to_stage,
        kind=kind,
        comment=comment,
        created_at=utcnow(),
    )
    db.session.add(event)
    return event


def _app_url(endpoint: str, **values: Any) -> str:
    if has_request_context():
        return url_for(endpoint, **values)
    with current_app.test_request_context("/"):
        return url_for(endpoint, **values)


def deal_link(deal_id: int) -> str:
    """App-relative link to a deal's page, also from a worker or the CLI (no request there,
    and url_for needs one unless SERVER_NAME is set)."""
    if has_request_context():
        return url_for("deals.detail", deal_id=deal_id)
    with current_app.test_request_context("/"):
        return url_for("deals.detail", deal_id=deal_id)


def _pair(deal: Deal) -> str:
    return f"“{deal.demand.title}” × 《{deal.patent.title}》"


def _notify_others(
    deal: Deal,
    actor: User,
    kind: str,
    title: str,
    body: str | None = None,
    *,
    supersede: bool = False,
) -> list[Notification]:
    """Tell everyone on the deal except the actor's own side: the enterprise, the university,
    and the officer who pushed it."""
    recipients: list[dict[str, int]] = []
    if not permissions.is_enterprise_side(actor, deal):
        recipients.append({"organization_id": deal.enterprise_id})
    if not (actor.organization_id and actor.organization_id == deal.university_id):
        recipients.append({"organization_id": deal.university_id})
    if deal.officer_id and deal.officer_id != actor.id:
        recipients.append({"user_id": deal.officer_id})
    link = deal_link(deal.id)
    return [
        notifications.notify(
            kind, title, body=body, link=link, deal_id=deal.id, supersede=supersede, **to
        )
        for to in recipients
    ]


# What a pushed patent was chosen for: an edit of these asks the deal's parties to look again.
DEMAND_TEXT_FIELDS = {
    "title": "需求名称",
    "description": "需求描述",
    "target_specs": "量化技术指标",
}


def note_demand_edited(demand_id: int, fields: list[str], actor: User) -> int:
    """The enterprise (or an officer) changed what a demand asks after patents were pushed
    for it: each open deal gets a timeline entry, and its other parties a notice to check
    that the patent still fits (a tester turned a wastewater demand into an egg-collection one
    under a live deal, and nobody was told). Commits; returns how many deals were told."""
    changed = [label for key, label in DEMAND_TEXT_FIELDS.items() if key in fields]
    if not changed:
        return 0
    what = "、".join(changed)
    sent: list[Notification] = []
    told = 0
    for deal in queries.open_deals_of_demand(demand_id):
        comment = f"需求内容已修改（{what}），请核对所推荐的专利是否仍切合修改后的需求"
        _event(deal, actor, "demand_edit", deal.stage, deal.stage, comment)
        deal.updated_at = utcnow()
        sent += _notify_others(
            deal,
            actor,
            "deal_demand_edited",
            f"需求已修改：{_pair(deal)}",
            f"{comment}。\n如已不切合，可在对接页标记为未成交。",
        )
        told += 1
    if told:
        db.session.commit()
        notifications.send_emails(sent)
    return told


def _previous_stage(deal: Deal) -> Stage:
    """The stage a failed deal failed from (for reopen)."""
    for event in reversed(queries.events_of(deal)):
        if event.to_stage == Stage.FAILED and event.from_stage in workflow.OPEN_STAGES:
            return event.from_stage
    return Stage.RECOMMENDED


@conflict_on_stale(STALE_DEAL)
def change_stage(
    deal_id: int,
    action: str | workflow.Action,
    actor: User,
    *,
    to: Stage | str | None = None,
    reason: str | None = None,
    comment: str | None = None,
    contract: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> Deal:
    """Move a deal by one pipeline action (contact, negotiate, sign, fail, reopen). Commits.

    ``to`` is optional and, when given, must be where the action leads (the API may name the
    target stage instead of the action). Signing needs ``contract`` (see record_contract)."""
    deal = _load(deal_id, actor, expected_version)
    if not action and not to:
        names = " / ".join(workflow.ACTIONS)
        raise ValidationFailed(
            f"请指定要执行的操作 action（{names}）或目标阶段 to",
            details={"action": "请指定操作"},
        )
    if isinstance(action, str):
        action = workflow.get_action(action) if action else workflow.action_to(deal.stage, to or "")
    permissions.check_action(actor, deal, action)
    if deal.stage not in action.sources:
        allowed = "、".join(s.label for s in Stage if s in action.sources)
        raise InvalidTransition(
            f"当前阶段为「{deal.stage.label}」，不能执行「{action.label}」（仅限：{allowed}）"
        )
    refused = refusal(deal, action, actor)
    if refused:
        raise InvalidTransition(refused)
    target = action.target or _previous_stage(deal)
    if to is not None and str(to) != target.value:
        raise InvalidTransition(f"「{action.label}」后的阶段是「{target.label}」，不是「{to}」")
    comment = _comment(comment)
    if permissions.is_enterprise_side(actor, deal):
        # quoted in the university's and the officer's notices and e-mails: a self-registered
        # account's text carries no links (revive.common.links)
        refuse_links([("comment", "说明", comment)])
    reason = (reason or "").strip() or None
    if action.reason_required:
        if reason not in CHOSEN_REASONS:
            raise ValidationFailed("请选择未成交原因", details={"reason": "请选择未成交原因"})
        if reason == "other" and not comment:
            raise ValidationFailed("选择“其他”原因时请填写说明", details={"comment": "请填写说明"})
    if action.comment_required and not comment:
        raise ValidationFailed(f"「{action.label}」需要填写说明", details={"comment": "请填写说明"})
    if action.contract_required and contract is None:
        raise ValidationFailed("签约须同时登记合同（类型、金额、签约日期、当事方）")
    if (deal.stage, target) not in workflow.ALLOWED_MOVES:  # pragma: no cover - table invariant
        raise InvalidTransition()

    sent = _move(deal, action, target, actor, reason=reason, comment=comment, contract=contract)
    db.session.commit()
    notifications.send_emails(sent)
    return deal


def _move(
    deal: Deal,
    action: workflow.Action,
    target: Stage,
    actor: User,
    *,
    reason: str | None,
    comment: str | None,
    contract: Mapping[str, Any] | None,
) -> list[Notification]:
    """Apply a validated move: stage, event, audit, contract, notifications. No commit."""
    source, now = deal.stage, utcnow()
    new_contract = None
    if action.contract_required:
        fields = _clean_contract(contract or {}, deal)
        new_contract = Contract(deal=deal, created_by_id=actor.id, **fields)
        db.session.add(new_contract)
    deal.stage, deal.stage_changed_at, deal.updated_at = target, now, now
    if target == Stage.FAILED:
        deal.failure_reason, deal.failure_comment = reason, comment
    elif source == Stage.FAILED:
        deal.failure_reason = deal.failure_comment = None
    event_comment = comment
    if new_contract is not None:
        event_comment = _contract_summary(new_contract) + (f"；{comment}" if comment else "")
    elif target == Stage.FAILED:
        event_comment = FAILURE_REASONS[reason or "other"] + (f"：{comment}" if comment else "")
    _event(deal, actor, "stage", source, target, event_comment)
    db.session.flush()
    audit.record(
        "deal",
        deal.id,
        action.name,
        actor,
        organization_id=deal.university_id,
        from_stage=source.value,
        to_stage=target.value,
        reason=reason,
        comment=comment,
        contract_id=new_contract.id if new_contract else None,
    )
    if new_contract is not None:
        _audit_contract(new_contract, deal, actor, "create")
        _implement(deal.patent, new_contract, deal, actor)
        _drop_held(deal, new_contract)
    title = f"对接进展：{_pair(deal)} 已进入「{target.label}」"
    body = f"{actor.name}（{actor.role.label}）{action.label}。" + (
        f"\n{event_comment}" if event_comment else ""
    )
    return _notify_others(deal, actor, "deal_stage", title, body)


# ---------------------------------------------------------------------------- demand closed


# The university's notifications of a deal that ask it to answer (推送: 请在 N 天内答复;
# 逾期: 请尽快答复), settled when the deal ends with its demand.
REPLY_REMINDERS = ("match_pushed", "response_overdue")


def end_for_closed_demand(demand: Demand, actor: User | None) -> list[int]:
    """The demand is being closed (demands.services.close_demand, through the hook
    deals.receivers registers; actor None: the platform, e.g. ``revive end-closed-demand-deals``
    for demands closed before this existed): each deal of it still open becomes 未成交 with the
    reason 企业已关闭需求 — stage, event, audit — and the other sides are told (the
    university, the officer who pushed it; the enterprise too when staff closed its demand).
    In the caller's transaction, no commit; the e-mails go after it commits. Signed and
    failed deals are left as they are. Returns the ids of the deals ended."""
    deals = queries.open_deals_of_demand(demand.id)
    sent: list[Notification] = []
    ended: list[tuple[Deal, Stage]] = []
    for deal in deals:
        source = _end_open_deal(deal, actor, DEMAND_CLOSED, demand_id=demand.id)
        ended.append((deal, source))
        sent += _notify_demand_closed(deal, demand, actor, source)
    if actor is not None and not demand_permissions.is_owner(actor, demand):
        sent.append(_notify_enterprise_of_close(demand, actor, ended))
    notifications.send_emails(sent, after_commit=True)
    return [d.id for d in deals]


def _end_open_deal(
    deal: Deal, actor: User | None, code: str, comment: str | None = None, **data: Any
) -> Stage:
    """The platform ends an open deal as 未成交 with the system reason ``code``
    (reasons.SYSTEM_REASONS; ``comment`` says more): stage, event, audit (``data`` added to
    it), and the university's reminders to answer settled — moot now, so its inbox shows only
    the notice that the deal ended. Returns the stage it ended from. No commit."""
    source, now = deal.stage, utcnow()
    deal.stage, deal.stage_changed_at, deal.updated_at = Stage.FAILED, now, now
    deal.failure_reason, deal.failure_comment = code, comment
    note = FAILURE_REASONS[code] + (f"：{comment}" if comment else "")
    _event(deal, actor, "stage", source, Stage.FAILED, note)
    audit.record(
        "deal",
        deal.id,
        "fail",
        actor,
        organization_id=deal.university_id,
        from_stage=source.value,
        to_stage=Stage.FAILED.value,
        reason=code,
        **data,
    )
    notifications.settle(deal.id, REPLY_REMINDERS, organization_id=deal.university_id)
    return source


def _notify_enterprise_of_close(
    demand: Demand, actor: User, ended: list[tuple[Deal, Stage]]
) -> Notification:
    """Staff (an officer, the platform admin) closed the enterprise's demand: the enterprise
    hears it once — who, the reason, and the deals that ended with it (if any)."""
    body = f"{actor.role.label} {actor.name} 关闭了需求“{demand.title}”，需求不再征集和匹配。"
    if demand.close_reason:
        body += f"\n关闭原因：{demand.close_reason}"
    if ended:
        listed = "；".join(
            f"《{d.patent.title}》（{d.university.name}，原阶段「{source.label}」）"
            for d, source in ended[:10]
        )
        more = f" 等 {len(ended)} 项" if len(ended) > 10 else ""
        body += f"\n随之结束（记为「未成交」）的对接：{listed}{more}"
    return notifications.notify(
        "demand_closed",
        f"您的需求“{demand.title}”已被{actor.role.label}关闭",
        organization_id=demand.enterprise_id,
        body=body,
        link=_app_url("demands.detail", demand_id=demand.id),
    )


def tell_of_reopen(demand_id: int, actor: User) -> int:
    """A closed demand was opened again (demands.services.reopen_demand): the officer of each
    deal that its closing ended hears it, since each such deal can be reopened on its page, and
    the enterprise hears it when staff reopened its demand (as it heard the close). Commits;
    returns how many notices were sent."""
    demand = db.session.get(Demand, demand_id)
    if demand is None:
        return 0
    sent: list[Notification] = []
    ended = db.session.scalars(
        sa.select(Deal)
        .where(
            Deal.demand_id == demand_id,
            Deal.stage == Stage.FAILED,
            Deal.failure_reason == DEMAND_CLOSED,
        )
        .order_by(Deal.id)
    ).all()
    title = f"需求已重新开放：“{demand.title}”"
    for deal in ended:
        body = (
            f"{_pair(deal)} 的对接曾因企业关闭需求而结束（记为「未成交」）。"
            "需求现已重新开放，如对接仍有意义，可在对接页重新开启。"
        )
        sent += _tell_officer(deal, actor, title, body)
    if not demand_permissions.is_owner(actor, demand):
        sent.append(
            notifications.notify(
                "demand_reopened",
                f"您的需求“{demand.title}”已被{actor.role.label}重新开放",
                organization_id=demand.enterprise_id,
                body=f"{actor.role.label} {actor.name} 重新开放了需求“{demand.title}”，"
                "需求恢复征集，平台将重新为它匹配专利。",
                link=_app_url("demands.detail", demand_id=demand.id),
            )
        )
    if sent:
        db.session.commit()
        notifications.send_emails(sent)
    return len(sent)


def end_for_rights_gone(patent: Patent, actor: User | None, reason: str) -> list[int]:
    """The patent's right left the university (a 转让 / 作价入股 contract on another deal, an
    edit or an import; revive.signals.patent_rights_gone): its deals still open can never be
    signed (``_clean_contract`` refuses), so each becomes 未成交 with the reason 专利权已转让或
    作价入股 — stage, event, audit — and its enterprise and officer are told why, and the
    university's reminders to answer are settled. A security review had signed a second 转让 of
    one patent on another deal. In the caller's transaction, no commit; the e-mails go after
    it commits. Returns the ids of the deals ended."""
    deals = queries.open_deals_of_patent(patent.id)
    sent: list[Notification] = []
    for deal in deals:
        source = _end_open_deal(deal, actor, RIGHTS_GONE, reason, patent_id=patent.id)
        title = f"对接已结束：专利“{patent.title}”的专利权已不属于高校"
        body = f"{_pair(deal)} 的对接（原阶段「{source.label}」）记为「未成交」。{reason}。"
        sent += _tell_enterprise_and_officer(deal, actor, title, body)
    notifications.send_emails(sent, after_commit=True)
    return [d.id for d in deals]


def tell_of_withdrawal(patent: Patent, actor: User | None, comment: str | None) -> list[int]:
    """The school took the patent out of the pool (撤回重审 → 退回) while deals on it are open:
    they stay open (it may come back after the review) but cannot be signed until it is
    entered again (``_clean_contract``); the enterprise and the officer are told why. A
    concurrency test's deal on a withdrawn patent stayed 已推荐 with nobody told. In the
    mover's transaction (signals.patent_transitioned), no commit. Returns the deals' ids."""
    deals = queries.open_deals_of_patent(patent.id)
    sent: list[Notification] = []
    for deal in deals:
        title = f"专利“{patent.title}”已被学校撤回重审，对接暂停"
        body = (
            f"{_pair(deal)} 的对接（「{deal.stage.label}」）保留，但专利重新入库前不能登记合同。"
            + (f"\n学校说明：{comment}" if comment else "")
        )
        sent += _tell_enterprise_and_officer(deal, actor, title, body)
    notifications.send_emails(sent, after_commit=True)
    return [d.id for d in deals]


def _tell_enterprise_and_officer(
    deal: Deal, actor: User | None, title: str, body: str
) -> list[Notification]:
    """What the platform did to a deal, told to its enterprise and (unless the officer did it)
    its officer; no commit."""
    notice = _deal_notice(deal, title, body, organization_id=deal.enterprise_id)
    return [notice, *_tell_officer(deal, actor, title, body)]


def _tell_officer(deal: Deal, actor: User | None, title: str, body: str) -> list[Notification]:
    """The officer who pushed the deal hears the platform ended it (unless the officer did)."""
    if not deal.officer_id or deal.officer_id == getattr(actor, "id", None):
        return []
    return [_deal_notice(deal, title, body, user_id=deal.officer_id)]


def _deal_notice(deal: Deal, title: str, body: str, **to: int) -> Notification:
    """A "deal_stage" notice of ``deal`` to ``organization_id`` or ``user_id``; no commit."""
    return notifications.notify(
        "deal_stage", title, body=body, link=deal_link(deal.id), deal_id=deal.id, **to
    )


def _notify_demand_closed(
    deal: Deal, demand: Demand, actor: User | None, source: Stage
) -> list[Notification]:
    """The university hears that the deal ended and that no answer is needed any more; the
    officer also reads the close reason, which the university never sees (it does not see
    closed demands). The enterprise, when staff closed its demand, hears it once for the
    demand (_notify_enterprise_of_close), not once per deal."""
    link = deal_link(deal.id)
    title = f"对接已结束：企业已关闭需求“{demand.title}”"
    ended = f"{_pair(deal)} 的对接（原阶段「{source.label}」）随之结束，记为「未成交」。"
    unanswered = "无需再答复。" if deal.response is None else ""
    reason = f"\n关闭原因：{demand.close_reason}" if demand.close_reason else ""
    sent = [
        notifications.notify(
            "deal_stage",
            title,
            organization_id=deal.university_id,
            body=ended + unanswered,
            link=link,
            deal_id=deal.id,
        )
    ]
    sent += _tell_officer(deal, actor, title, ended + reason)
    return sent


def end_deals_of_closed_demands() -> list[int]:
    """End the open deals of demands closed before closing ended them (data from before
    end_for_closed_demand existed), as the platform. Commits; returns the deal ids."""
    closed = db.session.scalars(
        sa.select(Demand)
        .where(
            Demand.status == DemandStatus.CLOSED,
            Demand.id.in_(sa.select(Deal.demand_id).where(Deal.stage.in_(workflow.OPEN_STAGES))),
        )
        .order_by(Demand.id)
    ).all()
    ended = [i for demand in closed for i in end_for_closed_demand(demand, None)]
    db.session.commit()
    return ended


# ---------------------------------------------------------------------------- response


@conflict_on_stale(STALE_DEAL)
def respond(
    deal_id: int,
    response: UniversityResponse | str,
    actor: User,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Deal:
    """The university answers a pushed deal: 愿意对接 / 暂不对接 (may change it while open)."""
    deal = _load(deal_id, actor, expected_version)
    permissions.check_respond(actor, deal)
    answer = _response(response)
    if deal.stage not in workflow.OPEN_STAGES:
        raise InvalidTransition(f"该对接已「{deal.stage.label}」，不能再答复")
    comment = _comment(comment, "答复说明")
    if deal.response == answer and (deal.response_comment or None) == comment:
        raise InvalidTransition(f"已答复「{answer.label}」，无需重复提交")
    now = utcnow()
    previous = deal.response
    late = previous is None and queries.is_overdue(deal, now)
    deal.response, deal.response_comment = answer, comment
    deal.responded_by_id = actor.id
    deal.responded_at = deal.responded_at or now  # the first answer counts for timeliness
    deal.updated_at = now
    _event(
        deal,
        actor,
        "response",
        deal.stage,
        deal.stage,
        answer.label + (f"：{comment}" if comment else ""),
    )
    audit.record(
        "deal",
        deal.id,
        "respond",
        actor,
        organization_id=deal.university_id,
        response=answer.value,
        previous=previous.value if previous else None,
        comment=comment,
        late=late or None,
    )
    title = f"{deal.university.name}答复「{answer.label}」：{_pair(deal)}"
    # a changed answer replaces the notice of the last one (a tester's 16 changes in a row
    # made 32 notices and e-mails): notifications.notify(supersede=True)
    sent = _notify_others(deal, actor, "deal_response", title, comment, supersede=True)
    db.session.commit()
    notifications.send_emails(sent)
    return deal


def _response(value: UniversityResponse | str) -> UniversityResponse:
    raw = str(value or "").strip()
    by_label = UniversityResponse.by_label()
    if raw in by_label:
        return by_label[raw]  # type: ignore[return-value]
    try:
        return UniversityResponse(raw)
    except ValueError:
        raise ValidationFailed(
            "请选择“愿意对接”或“暂不对接”", details={"response": "请选择答复"}
        ) from None


# ---------------------------------------------------------------------------- contract


def today_in_china() -> date:
    return clock.local_today()


# Contract amounts are entered in 万元, a unit easy to mistake for 元. The largest reported
# university patent deals are a few 亿元: from 1 亿元 (10,000 万元) up the person entering the
# contract confirms the figure (``confirm_amount``), and 100 亿元 is refused outright: such a
# figure is a typo, and one would swamp every regional total on the dashboards.
LARGE_AMOUNT_WAN = Decimal("10000")
MAX_AMOUNT_WAN = Decimal("1000000")


def _truthy(raw: Any) -> bool:
    return raw is True or str(raw or "").strip().lower() in ("1", "true", "on", "yes")


def _clean_contract(data: Mapping[str, Any], deal: Deal) -> dict[str, Any]:
    """Validated contract fields (kind, amount_wan, signed_on, record_no, parties).

    The caller loaded the deal with ``_load``, which holds the patent's row (as an
    open-licence declaration does): the checks below read the patent's other contracts and
    declarations, and two requests checking at once had each seen none and recorded two
    exclusive licences of one patent for the same years (a concurrency test), or an exclusive
    licence beside a declaration."""
    errors: dict[str, str] = {}
    raw_kind = str(data.get("kind") or "").strip()
    kind = ContractKind.by_label().get(raw_kind)
    if kind is None:
        try:
            kind = ContractKind(raw_kind)
        except ValueError:
            errors["kind"] = "请选择合同类型（转让、许可、开放许可、作价入股）"
            kind = None
    amount = _amount(data.get("amount_wan"), errors)
    if (
        amount is not None
        and amount >= LARGE_AMOUNT_WAN
        and not _truthy(data.get("confirm_amount"))
    ):
        errors["amount_wan"] = (
            f"金额 {amount:,} 万元即 {amount / 10_000:,.2f} 亿元，达到或超过 1 亿元："
            "请核对单位是万元，无误后勾选“金额无误”再提交"
        )
        errors["confirm_amount"] = "金额达到 1 亿元及以上时须确认"
    if amount is not None and amount == 0 and kind is not None:
        _check_free(kind, data, errors)
    signed_on = _signed_on(data.get("signed_on"), deal, errors)
    gone = gone_status(deal.patent) if deal.contract is None else None
    status = deal.patent.status
    if deal.contract is None and gone is None and status != EntryStatus.ENTERED:
        # 撤回重审 (or returned) after the push: not in the pool until it is entered again
        errors["kind"] = (
            f"该专利当前为「{status.label}」，已不在可转化专利资源库中（学校撤回重审或退回），"
            "重新入库后才能登记合同"
        )
    if gone is not None:
        # a second 转让 of one patent was signed on another deal (a security review): the right
        # left the university with the first contract
        errors["kind"] = (
            f"专利{gone_text(gone)}，专利权已不属于本单位，不能再签订转让、许可或作价入股合同"
        )
    ended = fees.term_end(deal.patent.patent_type, deal.patent.filing_date)
    if signed_on is not None and ended is not None and signed_on >= ended:
        errors["signed_on"] = (
            f"专利保护期已于 {ended.isoformat()} 届满（按申请日计算），届满后不能再转让、许可或"
            "作价入股；请核对签约日期或专利的申请日"
        )
    scope, until = _licence_terms(data, kind, signed_on, deal, ended, errors)
    record_no = str(data.get("record_no") or "").strip() or None
    if record_no and len(record_no) > 100:
        errors["record_no"] = "备案号不能超过 100 字"
    parties = str(data.get("parties") or "").strip()
    if not parties:
        errors["parties"] = "请填写合同当事方"
    elif len(parties) > 500:
        errors["parties"] = "合同当事方不能超过 500 字"
    if errors:
        # the free-of-charge box's own message is the amount's said again: once in the summary
        said = [m for k, m in errors.items() if k != "confirm_free" or "amount_wan" not in errors]
        raise ValidationFailed("合同信息有误：" + "；".join(said), details=errors)
    return {
        "kind": kind,
        "amount_wan": amount,
        "signed_on": signed_on,
        "record_no": record_no,
        "parties": parties,
        "license_scope": scope,
        "license_until": until,
    }


def exclusive_in_force(
    patent_id: int, on: date, *, until: date | None = None, except_deal: int | None = None
) -> Contract | None:
    """A sole or exclusive licence of the patent in force on ``on`` — or, given ``until``, at
    any time in [on, until] — recorded on another deal than ``except_deal``."""
    return _licence_overlapping(
        patent_id, on, until or on, except_deal=except_deal, exclusive_only=True
    )


_LICENCE_KINDS = (ContractKind.LICENSE, ContractKind.OPEN_LICENSE)


def _licence_overlapping(
    patent_id: int,
    start: date,
    end: date | None,
    *,
    except_deal: int | None,
    exclusive_only: bool,
) -> Contract | None:
    """A licence of the patent (许可 or 开放许可; only sole or exclusive ones with
    ``exclusive_only``) whose term meets [start, end] (``end`` None: from ``start`` on). A
    licence recorded without a term counts as in force from its signing on."""
    query = (
        sa.select(Contract)
        .join(Deal, Deal.id == Contract.deal_id)
        .where(
            Deal.patent_id == patent_id,
            Contract.kind.in_(_LICENCE_KINDS),
            sa.or_(Contract.license_until.is_(None), Contract.license_until >= start),
        )
        .order_by(Contract.signed_on, Contract.id)
        .limit(1)
    )
    if end is not None:
        query = query.where(Contract.signed_on <= end)
    if exclusive_only:
        query = query.where(Contract.license_scope.in_(EXCLUSIVE_SCOPES))
    if except_deal is not None:
        query = query.where(Deal.id != except_deal)
    return db.session.scalar(query)


def exclusive_text(c: Contract) -> str:
    """E.g. "2026-03-01 与某某公司签订独占许可合同，许可期限至 2029-02-28"."""
    who = c.deal.enterprise.name if c.deal and c.deal.enterprise else c.parties
    scope = c.license_scope.label if c.license_scope else "许可"
    until = c.license_until.isoformat() if c.license_until else "—"
    return f"{c.signed_on.isoformat()} 与{who}签订{scope}合同，许可期限至 {until}"


def contract_text(c: Contract) -> str:
    """E.g. "2026-03-01 与某某公司签订普通许可合同，许可期限至 2031-02-28" (a licence without a
    term: 未填写许可期限), "2026-03-01 与某某公司签订转让合同"."""
    who = c.deal.enterprise.name if c.deal and c.deal.enterprise else c.parties
    what = c.license_scope.label if c.license_scope else c.kind.label
    text = f"{c.signed_on.isoformat()} 与{who}签订{what}合同"
    if c.kind in _LICENCE_KINDS:
        text += (
            f"，许可期限至 {c.license_until.isoformat()}" if c.license_until else "，未填写许可期限"
        )
    return text


def patent_holds(on: date, patent_ids: Collection[int] | None = None) -> list[Hold]:
    """What matching asks (revive.signals.patent_holds): the contracts in force on ``on`` —
    a licence (许可 / 开放许可) whose term has not ended (one without a term counts as in
    force), a 转让 / 作价入股 — each as held by its deal's enterprise, a sole or exclusive
    licence also as keeping the patent from everyone; and the deals that ended 未成交."""
    in_force = sa.or_(
        Contract.kind.not_in(_LICENCE_KINDS),
        Contract.license_until.is_(None),
        Contract.license_until >= on,
    )
    query = (
        sa.select(Contract)
        .join(Deal, Deal.id == Contract.deal_id)
        .where(in_force)
        .options(joinedload(Contract.deal).joinedload(Deal.enterprise))
        .order_by(Contract.signed_on, Contract.id)
    )
    failed = sa.select(Deal).where(Deal.stage == Stage.FAILED).order_by(Deal.stage_changed_at)
    if patent_ids is not None:
        query = query.where(Deal.patent_id.in_(list(patent_ids)))
        failed = failed.where(Deal.patent_id.in_(list(patent_ids)))
    out: list[Hold] = []
    for c in db.session.scalars(query):
        text = contract_text(c)
        exclusive = c.kind == ContractKind.LICENSE and c.license_scope in EXCLUSIVE_SCOPES
        kind = HoldKind.EXCLUSIVE if exclusive else HoldKind.CONTRACT
        out.append(Hold(c.deal.patent_id, c.deal.enterprise_id, kind, text))
    for deal in db.session.scalars(failed):
        ended = clock.local_date(as_utc(deal.stage_changed_at))
        reason = f"：{failure_label(deal.failure_reason)}" if deal.failure_reason else ""
        text = f"曾对接未成交（{ended.isoformat()}{reason}）"
        out.append(Hold(deal.patent_id, deal.enterprise_id, HoldKind.FAILED, text))
    return out


def held_refusal(patent_id: int, enterprise_id: int) -> str | None:
    """Why a pair cannot be pushed for its contracts in force, or None: the enterprise already
    holds a contract on the patent, or someone holds a sole or exclusive licence of it."""
    found = patent_holds(clock.local_today(), [patent_id])
    for h in found:
        if h.enterprise_id == enterprise_id and h.kind != HoldKind.FAILED:
            return (
                f"该专利已于{h.text}：该企业已持有该专利的合同（仍在有效期内），"
                "不再向其推荐该专利；请否决此候选（原因选「其他」并注明）"
            )
    for h in found:
        if h.kind == HoldKind.EXCLUSIVE:
            return (
                f"该专利已于{h.text}；许可期间本单位不能再许可其他企业实施，"
                "不能推荐给企业；请否决此候选（原因选「其他」并注明）"
            )
    return None


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _licence_terms(
    data: Mapping[str, Any],
    kind: ContractKind | None,
    signed_on: date | None,
    deal: Deal,
    ended: date | None,
    errors: dict[str, str],
) -> tuple[LicenseScope | None, date | None]:
    """A 许可 contract's scope (普通 / 排他 / 独占) and term, checked against the patent's other
    licences: while a sole or exclusive licence is in force nobody else may be licensed, and
    neither kind may be granted while an open licence is declared (专利法第五十一条). Other
    kinds carry neither (values sent for them are dropped)."""
    if kind not in (ContractKind.LICENSE, ContractKind.OPEN_LICENSE):
        return None, None
    scope, until = None, None
    if kind == ContractKind.LICENSE:
        raw = str(data.get("license_scope") or "").strip()
        scope = LicenseScope.by_label().get(raw)  # type: ignore[assignment]
        if scope is None:
            try:
                scope = LicenseScope(raw)
            except ValueError:
                errors["license_scope"] = "请选择许可方式（普通许可、排他许可、独占许可）"
        until = _license_until(data.get("license_until"), scope, signed_on, ended, errors)
    if signed_on is None or errors.keys() & {"kind", "license_scope", "license_until"}:
        return scope, until
    exclusive = scope in EXCLUSIVE_SCOPES
    field_key = "license_scope" if kind == ContractKind.LICENSE else "kind"
    # This licence's term is [signed_on, until]; without a term it runs on from signing.
    # While a sole or exclusive licence is in force nobody else is licensed, and a sole or
    # exclusive licence is granted only where no other licence is in force (both ways: a
    # security review recorded an exclusive licence over an ordinary one).
    other = _licence_overlapping(
        deal.patent_id, signed_on, until, except_deal=deal.id, exclusive_only=not exclusive
    )
    if other is not None:
        errors[field_key] = _overlap_message(other, exclusive, deal)
    else:
        answers = signals.contract_checked.send(
            None, patent=deal.patent, kind=kind, scope=scope, signed_on=signed_on
        )
        for _, problems in answers:
            for key, message in (problems or {}).items():
                errors.setdefault(key, message)
    return scope, until


def _overlap_message(other: Contract, exclusive: bool, deal: Deal) -> str:
    """Why a licence meeting ``other``'s term cannot be recorded. When ``other`` is the same
    enterprise's own licence it is not 他人: it already holds the patent (a tester's licensee
    was told the patent "不能再许可他人实施")."""
    if other.deal is not None and other.deal.enterprise_id == deal.enterprise_id:
        return (
            f"该专利已于{contract_text(other)}：该企业已持有该专利的许可，许可期间不能再就同一"
            "专利与其签订许可合同；如需变更许可方式或期限，请更正原合同"
            f"（对接记录 #{other.deal_id}）"
        )
    if other.license_scope in EXCLUSIVE_SCOPES:
        return (
            f"该专利已于{exclusive_text(other)}；{other.license_scope.label}期间"  # type: ignore[union-attr]
            "不能再许可他人实施，请核对签约日期或许可期限"
        )
    assert exclusive
    term = (
        f"许可期限至 {other.license_until.isoformat()}"
        if other.license_until
        else "未填写许可期限，视为仍在有效期内"
    )
    who = other.deal.enterprise.name if other.deal and other.deal.enterprise else other.parties
    return (
        f"该专利已于 {other.signed_on.isoformat()} 与{who}签订{contract_kind_text(other)}合同"
        f"（{term}）：其他许可有效期间不能给予独占或排他许可；如该许可已到期，请先在该合同中补填许可期限"
    )


def _license_until(
    raw: Any,
    scope: LicenseScope | None,
    signed_on: date | None,
    ended: date | None,
    errors: dict[str, str],
) -> date | None:
    text = raw.isoformat() if isinstance(raw, date) else str(raw or "").strip()
    if not text:
        if scope in EXCLUSIVE_SCOPES:
            errors["license_until"] = (
                f"{scope.label}须填写许可期限（截止日期）：期限内本单位不能再许可他人实施"  # type: ignore[union-attr]
            )
        return None
    try:
        if not ISO_DAY.fullmatch(text):  # fromisoformat also takes 20270101 and 2027-W01-1
            raise ValueError(text)
        value = date.fromisoformat(text)
    except ValueError:
        errors["license_until"] = f"许可期限“{text[:20]}”格式不对，请按 YYYY-MM-DD 填写"
        return None
    if signed_on is not None and value <= signed_on:
        errors["license_until"] = "许可期限须晚于签约日期"
    elif ended is not None and value > ended:
        errors["license_until"] = (
            f"许可期限不能晚于专利保护期届满日 {ended.isoformat()}（按申请日计算）"
        )
    else:
        return value
    return None


# A 0 万元 contract is most often a slip (the amount not filled in), yet the domain notes put
# no lower bound on fees, and patents are transferred or licensed free of charge (无偿转让 /
# 免费许可, e.g. to a spin-off). So for 转让 and 许可 a 0 is accepted only with the explicit
# 「无偿」 tick (``confirm_free``), as 1 亿元 and more needs 金额无误. An open licence (开放许可)
# may be declared free of charge, a common case: its 0 needs no tick. 作价入股 is the patent's
# agreed value turned into shares: it has one, never 0 (a tester's 0 万元 equity deal was
# accepted as 「无偿」).
FREE_NEEDS_CONFIRMATION = frozenset({ContractKind.ASSIGNMENT, ContractKind.LICENSE})


def _check_free(kind: ContractKind, data: Mapping[str, Any], errors: dict[str, str]) -> None:
    if kind == ContractKind.EQUITY:
        errors["amount_wan"] = "作价入股须填写专利的作价金额（万元），不能为 0"
        return
    if kind in FREE_NEEDS_CONFIRMATION and not _truthy(data.get("confirm_free")):
        errors["amount_wan"] = (
            f"金额为 0：如确为无偿{kind.label}，请勾选“无偿（金额为 0）”再提交；"
            "否则请填写合同金额（万元）"
        )
        errors["confirm_free"] = "金额为 0 时须确认为无偿"


def _amount(raw: Any, errors: dict[str, str]) -> Decimal | None:
    if isinstance(raw, bool) or raw is None or str(raw).strip() == "":
        errors["amount_wan"] = "请填写合同金额（万元）"
        return None
    text = str(raw).strip().replace(",", "")
    if len(text) > MAX_AMOUNT_CHARS:
        errors["amount_wan"] = "合同金额超出范围（万元）"
        return None
    if isinstance(raw, str) and EXPONENT.fullmatch(text):
        # as every other amount field (revive.common.fields): 1e3 hides the size
        errors["amount_wan"] = f"合同金额请直接填写数字，不要用科学计数法：{text[:20]}"
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        errors["amount_wan"] = "合同金额须为数字（万元）"
        return None
    if not value.is_finite():
        errors["amount_wan"] = "合同金额须为数字（万元）"
    elif value < 0:
        errors["amount_wan"] = "合同金额不能为负数"
    elif value >= MAX_AMOUNT_WAN:
        errors["amount_wan"] = (
            f"合同金额须小于 {MAX_AMOUNT_WAN:,} 万元（100 亿元），请核对单位是否为万元"
        )
    elif value != value.quantize(Decimal("0.01")):
        errors["amount_wan"] = "合同金额最多保留两位小数（万元）"
    else:
        return value.quantize(Decimal("0.01"))
    return None


def _signed_on(raw: Any, deal: Deal, errors: dict[str, str]) -> date | None:
    if isinstance(raw, date):
        value = raw
    else:
        text = str(raw or "").strip()
        try:
            if not ISO_DAY.fullmatch(text):  # fromisoformat also takes 20270101, 2027-W01-1
                raise ValueError(text)
            value = date.fromisoformat(text)
        except ValueError:
            if not text:
                errors["signed_on"] = "请填写签约日期（YYYY-MM-DD）"
            elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):  # well formed, e.g. 2026-02-30
                errors["signed_on"] = f"签约日期 {text} 不存在，请核对年、月、日"
            else:
                errors["signed_on"] = f"签约日期“{text[:20]}”格式不对，请按 YYYY-MM-DD 填写"
            return None
    if value > today_in_china():
        errors["signed_on"] = "签约日期不能晚于今天"
        return None
    earliest = pushed_on(deal)
    if earliest is not None and value < earliest:
        errors["signed_on"] = "签约日期不能早于推荐日期"
        return None
    return value


def pushed_on(deal: Deal) -> date | None:
    """The day (Beijing time) the deal was pushed: no contract of it is signed before."""
    pushed = as_utc(deal.pushed_at)
    return clock.local_date(pushed) if pushed is not None else None


def contract_kind_text(c: Contract) -> str:
    """E.g. 转让, or 许可（独占许可，至 2029-02-28）."""
    if c.kind != ContractKind.LICENSE or c.license_scope is None:
        return c.kind.label
    until = f"，至 {c.license_until.isoformat()}" if c.license_until else ""
    return f"{c.kind.label}（{c.license_scope.label}{until}）"


def _contract_summary(c: Contract) -> str:
    amount = f"{format_wan(c.amount_wan)} 万元" + ("（无偿）" if c.amount_wan == 0 else "")
    text = f"签订{contract_kind_text(c)}合同，金额 {amount}，签约日期 {c.signed_on.isoformat()}"
    return text + (f"，备案号 {c.record_no}" if c.record_no else "")


CONTRACT_LABELS = {
    "kind": "合同类型",
    "license_scope": "许可方式",
    "license_until": "许可期限至",
    "amount_wan": "金额",
    "signed_on": "签约日期",
    "record_no": "备案号",
    "parties": "当事方",
}


def _contract_value(key: str, value: Any) -> str:
    if value is None or value == "":
        return "（无）"
    if key in ("kind", "license_scope"):
        return value.label if isinstance(value, LabeledEnum) else str(value)
    if key == "amount_wan":
        return format_wan(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def correction_text(contract: Contract, fields: Mapping[str, Any]) -> str:
    """What a correction changes, field by field, e.g.
    "当事方 甲 → 乙；金额 50 → 60 万元" (only the fields that change)."""
    parts = []
    for key, label in CONTRACT_LABELS.items():
        if key not in fields or getattr(contract, key) == fields[key]:
            continue
        before = _contract_value(key, getattr(contract, key))
        after = _contract_value(key, fields[key])
        unit = " 万元" if key == "amount_wan" else ""
        parts.append(f"{label} {before} → {after}{unit}")
    return "；".join(parts)


def _audit_contract(c: Contract, deal: Deal, actor: User, action: str, **extra: Any) -> None:
    audit.record(
        "contract",
        c.id,
        action,
        actor,
        organization_id=deal.university_id,
        deal_id=deal.id,
        demand_id=deal.demand_id,
        patent_id=deal.patent_id,
        kind=c.kind.value,
        amount_wan=str(c.amount_wan),
        signed_on=c.signed_on.isoformat(),
        record_no=c.record_no,
        license_scope=c.license_scope.value if c.license_scope else None,
        license_until=c.license_until.isoformat() if c.license_until else None,
        **extra,
    )


@conflict_on_stale(STALE_DEAL)
def record_contract(
    deal_id: int,
    data: Mapping[str, Any],
    actor: User,
    expected_version: int | None = None,
) -> Contract:
    """Sign a deal in 洽谈中 with its contract, or correct the contract of a signed deal."""
    deal = _load(deal_id, actor, expected_version)
    permissions.check_contract(actor, deal)
    if deal.contract is None:
        change_stage(
            deal.id,
            workflow.ACTIONS["sign"],
            actor,
            comment=data.get("comment"),
            contract=data,
            expected_version=expected_version,
        )
        return deal.contract  # type: ignore[return-value]  (signing created it)
    contract = deal.contract
    fields = _clean_contract(data, deal)
    if expected_version is None:
        # A correction overwrites what is recorded: only from what the corrector has seen.
        raise ValidationFailed(
            "更正已登记的合同须提供 version（对接记录的当前版本号），以免覆盖他人刚做的更正",
            details={"version": "请提供对接记录的当前版本号"},
        )
    changed = {
        k: [_plain(getattr(contract, k)), _plain(v)]
        for k, v in fields.items()
        if getattr(contract, k) != v
    }
    if not changed:
        raise ValidationFailed("合同信息没有变化")
    old_kind = contract.kind
    what = correction_text(contract, fields)
    for key, value in fields.items():
        setattr(contract, key, value)
    deal.updated_at = utcnow()
    summary = _contract_summary(contract)
    _event(deal, actor, "contract", deal.stage, deal.stage, f"更正：{what}")
    db.session.flush()
    _audit_contract(contract, deal, actor, "update", changes=changed)
    if contract.kind != old_kind:
        _implement(deal.patent, contract, deal, actor, corrects=old_kind)
    _drop_held(deal, contract)
    sent = _notify_others(
        deal, actor, "deal_contract", f"合同信息已更新：{_pair(deal)}", f"更正：{what}\n{summary}"
    )
    db.session.commit()
    notifications.send_emails(sent)
    return contract


# ---------------------------------------------------------------------------- 实施状态

# What a signed contract makes of the patent's 实施状态 (the inventory field).
IMPLEMENTATION_BY_KIND = {
    ContractKind.ASSIGNMENT: ImplementationStatus.TRANSFERRED,
    ContractKind.LICENSE: ImplementationStatus.LICENSED,
    ContractKind.OPEN_LICENSE: ImplementationStatus.LICENSED,
    ContractKind.EQUITY: ImplementationStatus.EQUITY,
}
# A contract moves the status forward, never back: 已产业化 stays, and a licence does not
# replace 已转让 / 作价入股 (the rights already left the university).
_RANK = {
    None: 0,
    ImplementationStatus.NOT_IMPLEMENTED: 0,
    ImplementationStatus.SELF: 1,
    ImplementationStatus.LICENSED: 2,
    ImplementationStatus.TRANSFERRED: 3,
    ImplementationStatus.EQUITY: 3,
    ImplementationStatus.INDUSTRIALIZED: 4,
}


def implementation_after(
    current: ImplementationStatus | None,
    kind: ContractKind,
    corrects: ContractKind | None = None,
) -> ImplementationStatus | None:
    """The patent's 实施状态 after a contract of ``kind`` (None: leave it). ``corrects``: the
    kind the contract had before a correction; the status it set is replaced outright."""
    target = IMPLEMENTATION_BY_KIND[kind]
    if target == current:
        return None
    if corrects is not None:
        return target if current == IMPLEMENTATION_BY_KIND[corrects] else None
    return target if _RANK[target] >= _RANK[current] else None


def _implement(
    patent: Patent,
    contract: Contract,
    deal: Deal,
    actor: User,
    corrects: ContractKind | None = None,
) -> None:
    """Set the patent's 实施状态 from the contract, with a field-history revision and an audit
    event in the caller's transaction. No commit."""
    old = patent.implementation_status
    new = implementation_after(old, contract.kind, corrects)
    if new is None:
        return
    patent.implementation_status = new
    changes = {"implementation_status": [old.value if old else None, new.value]}
    db.session.add(
        PatentRevision(patent_id=patent.id, actor_id=actor.id, source="contract", changes=changes)
    )
    audit.record(
        "patent",
        patent.id,
        "implementation",
        actor,
        organization_id=patent.institution_id,
        changes=changes,
        deal_id=deal.id,
        contract_id=contract.id,
        contract_kind=contract.kind.value,
    )
    inventory.announce_rights_gone(
        patent, actor, f"专利{{gone}}（{contract.kind.label}合同，对接记录 #{deal.id}）"
    )


def _drop_held(deal: Deal, contract: Contract) -> None:
    """The engine's undecided candidates the contract rules out leave the review queue: of
    every demand for a sole or exclusive licence in force, of the enterprise's demands for
    any contract (matching.holds: runs no longer propose them). No commit."""
    ended = contract.license_until is not None and contract.license_until < clock.local_today()
    if contract.kind in _LICENCE_KINDS and ended:
        return  # recorded after its term: holds nothing now
    exclusive = contract.kind == ContractKind.LICENSE and contract.license_scope in EXCLUSIVE_SCOPES
    runs.drop_held_candidates(deal.patent_id, None if exclusive else deal.enterprise_id)


def _plain(value: Any) -> Any:
    if isinstance(value, (date, Decimal)):
        return str(value)
    return getattr(value, "value", value)


# ---------------------------------------------------------------------------- overdue


REMIND_EVERY = timedelta(hours=24)  # a university is asked again at most once a day per deal


def remind(deal_id: int, actor: User, comment: str | None = None) -> Deal:
    """催办: an officer asks the university again for its overdue answer (the automatic reminder
    goes out once; an officer trial found a deal 15 days overdue with nothing more to do).
    The university gets a notice (and e-mail) naming the officer, the deadline and the days
    overdue; the deal's timeline and the audit log record it. At most once a day per deal.
    Commits."""
    if actor.role not in permissions.REMIND_ROLES:
        raise PermissionDenied("只有技术经理人和平台管理员可以催办")
    deal = _load(deal_id, actor, None)
    now = utcnow()
    if not queries.is_overdue(deal, now):
        raise InvalidTransition("这个对接的高校答复没有逾期（或已答复、对接已结束），无需催办")
    comment = clean_text(comment)[:500] or None
    last = db.session.scalar(
        sa.select(sa.func.max(DealEvent.created_at)).where(
            DealEvent.deal_id == deal.id, DealEvent.kind == "reminder"
        )
    )
    if last is not None and now - as_utc(last) < REMIND_EVERY:
        raise InvalidTransition(
            f"已于 {clock.format_dt(last)} 催办过，同一对接每天最多催办一次；急事请直接电话联系"
        )
    days = max(1, (now - as_utc(deal.response_due_at)).days)
    due_text = clock.format_dt(deal.response_due_at)
    body = (
        f"{staff_title(actor)}{actor.name}提醒：答复期限为 {due_text}（{clock.zone_label()}），"
        f"已逾期 {days} 天，请尽快答复是否愿意对接。"
    ) + (f"\n留言：{comment}" if comment else "")
    note = notifications.notify(
        "response_reminder",
        f"催办：请答复企业需求“{deal.demand.title}”与贵校专利《{deal.patent.title}》的对接",
        organization_id=deal.university_id,
        body=body,
        link=deal_link(deal.id),
        deal_id=deal.id,
    )
    _event(deal, actor, "reminder", deal.stage, deal.stage, comment or "催办高校答复")
    audit.record(
        "deal",
        deal.id,
        "remind",
        actor,
        organization_id=deal.university_id,
        days_overdue=days,
        comment=comment,
    )
    db.session.commit()
    notifications.send_emails([note])
    return deal


def staff_title(actor: User) -> str:
    """How a notice names the staff member who acted: 技术经理人 or 平台管理员 (an admin's
    extension read 「技术经理人平台管理员将…」)."""
    return "平台管理员" if actor.role == Role.PLATFORM_ADMIN else "技术经理人"


MAX_EXTENSION_DAYS = 60  # one extension; more can follow, each with its own reason


def extend_deadline(deal_id: int, actor: User, days: Any, reason: str | None) -> Deal:
    """延长答复期限: staff give the university more time (a school's committee meets monthly;
    an officer trial could only 催办 while the deadline stayed). The new deadline is ``days``
    after the later of the current deadline and now (an overdue deal gets ``days`` from today),
    with a reason. The university is told; the timeline and the audit log record the old and
    new deadlines. Once the new deadline passes unanswered, the automatic overdue reminder goes
    out again (queries.overdue_unnotified counts only reminders sent after the deadline in
    force). Commits."""
    if actor.role not in permissions.REMIND_ROLES:
        raise PermissionDenied("只有技术经理人和平台管理员可以延长答复期限")
    try:
        n = int(str(days).strip())
    except (TypeError, ValueError):
        n = 0
    errors: dict[str, str] = {}
    if not 1 <= n <= MAX_EXTENSION_DAYS:
        errors["days"] = f"请填写延长的天数：1–{MAX_EXTENSION_DAYS} 之间的整数"
    reason = clean_text(reason)[:500]
    if not reason:
        errors["reason"] = "请填写延长的原因（高校会看到）"
    if errors:
        raise ValidationFailed("；".join(errors.values()), details=errors)
    deal = _load(deal_id, actor, None)
    if deal.response is not None or deal.stage in (Stage.SIGNED, Stage.FAILED):
        raise InvalidTransition("高校已答复或对接已结束，答复期限不再适用")
    now = utcnow()
    old = as_utc(deal.response_due_at)
    new_due = max(old, now) + timedelta(days=n)
    if new_due > now + timedelta(days=MAX_EXTENSION_DAYS):
        # one cap for repeated extensions too (six quick ones had moved a deadline 60 days on)
        latest = clock.format_dt(now + timedelta(days=MAX_EXTENSION_DAYS))
        raise ValidationFailed(
            f"答复期限最多延到今天起 {MAX_EXTENSION_DAYS} 天（{latest}）",
            details={"days": f"最多延到今天起 {MAX_EXTENSION_DAYS} 天"},
        )
    if old < now and deal.lapsed_at is None:
        deal.lapsed_at = old  # the answer stays late whatever the new deadline
    deal.response_due_at = new_due
    new_text = clock.format_dt(deal.response_due_at)
    note = notifications.notify(
        "response_deadline",
        f"答复期限已延长：企业需求“{deal.demand.title}”与贵校专利《{deal.patent.title}》",
        organization_id=deal.university_id,
        body=(
            f"{staff_title(actor)}{actor.name}将答复期限由 {clock.format_dt(old)} 延长至 {new_text}"
            f"（{clock.zone_label()}）。原因：{reason}"
        ),
        link=deal_link(deal.id),
        deal_id=deal.id,
    )
    _event(deal, actor, "deadline", deal.stage, deal.stage, f"答复期限延长至 {new_text}：{reason}")
    audit.record(
        "deal",
        deal.id,
        "extend_deadline",
        actor,
        organization_id=deal.university_id,
        previous_due=old.isoformat(),
        response_due_at=as_utc(deal.response_due_at).isoformat(),
        extension_days=n,
        comment=reason,
    )
    db.session.commit()
    notifications.send_emails([note])
    return deal


def notify_overdue(now: datetime | None = None) -> list[int]:
    """Remind universities (once per deal) of pushed deals they have not answered in time, and
    tell the officer who pushed them. Commits; returns the deal ids reminded."""
    deals = queries.overdue_unnotified(now)
    sent: list[Notification] = []
    for deal in deals:
        link = deal_link(deal.id)
        due_text = clock.format_dt(deal.response_due_at)  # the moment, not only the day
        sent.append(
            notifications.notify(
                "response_overdue",
                f"答复已逾期：企业需求“{deal.demand.title}”匹配贵校专利《{deal.patent.title}》",
                organization_id=deal.university_id,
                body=f"答复期限为 {due_text}（{clock.zone_label()}），请尽快答复是否愿意对接。",
                link=link,
                deal_id=deal.id,
            )
        )
        if deal.officer_id:
            sent.append(
                notifications.notify(
                    "response_overdue",
                    f"高校答复逾期：{_pair(deal)}",
                    user_id=deal.officer_id,
                    body=(
                        f"{deal.university.name}未在答复期限 {due_text}"
                        f"（{clock.zone_label()}）前答复，已发送提醒。"
                    ),
                    link=link,
                    deal_id=deal.id,
                )
            )
    ids = [d.id for d in deals]  # before the commit expires them (one reload each after)
    db.session.commit()
    notifications.send_emails(sent)
    if ids:
        logger.info("Reminded %d overdue deal(s)", len(ids))
    return ids


__all__ = [
    "change_stage",
    "end_deals_of_closed_demands",
    "end_for_closed_demand",
    "notify_overdue",
    "push",
    "remind",
    "record_contract",
    "respond",
]
