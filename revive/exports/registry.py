"""Export kinds: what an ExportJob's ``kind`` lists, for whom, and how it is counted and written.

The exports package sits *below* the domains whose lists it exports (inventory, demands,
pools, the audit log), so it never imports them: each domain registers its kind beside its
export route (the module is imported with the route, in the web app and in every worker, by
``create_app``). The direct download and the background job read the same kind, so a file
built by a worker has exactly the header, rows and cells the direct download gives the same
user. A job whose kind is unknown fails with a clear message instead of a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from revive.accounts.models import Role, User
from revive.errors import DomainError

Params = dict[str, Any]


@dataclass(frozen=True)
class Names:
    """The download's name (without extension), its ASCII fallback, and the sheet's title."""

    name: str
    ascii_name: str
    sheet_title: str


@dataclass(frozen=True)
class ExportKind:
    name: str  # ExportJob.kind
    label: str  # what is exported, e.g. "专利盘点"
    roles: frozenset[Role]  # who may export it (the export route's roles)
    endpoint: str  # the export route: url_for(endpoint, fmt=…, **params) asks for it again
    # The request's arguments as this kind reads them back (JSON-safe, canonical: two
    # requests for the same rows give equal params). May raise NotFoundError (a pool gone).
    params: Callable[[User, Mapping[str, Any]], Params]
    names: Callable[[User, Params], Names]
    header: Callable[[], Sequence[Any]]
    # The rows' cell values (neutralised when written: common.spreadsheets.safe_cell).
    rows: Callable[[User, Params], Iterable[Sequence[Any]]]
    # How many rows ``rows`` gives: exact, or at most ``limit`` (the direct-or-job decision).
    count: Callable[[User, Params, int | None], int]
    # The filters in words, one item each (e.g. "状态：已入库"), so that two jobs of one kind
    # can be told apart in 我的导出; None: the arguments are shown as they are.
    describe: Callable[[Params], list[str]] | None = None


# Query-string arguments that order the rows or page them: not filters.
NOT_FILTERS = frozenset({"sort", "dir", "direction", "page", "per_page"})


def filters_text(kind: ExportKind | None, params: Params | None) -> str:
    """ "筛选：…" of a job's filters, or "全部（未筛选）"."""
    params = {k: v for k, v in (params or {}).items() if k not in NOT_FILTERS and v != ""}
    if not params:
        return "全部（未筛选）"
    if kind is not None and kind.describe is not None:
        items = kind.describe(params)
    else:
        items = [f"{k}={v}" for k, v in sorted(params.items())]
    return "筛选：" + "；".join(items) if items else "全部（未筛选）"


_KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    """Add (or replace, on re-import) a kind."""
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> ExportKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise DomainError(f"不支持的导出类型：{name}") from None


def kinds() -> list[ExportKind]:
    return list(_KINDS.values())
