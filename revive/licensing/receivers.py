"""Licensing's receivers of the domain signals (revive.signals), connected by create_app."""

from __future__ import annotations

from typing import Any

from revive import signals
from revive.audit import services as audit
from revive.db import utcnow
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


def connect() -> None:
    """Idempotent (blinker keys receivers by identity): safe with several apps per process."""
    signals.patent_rights_gone.connect(_patent_rights_gone)
