"""Export demands as .xlsx / .csv that re-import cleanly (same headers as the import template).

Values go through ``fields.display_value`` (the text the importer parses); the streamed file
itself, every cell through ``common.spreadsheets.safe_cell``, is
``common.downloads.stream_download``.
The contact columns are left empty for readers who may not see them (see
permissions.can_see_contact), the contact details pasted into the description and targets
hidden (demands.privacy), and so are the progress columns (机器推荐数, 已推送专利数, 对接中,
已签约: permissions.can_see_progress). A large .xlsx is built by a worker as the same user (the
export kind "demands" below, revive.exports). Staff and the regulator export every demand, an
enterprise its own (the list's rows: queries.where_clauses).

The progress is counted by the packages above this one (matching's suggestions, the deals),
which it cannot import: the deals package registers the counting at start-up
(``register_progress``, from revive.deals.receivers.connect, called by create_app), for a
batch of demands at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from revive.accounts.models import Role, User
from revive.clock import local_today
from revive.demands import queries
from revive.demands.fields import FIELDS, display_value
from revive.demands.models import Demand
from revive.demands.permissions import EXPORT_ROLES, can_see_contact, can_see_progress
from revive.demands.privacy import shown_description, shown_specs
from revive.exports import registry

CONTACT_KEYS = frozenset({"contact_name", "contact_phone", "contact_email"})


@dataclass(frozen=True)
class DemandProgress:
    """How far a demand got, as its pages count it."""

    suggested: int = 0  # 机器推荐: undecided 强 / 中 machine candidates its page lists
    pushed: int = 0  # 已推送: patents officers accepted and pushed to the enterprise
    open: int = 0  # 对接中: its deals still in progress (已推荐 / 已接洽 / 洽谈中)
    signed: int = 0  # 已签约: its deals signed

    def value(self, key: str) -> int:
        return getattr(self, key.removeprefix("progress_"))


# (viewer, demand ids) → {demand id: its progress}; ids missing from the answer have none.
ProgressSource = Callable[[User, list[int]], Mapping[int, DemandProgress]]
_progress: dict[str, ProgressSource] = {}
PROGRESS_BATCH = 500  # demands whose progress one call counts


def register_progress(source: ProgressSource) -> None:
    """Idempotent: the last registration wins (several apps per process)."""
    _progress["source"] = source


PROGRESS_KEYS = frozenset(f.key for f in FIELDS if f.key.startswith("progress_"))
NONE = DemandProgress()


def header() -> list[str]:
    return [f.label for f in FIELDS]


def row_values(d: Demand, user: User, progress: DemandProgress | None = None) -> list[Any]:
    """One demand as the file shows it; ``progress``: its figures, for a viewer who may see
    them (None: the progress columns stay empty)."""
    contact = can_see_contact(user, d)
    out: list[Any] = []
    for f in FIELDS:
        if f.key == "enterprise_name":
            out.append(d.enterprise.name)
        elif f.key == "credit_code":
            out.append(d.enterprise.credit_code or "")
        elif f.key in CONTACT_KEYS and not contact:
            out.append("")
        elif f.key == "description":  # pasted contacts hidden as on the page
            out.append(display_value(f.key, shown_description(user, d) or None))
        elif f.key == "target_specs":
            out.append(display_value(f.key, shown_specs(user, d)))
        elif f.key in PROGRESS_KEYS:
            out.append("" if progress is None else progress.value(f.key))
        else:
            out.append(display_value(f.key, getattr(d, f.key)))
    return out


def with_progress(user: User, demands: Iterable[Demand]) -> Iterator[list[Any]]:
    """The rows of ``demands``, their progress counted PROGRESS_BATCH demands at a time (a
    few queries per batch, none per row), for the demands whose progress ``user`` may see."""
    source = _progress.get("source")
    stream = iter(demands)
    while batch := list(islice(stream, PROGRESS_BATCH)):
        shown = [d.id for d in batch if can_see_progress(user, d)]
        counted = source(user, shown) if source is not None and shown else {}
        allowed = set(shown) if source is not None else set()
        for d in batch:
            progress = counted.get(d.id, NONE) if d.id in allowed else None
            yield row_values(d, user, progress)


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


def _names(user: User, _params: dict[str, Any]) -> registry.Names:
    if user.role == Role.ENTERPRISE:  # its own demands: the list's title, 我的需求
        return registry.Names(f"我的需求-{local_today():%Y%m%d}", "my-demands", "我的需求")
    return registry.Names(f"企业需求-{local_today():%Y%m%d}", "demands", "企业需求")


def _rows(user: User, params: dict[str, Any]) -> Iterator[list[Any]]:
    return with_progress(user, queries.export_demands(user, queries.parse_filters(params)))


def _count(user: User, params: dict[str, Any], limit: int | None) -> int:
    return queries.export_count(user, queries.parse_filters(params), limit)


KIND = registry.register(
    registry.ExportKind(
        name="demands",
        label="企业需求",
        roles=EXPORT_ROLES,
        endpoint="demands.export_demands",
        params=_params,
        names=_names,
        header=header,
        rows=_rows,
        count=_count,
        describe=_describe,
    )
)
