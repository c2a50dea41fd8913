"""开放许可实施申请: an enterprise applies to implement a declared open licence; the holder
confirms it or records the signed licence; the applicant may withdraw it. Public functions
commit and write an audit event; the holder and the applicant hear of each step (inbox, and
e-mail when SMTP is configured).

    application_form   the declaration an enterprise may apply to, and why it may not
    apply              validate the applicant's details and the acceptance of the declared
                       terms, snapshot the terms, create SUBMITTED; the holder is told
    confirm / sign     the holder: SUBMITTED → CONFIRMED (已确认), SUBMITTED/CONFIRMED → SIGNED
                       (已签订), each with its date
    withdraw           the applicant: SUBMITTED/CONFIRMED → WITHDRAWN

Rules: the declared fee is public and the same for every licensee (专利法第五十条), so the form
shows the terms and asks for their acceptance — there is no amount to propose; one held
application (submitted, confirmed or signed) per enterprise and declaration; a withdrawn
declaration, a patent that left the pool or a licence period that has ended take no new
application. The holder is the patent's university admins and — when a college admin made the
declaration — the admins of the patent's college (licensing.permissions.can_manage decides who
may act; the platform admin may too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from revive import clock
from revive.accounts.models import Role, User
from revive.audit import services as audit
from revive.common.links import link_errors
from revive.db import commit_or_conflict, lock_row, utcnow
from revive.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from revive.extensions import db
from revive.inventory.models import EntryStatus
from revive.inventory.public import gone_status, gone_text
from revive.licensing import display, permissions
from revive.licensing.models import (
    HELD_STATUSES,
    ApplicationStatus,
    DeclarationStatus,
    LicenceApplication,
    OpenLicenceDeclaration,
)
from revive.matching.manual import check_asking_budget
from revive.notifications import services as notifications
from revive.notifications.models import Notification

AUDIT_ENTITY = "licence_application"
NOTICE_KIND = "licence_application"
CONTACT_NAME_MAX = 100
PHONE_MAX = 40
EMAIL_MAX = 254
USE_MAX = 2000
NOTE_MAX = 500
FIELDS = ("contact_name", "contact_phone", "contact_email", "intended_use", "accept_terms")
LABELS = {
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "contact_email": "联系邮箱",
    "intended_use": "实施计划",
    "accept_terms": "接受声明的许可条件",
    "date": "日期",
    "note": "备注",
    "reason": "撤回原因",
}
PHONE = re.compile(r"^[0-9+\-()（）\s转]{5,40}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TRUE = frozenset({"1", "true", "on", "yes", "y"})
STALE = "该申请已被他人处理，请刷新页面后重试"
WITHDRAWN_DECLARATION = "该开放许可声明已撤回，不再接受实施申请；撤回前已获得的许可不受影响"


@dataclass(frozen=True)
class Step:
    """One move of an application: who makes it, from which states, to which."""

    name: str
    label: str
    to: ApplicationStatus
    sources: frozenset[ApplicationStatus]
    by_holder: bool


STEPS = {
    "confirm": Step(
        "confirm",
        "确认申请",
        ApplicationStatus.CONFIRMED,
        frozenset({ApplicationStatus.SUBMITTED}),
        True,
    ),
    "sign": Step(
        "sign",
        "登记签订",
        ApplicationStatus.SIGNED,
        frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.CONFIRMED}),
        True,
    ),
    "withdraw": Step(
        "withdraw",
        "撤回申请",
        ApplicationStatus.WITHDRAWN,
        frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.CONFIRMED}),
        False,
    ),
}


# ---------------------------------------------------------------------------- the form


@dataclass
class ApplicationForm:
    declaration: OpenLicenceDeclaration
    problem: str | None  # why this enterprise may not apply now (None: it may)
    held: LicenceApplication | None  # its application already held on this declaration
    defaults: dict[str, str] = field(default_factory=dict)


def _held(declaration_id: int, enterprise_id: int | None) -> LicenceApplication | None:
    if enterprise_id is None:
        return None
    return db.session.scalar(
        sa.select(LicenceApplication)
        .where(
            LicenceApplication.declaration_id == declaration_id,
            LicenceApplication.enterprise_id == enterprise_id,
            LicenceApplication.status.in_(HELD_STATUSES),
        )
        .limit(1)
    )


def _problem(d: OpenLicenceDeclaration, held: LicenceApplication | None) -> str | None:
    if d.status == DeclarationStatus.WITHDRAWN:
        return WITHDRAWN_DECLARATION
    gone = gone_status(d.patent)
    if gone is not None:
        return f"该专利{gone_text(gone)}，专利权已不属于声明人，不再接受实施申请"
    if d.patent.status != EntryStatus.ENTERED:
        return "该专利目前不在可转化专利资源库中，暂不接受实施申请"
    if d.end_date < clock.local_today():
        return f"该开放许可的期限已于 {d.end_date.isoformat()} 届满，不再接受实施申请"
    if held is not None and held.status == ApplicationStatus.SIGNED:
        return "您已与专利权人签订该开放许可，无需再次申请"
    if held is not None:
        return f"您已提交过该开放许可的实施申请（{held.status.label}），请勿重复申请"
    return None


def _check_applicant(actor: User) -> None:
    if actor.role not in permissions.APPLICANT_ROLES or actor.organization_id is None:
        raise PermissionDenied("只有企业用户可以申请实施开放许可")


def application_form(declaration_id: int, *, actor: User) -> ApplicationForm:
    """The declaration (404 when not visible) and what stands in the way of applying."""
    _check_applicant(actor)
    d = db.session.get(OpenLicenceDeclaration, declaration_id)
    if d is None:
        raise NotFoundError("开放许可声明不存在或您无权查看")
    if not permissions.can_view(actor, d):
        # A withdrawn declaration is no longer public; an old link says why it takes no
        # application (nothing else of it is shown).
        if d.status == DeclarationStatus.WITHDRAWN:
            raise InvalidTransition(WITHDRAWN_DECLARATION)
        raise NotFoundError("开放许可声明不存在或您无权查看")
    held = _held(d.id, actor.organization_id)
    return ApplicationForm(
        declaration=d,
        problem=_problem(d, held),
        held=held,
        defaults={
            "contact_name": actor.name,
            "contact_phone": actor.phone or "",
            "contact_email": actor.email,
        },
    )


def terms_snapshot(d: OpenLicenceDeclaration) -> dict[str, Any]:
    """The declared terms as the applicant accepted them (JSON)."""

    def amount(value: Any) -> str | None:
        return display.amount(value) if value is not None else None

    return {
        "declaration_id": d.id,
        "declaration_version": d.version,
        "fee_mode": d.fee_mode.value,
        "fee_mode_label": d.fee_mode.label,
        "fee_summary": display.fee_summary(d),
        "lump_sum_wan": amount(d.lump_sum_wan),
        "entry_fee_wan": amount(d.entry_fee_wan),
        "royalty_sales_pct": amount(d.royalty_sales_pct),
        "royalty_profit_pct": amount(d.royalty_profit_pct),
        "start_date": d.start_date.isoformat(),
        "end_date": d.end_date.isoformat(),
        "period": display.period_text(d),
        "scope": display.SCOPE,
        "terms": d.terms,
        "declared_at": d.created_at.isoformat() if d.created_at else None,
    }


# ---------------------------------------------------------------------------- validation


def _text(raw: Any, key: str, limit: int, *, required: bool, errors: dict[str, str]) -> str:
    if raw is not None and not isinstance(raw, str):
        errors[key] = f"{LABELS[key]}须为文字"
        return ""
    text = (raw or "").replace("\x00", "").strip()
    if required and not text:
        errors[key] = f"请填写{LABELS[key]}"
    elif len(text) > limit:
        errors[key] = f"{LABELS[key]}不能超过 {limit} 字（当前 {len(text)} 字）"
    return text


def _accepted(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    return isinstance(raw, str) and raw.strip().lower() in TRUE


def validate(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The applicant's details; ValidationFailed (422) listing every problem."""
    errors: dict[str, str] = {}
    values = {
        "contact_name": _text(
            raw.get("contact_name"), "contact_name", CONTACT_NAME_MAX, required=True, errors=errors
        ),
        "contact_phone": _text(
            raw.get("contact_phone"), "contact_phone", PHONE_MAX, required=True, errors=errors
        ),
        "contact_email": _text(
            raw.get("contact_email"), "contact_email", EMAIL_MAX, required=False, errors=errors
        ),
        "intended_use": _text(
            raw.get("intended_use"), "intended_use", USE_MAX, required=True, errors=errors
        ),
    }
    # both are quoted in the holders' notices and e-mails (a security review's read
    # 「请访问 http://… 重新验证账号」): no links, as in self-registration
    for key, message in link_errors(
        (key, LABELS[key], values[key]) for key in ("contact_name", "intended_use")
    ).items():
        errors.setdefault(key, message)
    phone, email = values["contact_phone"], values["contact_email"]
    if phone and "contact_phone" not in errors and not PHONE.match(phone):
        errors["contact_phone"] = "联系电话格式不正确（数字、区号与分机号）"
    if email and "contact_email" not in errors and not EMAIL.match(email):
        errors["contact_email"] = "联系邮箱格式不正确"
    if not _accepted(raw.get("accept_terms")):
        errors["accept_terms"] = (
            "请确认接受声明的许可条件：开放许可的使用费对所有被许可人相同，不接受议价"
        )
    if errors:
        raise ValidationFailed("；".join(errors.values()), details=errors)
    values["contact_email"] = email or None
    return values


