"""Export demands as .xlsx / .csv that re-import cleanly (same headers as the import template).

Values go through ``fields.display_value`` (the text the importer parses); the streamed file
itself, every cell through ``common.spreadsheets.safe_cell``, is
``common.downloads.stream_download``.
The contact columns are left empty for readers who may not see them (see
permissions.can_see_contact). A large .xlsx is built by a worker as the same user (the export
kind "demands" below, revive.exports).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from revive.accounts.models import User
from revive.clock import local_today
from revive.demands import queries
from revive.demands.fields import FIELDS, display_value
from revive.demands.models import Demand
from revive.demands.permissions import READ_ALL_ROLES, can_see_contact
from revive.exports import registry

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


# ---------------------------------------------------------------------------- the export kind


def _params(_user: User, args: Mapping[str, Any]) -> dict[str, str]:
    """The list's filters under the names ``queries.parse_filters`` reads them by."""
    f = queries.parse_filters(args)
    params = {
        "status": f.status.value if f.status else "",
        "type": f.demand_type.value if f.demand_type else "",
        "industry": f.industry,
        "region": f.region,
        "q": f.q,
    }
    return {k: v for k, v in params.items() if v}


def _describe(params: dict[str, Any]) -> list[str]:
    """The list's filters in words (我的导出)."""
    f = queries.parse_filters(params)
    words = []
    if f.status:
        words.append(f"状态：{f.status.label}")
    if f.demand_type:
        words.append(f"需求类型：{f.demand_type.label}")
    if f.industry:
        words.append(f"行业：{f.industry}")
    if f.region:
        words.append(f"地区：{f.region}")
    if f.q:
        words.append(f"关键词：“{f.q}”")
    return words


def _names(_user: User, _params: dict[str, Any]) -> registry.Names:
    return registry.Names(f"企业需求-{local_today():%Y%m%d}", "demands", "企业需求")


def _rows(user: User, params: dict[str, Any]) -> Iterator[list[str]]:
    demands = queries.export_demands(user, queries.parse_filters(params))
    return (row_values(d, user) for d in demands)


def _count(user: User, params: dict[str, Any], limit: int | None) -> int:
    return queries.export_count(user, queries.parse_filters(params), limit)


KIND = registry.register(
    registry.ExportKind(
        name="demands",
        label="企业需求",
        roles=READ_ALL_ROLES,
        endpoint="demands.export_demands",
        params=_params,
        names=_names,
        header=header,
        rows=_rows,
        count=_count,
        describe=_describe,
    )
)
