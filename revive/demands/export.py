"""Export demands as .xlsx / .csv that re-import cleanly (same headers as the import template).

Values go through ``fields.display_value`` (the text the importer parses); the streamed file
itself, every cell through ``common.spreadsheets.safe_cell``, is
``common.downloads.stream_download``.
The contact columns are left empty for readers who may not see them (see
permissions.can_see_contact).
"""

from __future__ import annotations

from revive.accounts.models import User
from revive.demands.fields import FIELDS, display_value
from revive.demands.models import Demand
from revive.demands.permissions import can_see_contact

CONTACT_KEYS = frozenset({"contact_name", "contact_phone", "contact_email"})


def header() -> list[str]:
    return [f.label for f in FIELDS]


def row_values(d: Demand, user: User) -> list[str]:
    contact = can_see_contact(user, d)
    out = []
    for f in FIELDS:
        if f.key == "enterprise_name":
            out.append(d.enterprise.name)
        elif f.key == "credit_code":
            out.append(d.enterprise.credit_code or "")
        elif f.key in CONTACT_KEYS and not contact:
            out.append("")
        else:
            out.append(display_value(f.key, getattr(d, f.key)))
    return out