# ---------------------------------------------------------------------------- notices


def holders(d: OpenLicenceDeclaration) -> list[User]:
    """Who answers for the licence: the university's admins, and the college's admins when a
    college admin declared it (active accounts)."""
    patent = d.patent
    who = sa.and_(User.role == Role.UNIVERSITY_ADMIN, User.organization_id == patent.institution_id)
    declared_by_college = d.declared_by is not None and d.declared_by.role == Role.COLLEGE_ADMIN
    if declared_by_college and patent.college_id is not None:
        who = sa.or_(
            who,
            sa.and_(
                User.role == Role.COLLEGE_ADMIN,
                User.organization_id == patent.institution_id,
                User.college_id == patent.college_id,
            ),
        )
    return list(
        db.session.scalars(
            sa.select(User).where(who, User.is_active_flag.is_(True)).order_by(User.id)
        )
    )


def _link(application: LicenceApplication) -> str:
    return notifications.app_link("licensing.application", application_id=application.id)


def _tell_holders(application: LicenceApplication, title: str, body: str) -> list[Notification]:
    return [
        notifications.notify(NOTICE_KIND, title, user_id=u.id, body=body, link=_link(application))
        for u in holders(application.declaration)
    ]


def _tell_applicant(application: LicenceApplication, title: str, body: str) -> Notification:
    return notifications.notify(
        NOTICE_KIND,
        title,
        organization_id=application.enterprise_id,
        body=body,
        link=_link(application),
    )


