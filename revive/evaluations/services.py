"""市场评价 writes. Public functions commit; e-mails are queued after the commit.

evaluate_patent   an enterprise rates a patent in the pool; rating again updates its evaluation
                  (optimistic lock on Evaluation.version), never a second row
invite_enterprise an officer / platform admin / the patent's university admin invites an
                  enterprise to evaluate a patent in the pool; the enterprise is notified
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from revive.accounts.models import Organization, OrgKind, User
from revive.audit import services as audit
from revive.common.links import has_link, link_message
from revive.errors import ConflictError, InvalidTransition, ValidationFailed
from revive.evaluations import permissions, queries
from revive.evaluations.models import CooperationIntent, Evaluation, EvaluationInvite
from revive.extensions import db
from revive.inventory import permissions as inventory_permissions
from revive.inventory.models import Patent
from revive.inventory.public import not_public_reason
from revive.notifications import services as notifications
from revive.notifications.models import Notification
from revive.web import int_arg

IMPROVEMENT_MAX = 2000
STALE = "贵企业对该专利的评价已被同事修改，请刷新页面后重试（您的修改未保存）"


@dataclass(frozen=True)
class EvaluationInput:
    prospect_stars: int
    intent: CooperationIntent
    improvement_needs: str | None


def parse_input(prospect_stars: Any, intent: Any, improvement_needs: Any) -> EvaluationInput:
    """Validate the three answers; ValidationFailed names each wrong field."""
    errors: dict[str, str] = {}
    stars: int | None = None
    value = None if isinstance(prospect_stars, bool) else int_arg(prospect_stars, minimum=1)
    if value is not None and value <= 5:
        stars = value
    else:
        errors["prospect_stars"] = "请为产业化前景选择 1–5 星"
    chosen: CooperationIntent | None = None
    try:
        chosen = CooperationIntent(str(intent or "").strip())
    except ValueError:
        by_label = CooperationIntent.by_label().get(str(intent or "").strip())
        if by_label is None:
            errors["intent"] = "请选择合作意愿：" + "、".join(i.label for i in CooperationIntent)
        else:
            chosen = by_label  # type: ignore[assignment]
    needs = str(improvement_needs or "").strip() or None
    if needs and len(needs) > IMPROVEMENT_MAX:
        errors["improvement_needs"] = f"技术改进需求不能超过 {IMPROVEMENT_MAX} 字"
    elif has_link(needs):  # shown to the university and to the other evaluating enterprises
        errors["improvement_needs"] = link_message("技术改进需求")
    if errors:
        raise ValidationFailed("；".join(errors.values()), details=errors)
    assert stars is not None and chosen is not None
    return EvaluationInput(stars, chosen, needs)


def _check_in_pool(patent: Patent, doing: str) -> None:
    """Only a patent in the pool (inventory.public.is_public) is evaluated or invited for: one
    withdrawn for re-review, assigned, contributed as equity or lapsed is no longer offered to
    enterprises, and the form no longer shows its details."""
    reason = not_public_reason(patent)
    if reason is not None:
        raise InvalidTransition(f"{reason}，只有资源库中的已入库专利可以{doing}")


def evaluate_patent(
    patent_id: int,
    *,
    actor: User,
    prospect_stars: Any,
    intent: Any,
    improvement_needs: Any = None,
    expected_version: int | None = None,
) -> tuple[Evaluation, bool]:
    """Create or update the actor's enterprise evaluation of a patent. Returns (row, created).

    ``expected_version``: the version the user's form was based on (None for a first rating
    or an API client that does not care); a different stored version is a ConflictError.
    """
    patent = permissions.get_patent_to_evaluate(actor, patent_id)
    _check_in_pool(patent, "评价")
    data = parse_input(prospect_stars, intent, improvement_needs)
    org_id = actor.organization_id
    evaluation = queries.own_evaluation(org_id, patent.id)
    created = evaluation is None
    if evaluation is None:
        if expected_version:
            raise ConflictError(STALE)  # the form showed an evaluation that is gone
        evaluation = Evaluation(patent_id=patent.id, enterprise_id=org_id)
        db.session.add(evaluation)
    elif expected_version is not None and expected_version != evaluation.version:
        raise ConflictError(STALE)
    before = (
        None
        if created
        else {
            "prospect_stars": evaluation.prospect_stars,
            "intent": evaluation.intent.value,
        }
    )
    evaluation.user_id = actor.id
    evaluation.prospect_stars = data.prospect_stars
    evaluation.intent = data.intent
    evaluation.improvement_needs = data.improvement_needs
    sent: list[Notification] = []
    try:
        db.session.flush()
        audit.record(
            "evaluation",
            evaluation.id,
            "create" if created else "update",
            actor,
            organization_id=org_id,
            patent_id=patent.id,
            prospect_stars=data.prospect_stars,
            intent=data.intent.value,
            before=before,
        )
        if created:
            sent.extend(_notify_university(patent, actor.organization, data))
        db.session.commit()
    except (StaleDataError, IntegrityError):
        # Someone of the same enterprise saved first (version bump, or the unique row).
        db.session.rollback()
        raise ConflictError(STALE) from None
    notifications.send_emails(sent)
    return evaluation, created


def _notify_university(
    patent: Patent, enterprise: Organization | None, data: EvaluationInput
) -> list[Notification]:
    """Tell the university's members who may see the patent (its admins, the patent's college
    admins and linked inventors), each by name: sent to the whole university, the named
    enterprise, its stars and intent reached every inventor of every college, and by e-mail
    (a security review)."""
    name = enterprise.name if enterprise else "企业"
    members = db.session.scalars(
        sa.select(User).where(
            User.organization_id == patent.institution_id, User.is_active_flag.is_(True)
        )
    )
    return [
        notifications.notify(
            "evaluation_received",
            f"{name}评价了贵校专利：{patent.title}",
            user_id=member.id,
            body=f"产业化前景 {data.prospect_stars}★，合作意愿：{data.intent.label}。",
            link=url_for("inventory.detail", patent_id=patent.id, _external=False),
        )
        for member in members
        if inventory_permissions.can_view(member, patent)
    ]


def _enterprise(enterprise_id: Any, enterprise_name: Any) -> Organization:
    if enterprise_id not in (None, ""):
        org = None
        org_id = None if isinstance(enterprise_id, bool) else int_arg(enterprise_id)
        if org_id is not None:
            org = db.session.get(Organization, org_id)
        if org is None or org.kind != OrgKind.ENTERPRISE:
            raise ValidationFailed("未找到该企业", details={"enterprise_id": "未找到该企业"})
        return org
    name = str(enterprise_name or "").strip()
    if not name:
        raise ValidationFailed("请填写企业名称", details={"enterprise_name": "请填写企业名称"})
    found = queries.find_enterprises(name)
    if not found:
        raise ValidationFailed(
            f"未找到名称包含「{name}」的企业（企业须先在平台注册）",
            details={"enterprise_name": "未找到该企业"},
        )
    if len(found) > 1:
        names = "、".join(o.name for o in found[:5])
        raise ValidationFailed(
            f"有多家企业名称包含「{name}」，请填写完整名称：{names}",
            details={"enterprise_name": "匹配到多家企业"},
        )
    return found[0]


def invite_enterprise(
    patent_id: int,
    *,
    actor: User,
    enterprise_id: Any = None,
    enterprise_name: Any = None,
) -> tuple[EvaluationInvite, bool]:
    """Invite an enterprise (by id, or by exact / unique partial name) to evaluate an entered
    patent and notify it. Inviting it again changes nothing. Returns (invite, created)."""
    patent = permissions.get_patent_to_invite(actor, patent_id)
    _check_in_pool(patent, "邀请企业评价")
    enterprise = _enterprise(enterprise_id, enterprise_name)
    existing = _invite_of(patent.id, enterprise.id)
    if existing is not None:
        return existing, False
    invite = EvaluationInvite(
        patent_id=patent.id, enterprise_id=enterprise.id, invited_by_id=actor.id
    )
    db.session.add(invite)
    try:
        db.session.flush()
    except IntegrityError:  # invited by someone else a moment ago
        db.session.rollback()
        existing = _invite_of(patent.id, enterprise.id)
        if existing is None:
            raise ConflictError("邀请未能保存，请重试") from None
        return existing, False
    audit.record(
        "evaluation_invite",
        invite.id,
        "create",
        actor,
        organization_id=patent.institution_id,
        patent_id=patent.id,
        enterprise_id=enterprise.id,
    )
    sent = [
        notifications.notify(
            "evaluation_invited",
            f"邀请贵企业评价专利：{patent.title}",
            organization_id=enterprise.id,
            body=f"{patent.institution.name}的专利《{patent.title}》邀请贵企业进行市场评价"
            "（产业化前景、技术改进需求、合作意愿）。",
            link=url_for("evaluations.evaluate", patent_id=patent.id, _external=False),
        )
    ]
    db.session.commit()
    notifications.send_emails(sent)
    return invite, True


def _invite_of(patent_id: int, enterprise_id: int) -> EvaluationInvite | None:
    return db.session.scalar(
        db.select(EvaluationInvite).where(
            EvaluationInvite.patent_id == patent_id,
            EvaluationInvite.enterprise_id == enterprise_id,
        )
    )
