"""Declaring and withdrawing open licences. Public functions commit and write an audit event.

declare          validate every rule (revive.licensing.rules), then create an ACTIVE declaration
withdraw         ACTIVE → WITHDRAWN with the time, optimistic locking on the declaration version
declaration_form the patent to declare on and what already stands in the way (for the form)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from revive import clock
from revive.accounts.models import User
from revive.audit import services as audit
from revive.db import commit_or_conflict, lock_row, utcnow
from revive.deals import services as deals
from revive.deals.models import Contract, Deal
from revive.deals.services import IMPLEMENTATION_BY_KIND
from revive.errors import ConflictError, InvalidTransition, ValidationFailed
from revive.extensions import db
from revive.inventory.models import Patent
from revive.inventory.public import RIGHTS_GONE, gone_status, gone_text
from revive.licensing import permissions, queries, rules
from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration

AUDIT_ENTITY = "open_licence"
WITHDRAW_REASON_MAX = 500
STALE = "该声明已被他人修改，请刷新页面后重试"


class DeclarationRejected(ValidationFailed):
    """422 listing every violated rule: ``details`` is {field: message} (messages of one field
    joined by "；") for the API; ``errors`` keeps the (field, message) list for the form."""

    def __init__(self, errors: list[rules.Error]) -> None:
        details: dict[str, str] = {}
        for key, message in errors:
            details[key] = f"{details[key]}；{message}" if key in details else message
        super().__init__("；".join(m for _, m in errors), details=details)
        self.errors = errors


@dataclass
class DeclarationForm:
    patent: Patent
    problems: list[rules.Error]  # patent-level rules already violated (not entered, declared…)
    active: OpenLicenceDeclaration | None


# Contracts that take the patent right away from the university: those whose 实施状态 is one
# of inventory.public.RIGHTS_GONE (转让, 作价入股).
RIGHTS_CONTRACTS = tuple(k for k, s in IMPLEMENTATION_BY_KIND.items() if s in RIGHTS_GONE)


def rights_gone_reason(patent: Patent) -> str | None:
    """Why the patent is no longer the university's to license, or None: its 实施状态 says
    已转让 / 作价入股, or a 转让 / 作价入股 contract is registered on one of its deals (even if
    the status was edited back since)."""
    status = gone_status(patent)
    if status is not None:
        return f"{gone_text(status)}（实施状态：{status.label}）"
    contract = db.session.scalar(
        sa.select(Contract)
        .join(Deal, Deal.id == Contract.deal_id)
        .where(Deal.patent_id == patent.id, Contract.kind.in_(RIGHTS_CONTRACTS))
        .order_by(Contract.signed_on.desc(), Contract.id.desc())
        .limit(1)
    )
    if contract is None:
        return None
    verb = gone_text(IMPLEMENTATION_BY_KIND[contract.kind])
    return f"{verb}（{contract.kind.label}合同签订于 {contract.signed_on.isoformat()}）"


def patent_facts(patent: Patent, *, has_active: bool | None = None) -> rules.PatentFacts:
    """The patent-level facts the rules check (``has_active``: already looked up, else queried)."""
    if has_active is None:
        has_active = queries.active_for_patent(patent.id) is not None
    return rules.PatentFacts(
        patent_type=patent.patent_type,
        patentees=patent.patentees,
        status=patent.status,
        has_active_declaration=has_active,
        legal_status=patent.legal_status,
        rights_gone=rights_gone_reason(patent),
        exclusive_licence=exclusive_licence_reason(patent),
    )


def exclusive_licence_reason(patent: Patent) -> str | None:
    """The sole or exclusive licence recorded on one of the patent's deals and in force today,
    as text, or None."""
    contract = deals.exclusive_in_force(patent.id, clock.local_today())
    return deals.exclusive_text(contract) if contract is not None else None


def declaration_form(patent_id: int, *, actor: User) -> DeclarationForm:
    """The patent the actor may declare on (404 / 403 otherwise) and its patent-level problems."""
    patent = permissions.get_manageable_patent(actor, patent_id)
    active = queries.active_for_patent(patent.id)
    return DeclarationForm(
        patent=patent,
        problems=rules.check_patent(patent_facts(patent, has_active=active is not None)),
        active=active,
    )


def _lock_patent(patent_id: int) -> None:
    """Serialise declarations on one patent (revive.db.lock_row) so two concurrent requests
    cannot both pass the "no active declaration" rule."""
    lock_row(Patent, patent_id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def declare(patent_id: int, raw: Mapping[str, Any], *, actor: User) -> OpenLicenceDeclaration:
    """Create an ACTIVE open-licence declaration on the patent; every violated rule → 422.
    Commits (declaration + audit event)."""
    patent = permissions.get_manageable_patent(actor, patent_id)
    _lock_patent(patent.id)
    terms, errors = rules.validate(raw, patent_facts(patent))
    if errors:
        db.session.rollback()
        raise DeclarationRejected(errors)
    declaration = OpenLicenceDeclaration(
        patent=patent,
        status=DeclarationStatus.ACTIVE,
        declared_by_id=actor.id,
        **terms.values(),
    )
    db.session.add(declaration)
    db.session.flush()
    audit.record(
        AUDIT_ENTITY,
        declaration.id,
        "declare",
        actor,
        organization_id=patent.institution_id,
        patent_id=patent.id,
        **{k: _jsonable(v) for k, v in terms.values().items() if k != "terms"},
    )
    db.session.commit()
    return declaration


def withdraw(
    declaration_id: int,
    *,
    actor: User,
    expected_version: int | None = None,
    reason: str | None = None,
) -> OpenLicenceDeclaration:
    """ACTIVE → WITHDRAWN. ConflictError when ``expected_version`` is stale. Commits.

    Licences already taken under the declaration are not affected (专利法第五十一条); the
    page says so.
    """
    declaration = permissions.get_visible_declaration(actor, declaration_id)
    permissions.check_manage(actor, declaration)
    if declaration.status != DeclarationStatus.ACTIVE:
        raise InvalidTransition("该开放许可声明已撤回")
    if expected_version is not None and expected_version != declaration.version:
        raise ConflictError(STALE)
    reason = (reason or "").strip()
    if len(reason) > WITHDRAW_REASON_MAX:
        raise ValidationFailed(
            f"撤回原因最多 {WITHDRAW_REASON_MAX} 字", details={"reason": "撤回原因过长"}
        )
    declaration.status = DeclarationStatus.WITHDRAWN
    declaration.withdrawn_at = utcnow()
    audit.record(
        AUDIT_ENTITY,
        declaration.id,
        "withdraw",
        actor,
        organization_id=declaration.patent.institution_id,
        patent_id=declaration.patent_id,
        reason=reason or None,
    )
    commit_or_conflict(STALE)
    return declaration


def get_declaration_for(actor: User, declaration_id: int) -> OpenLicenceDeclaration:
    return permissions.get_visible_declaration(actor, declaration_id)