# ---------------------------------------------------------------------------- writes


def _lock(declaration_id: int) -> None:
    """Serialise applications on one declaration (revive.db.lock_row) so two requests of one
    enterprise cannot both pass the "none held" rule."""
    lock_row(OpenLicenceDeclaration, declaration_id)


def apply(declaration_id: int, raw: Mapping[str, Any], *, actor: User) -> LicenceApplication:
    """Apply to implement the declared open licence. Commits (application + audit + the
    holder's notices); the holder's e-mails go after the commit."""
    form = application_form(declaration_id, actor=actor)
    d = form.declaration
    # each application (and its withdrawal) notifies and e-mails every holder with the
    # applicant's own text: a security review sent them in a loop. One budget with 申请对接,
    # counted under the enterprise's lock, held until this transaction's commit.
    check_asking_budget(actor, "申请实施开放许可")
    _lock(d.id)
    problem = _problem(d, _held(d.id, actor.organization_id))
    if problem:
        db.session.rollback()
        raise InvalidTransition(problem)
    values = validate(raw)
    org = actor.organization
    application = LicenceApplication(
        declaration_id=d.id,
        patent_id=d.patent_id,
        enterprise_id=org.id,
        applicant_id=actor.id,
        status=ApplicationStatus.SUBMITTED,
        applicant_name=org.name,
        credit_code=org.credit_code,
        terms_accepted=True,
        terms=terms_snapshot(d),
        **values,
    )
    db.session.add(application)
    try:
        db.session.flush()
    except IntegrityError:  # the same enterprise applied a moment ago (unique held index)
        db.session.rollback()
        raise ConflictError("您已提交过该开放许可的实施申请，请勿重复申请") from None
    audit.record(
        AUDIT_ENTITY,
        application.id,
        "apply",
        actor,
        organization_id=d.patent.institution_id,
        declaration_id=d.id,
        patent_id=d.patent_id,
        enterprise_id=org.id,
        fee_summary=application.terms["fee_summary"],
    )
    notes = _tell_holders(
        application,
        f"{org.name}申请实施《{d.patent.title}》的开放许可",
        f"许可条件：{application.terms['fee_summary']}，期限 {application.terms['period']}。"
        f"联系人：{values['contact_name']}。实施计划：{values['intended_use'][:200]}",
    )
    db.session.commit()
    notifications.send_emails(notes)
    return application


