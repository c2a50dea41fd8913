"""Export demands as .xlsx / .csv that re-import cleanly (same headers as the import template).

Values go through ``fields.display_value`` (the text the importer parses), every cell through
``imports.xlsx.safe_cell`` (no formula is ever run). The contact columns are left empty for
readers who may not see them (see permissions.can_see_contact).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator

from revive.accounts.models import User
from revive.demands.fields import FIELDS, display_value
from revive.demands.models import Demand
from revive.demands.permissions import can_see_contact
from revive.imports.xlsx import safe_cell, write_xlsx

CSV_BOM = "\ufeff"
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


def iter_csv(demands: Iterable[Demand], user: User) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header())
    yield (CSV_BOM + buffer.getvalue()).encode("utf-8")
    for d in demands:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(v) if v else v for v in row_values(d, user)])
        yield buffer.getvalue().encode("utf-8")


def iter_xlsx(demands: Iterable[Demand], user: User) -> Iterator[bytes]:
    with tempfile.TemporaryFile(suffix=".xlsx") as tmp:
        write_xlsx(tmp, header(), (row_values(d, user) for d in demands), sheet_title="企业需求")
        tmp.seek(0)
        while chunk := tmp.read(64 * 1024):
            yield chunk
