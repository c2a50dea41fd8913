"""Licensing's receivers of the domain signals (revive.signals), connected by create_app."""

from __future__ import annotations

from datetime import date
from typing import Any

from revive import signals
from revive.audit import services as audit
from revive.db import utcnow
from revive.deals.models import EXCLUSIVE_SCOPES, ContractKind
from revive.licensing import queries
from revive.licensing.models import DeclarationStatus


def _patent_rights_gone(sender: Any, patent: Any, actor: Any, reason: str, **_: Any) -> None:
    """The patent was assigned / contributed as equity: its active open-licence declaration is
    withdrawn in the same transaction (the university can no longer license it). Licences
    already taken under it are not affected (专利法第五十一条). Rows only, no commit."""
    declaration = queries.active_for_patent(patent.id)
    if declaration is None:
        return
    declaration.status = DeclarationStatus.WITHDRAWN
    declaration.withdrawn_at = utcnow()
    audit.record(
        "open_licence",
        declaration.id,
        "withdraw",
        actor,
        organization_id=patent.institution_id,
        patent_id=patent.id,
        reason=reason,
    )


def _contract_checked(
    sender: Any, patent: Any, kind: Any, scope: Any, signed_on: date, **_: Any
) -> dict[str, str] | None:
    """A 开放许可 contract needs a declaration in effect on its signing day (a tester recorded
    one on a patent never declared, and the dashboards counted an open licence that the
    licensing pages did not know); no sole or exclusive licence while an open licence is
    declared (专利法第五十一条)."""
    if kind == ContractKind.OPEN_LICENSE and queries.in_effect_on(patent.id, signed_on) is None:
        return {
            "kind": (
                f"该专利在签约日 {signed_on.isoformat()} 没有生效的开放许可声明，不能登记为"
                "「开放许可」合同：请先声明开放许可，或将合同类型选为「许可」"
            )
        }
    if scope in EXCLUSIVE_SCOPES and queries.active_for_patent(patent.id) is not None:
        return {
            "license_scope": (
                "该专利正在开放许可期间（声明生效中），实行开放许可期间不能给予独占或排他许可；"
                "如需签订，请先撤回开放许可声明"
            )
        }
    return None


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.patent_rights_gone.connect(_patent_rights_gone)
    signals.contract_checked.connect(_contract_checked)
