"""Licensing test helpers: a valid declaration body and a direct declaration factory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from revive.db import utcnow
from revive.extensions import db
from revive.inventory.models import Patent
from revive.licensing.models import DeclarationStatus, FeeMode, OpenLicenceDeclaration


def valid_body(**overrides: Any) -> dict[str, Any]:
    """Form/JSON values of a declaration that breaks no rule on an entered invention patent
    with one patentee."""
    body: dict[str, Any] = {
        "fee_mode": "lump_sum",
        "lump_sum_wan": "50",
        "start_date": "2025-01-01",
        "end_date": "2027-12-31",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def make_declaration(patent: Patent, **kw: Any) -> OpenLicenceDeclaration:
    """A declaration written directly (no rules), for read and withdraw tests."""
    status = kw.pop("status", DeclarationStatus.ACTIVE)
    values: dict[str, Any] = {
        "fee_mode": FeeMode.LUMP_SUM,
        "lump_sum_wan": Decimal("50"),
        "start_date": date(2025, 1, 1),
        "end_date": date(2027, 12, 31),
    }
    values.update(kw)
    declaration = OpenLicenceDeclaration(patent=patent, status=status, **values)
    if status == DeclarationStatus.WITHDRAWN:
        declaration.withdrawn_at = utcnow()
    db.session.add(declaration)
    db.session.commit()
    return declaration