def _parse_date(raw: Any, application: LicenceApplication) -> date:
    today = clock.local_today()
    if raw in (None, ""):
        return today
    try:
        day = date.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationFailed(
            "日期格式应为 YYYY-MM-DD", details={"date": "日期格式应为 YYYY-MM-DD"}
        )
    submitted = clock.local_date(application.created_at)
    if day > today:
        raise ValidationFailed("日期不能晚于今天", details={"date": "日期不能晚于今天"})
    if day < submitted:
        raise ValidationFailed(
            f"日期不能早于申请日期 {submitted.isoformat()}",
            details={"date": f"不能早于 {submitted.isoformat()}"},
        )
    return day


def _note(raw: Any, key: str, *, no_links: bool = False) -> str | None:
    """A holder's note or the applicant's withdrawal reason; ``no_links``: the applicant's,
    quoted in the holders' notices and e-mails."""
    errors: dict[str, str] = {}
    text = _text(raw, key, NOTE_MAX, required=False, errors=errors)
    if no_links and not errors:
        errors.update(link_errors([(key, LABELS[key], text)]))
    if errors:
        raise ValidationFailed(errors[key], details=errors)
    return text or None


def act(
    application_id: int,
    step_name: str,
    *,
    actor: User,
    on: Any = None,
    note: Any = None,
    expected_version: int | None = None,
) -> LicenceApplication:
    """Move an application one step (STEPS): the holder confirms or records the signature
    (with a date, today by default; a note), the applicant withdraws (a reason). Commits;
    audited; the other side is told."""
    step = STEPS.get(step_name)
    if step is None:
        raise NotFoundError("没有这个操作")
    application = permissions.get_visible_application(actor, application_id)
    if step.by_holder and not permissions.can_manage(actor, application.patent):
        raise PermissionDenied("只有专利所属学校（学院）的管理员可以处理实施申请")
    if not step.by_holder and not permissions.is_applicant(actor, application):
        raise PermissionDenied("只有申请企业可以撤回实施申请")
    if expected_version is not None and expected_version != application.version:
        raise ConflictError(STALE)
    if application.status not in step.sources:
        raise InvalidTransition(f"申请当前为“{application.status.label}”，不能{step.label}")
    data: dict[str, Any] = {"from_status": application.status.value, "to_status": step.to.value}
    if step.by_holder:
        day = _parse_date(on, application)
        text = _note(note, "note")
        if step.to == ApplicationStatus.CONFIRMED:
            application.confirmed_on = day
        else:
            application.signed_on = day
        application.decided_by_id = actor.id
        if text:
            application.holder_note = text
        data.update(date=day.isoformat(), note=text)
    else:
        reason = _note(note, "reason", no_links=True)
        application.withdrawn_at = utcnow()
        application.withdraw_reason = reason
        data["reason"] = reason
    application.status = step.to
    audit.record(
        AUDIT_ENTITY,
        application.id,
        step.name,
        actor,
        organization_id=application.patent.institution_id,
        **data,
    )
    notes = _notices(application, step)
    commit_or_conflict(STALE)
    notifications.send_emails(notes)
    return application


def _notices(application: LicenceApplication, step: Step) -> list[Notification]:
    title = application.patent.title
    if step.name == "withdraw":
        return _tell_holders(
            application,
            f"{application.applicant_name}撤回了《{title}》的开放许可实施申请",
            f"撤回原因：{application.withdraw_reason or '（未填写）'}",
        )
    day = application.confirmed_on if step.name == "confirm" else application.signed_on
    verb = "确认了您的开放许可实施申请" if step.name == "confirm" else "已登记与您签订开放许可"
    body = f"专利《{title}》，日期 {day.isoformat() if day else ''}。"
    if application.holder_note:
        body += f"专利权人备注：{application.holder_note}"
    return [_tell_applicant(application, f"{application.patent.institution.name}{verb}", body)]
