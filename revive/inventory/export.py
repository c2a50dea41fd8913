"""Export the (filtered) inventory as .xlsx or .csv that re-imports cleanly.

The header row is the Chinese label of every field in ``fields.FIELDS`` order (so the import's
``match_header`` maps each column back), values go through ``fields.display_value`` (the text
the importer parses); the file itself is written and streamed by ``common.downloads``
(every cell through ``common.spreadsheets.safe_cell``), or — a large .xlsx — built by a
worker as the same user (the export kind "patents" below, revive.exports).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from revive.accounts.models import College, Organization, Role, User
from revive.clock import local_today
from revive.common.spreadsheets import csv_chunks
from revive.exports import registry
from revive.extensions import db
from revive.inventory import queries
from revive.inventory.fields import FIELDS, display_value
from revive.inventory.models import EntryStatus, ImplementationStatus, PatentType, Willingness
from revive.inventory.permissions import INVENTORY_ROLES
from revive.web import int_arg


def header() -> list[str]:
    return [f.label for f in FIELDS]


_KEYS = tuple(f.key for f in FIELDS)


# Personal contact details of the universities' staff: the regulator reads the inventory
# across universities for statistics and oversight, not to contact inventors (a security
# review exported every university's phones and e-mails as the regulator).
CONTACT_KEYS = frozenset({"contact_name", "contact_phone", "contact_email"})


# Columns named by a joined row's label rather than a model attribute.
_JOINED = {"college": "college_name", "institution": "institution_name"}


def row_values(row: Any, hidden: frozenset[str] = frozenset()) -> list[str]:
    """One exported row: display text per field (``hidden`` keys left empty). ``row`` has
    model attributes + college_name + institution_name (``queries.export_rows``)."""
    return [
        ""
        if key in hidden
        else (getattr(row, _JOINED[key], None) or "")
        if key in _JOINED
        else display_value(key, getattr(row, key, None))
        for key in _KEYS
    ]


def iter_csv(rows: Iterable[Any]) -> Iterator[bytes]:
    """The patent rows of ``queries.export_rows`` as streamed CSV."""
    return csv_chunks(header(), map(row_values, rows))


# ---------------------------------------------------------------------------- the export kind


def _params(user: User, args: Mapping[str, Any]) -> dict[str, str]:
    """The list's filters and order as query-string arguments (``ListFilters.to_args``
    reproduces them); the page number plays no part in an export."""
    params = queries.parse_filters(args, user).to_args()
    params.pop("page", None)
    return params


def _enum_label(enum_cls: Any, value: Any) -> str:
    try:
        return enum_cls(value).label
    except ValueError:
        return str(value)


def _describe(params: dict[str, Any]) -> list[str]:
    """The list's filters in words (我的导出), in the list's order."""
    none = queries.NONE
    words: list[str] = []
    for key, value in params.items():
        text = str(value)
        if key == "status":
            words.append(f"状态：{_enum_label(EntryStatus, text)}")
        elif key == "college":
            college = db.session.get(College, int_arg(text)) if text != none else None
            name = "未填学院" if text == none else (college.name if college else f"#{text}")
            words.append(f"学院：{name}")
        elif key == "institution":
            org = db.session.get(Organization, int_arg(text))
            words.append(f"单位：{org.name if org else f'#{text}'}")
        elif key == "grade":
            words.append("价值自评：未填" if text == none else f"价值自评：{text} 星")
        elif key == "trl":
            words.append("技术成熟度：未填" if text == none else f"技术成熟度：TRL {text}")
        elif key == "willingness":
            label = "未填" if text == none else _enum_label(Willingness, text)
            words.append(f"转化意愿：{label}")
        elif key == "patent_type":
            words.append(f"专利类型：{_enum_label(PatentType, text)}")
        elif key == "legal_status":
            words.append(f"法律状态：{'未填' if text == none else text}")
        elif key == "implementation":
            label = "未填" if text == none else _enum_label(ImplementationStatus, text)
            words.append(f"实施状态：{label}")
        elif key in DATE_BOUNDS:
            words.append(f"{DATE_BOUNDS[key]} {text}")
        elif key == "q":
            words.append(f"关键词：“{text}”")
        else:
            words.append(f"{key}={text}")
    return words


DATE_BOUNDS = {
    "filed_from": "申请日不早于",
    "filed_to": "申请日不晚于",
    "granted_from": "授权日不早于",
    "granted_to": "授权日不晚于",
}


def _names(_user: User, _params: dict[str, Any]) -> registry.Names:
    return registry.Names(f"专利盘点-{local_today():%Y%m%d}", "inventory", "专利盘点")


def _rows(user: User, params: dict[str, Any]) -> Iterator[list[str]]:
    hidden = CONTACT_KEYS if user.role == Role.REGULATOR else frozenset()
    rows = queries.export_rows(user, queries.parse_filters(params, user))
    return (row_values(row, hidden) for row in rows)


def _count(user: User, params: dict[str, Any], limit: int | None) -> int:
    return queries.export_count(user, queries.parse_filters(params, user), limit)


KIND = registry.register(
    registry.ExportKind(
        name="patents",
        label="专利盘点",
        roles=INVENTORY_ROLES,
        endpoint="inventory.export_patents",
        params=_params,
        names=_names,
        header=header,
        rows=_rows,
        count=_count,
        describe=_describe,
    )
)
