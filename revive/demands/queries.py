"""Read helpers for demand lists, filters, pagination and export (no writes)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from revive.accounts.models import Role, User
from revive.audit.models import AuditEvent
from revive.db import contains
from revive.demands.models import Demand, DemandStatus, DemandType
from revive.demands.permissions import MANAGER_ROLES, visible_demands_clause
from revive.extensions import db
from revive.pagination import Page, paginate
from revive.web import int_arg

__all__ = [
    "Closer",
    "Filters",
    "Page",
    "closed_by",
    "export_count",
    "export_demands",
    "list_page",
    "parse_filters",
]


@dataclass(frozen=True)
class Closer:
    """Who closed a demand, as its page says it (关闭人): the user (None: the platform, or a
    closing from before the audit log recorded it) and whether it was staff, not the
    enterprise itself."""

    user: User | None

    @property
    def by_staff(self) -> bool:
        return self.user is not None and self.user.role != Role.ENTERPRISE

    @property
    def label(self) -> str:
        if self.user is None:
            return "—"
        return f"{self.user.role.label} {self.user.name}"


def closed_by(demand: Demand) -> Closer | None:
    """Who closed the demand (its audit row ``demand/close``); None while it is open."""
    if demand.status != DemandStatus.CLOSED:
        return None
    actor_id = db.session.scalar(
        sa.select(AuditEvent.actor_id)
        .where(
            AuditEvent.entity == "demand",
            AuditEvent.entity_id == demand.id,
            AuditEvent.action == "close",
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return Closer(db.session.get(User, actor_id) if actor_id is not None else None)


@dataclass
class Filters:
    status: DemandStatus | None = None
    demand_type: DemandType | None = None
    industry: str = ""
    region: str = ""
    q: str = ""
    page: int = 1

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        """Query-string arguments (for pagination and export links), named as
        ``parse_filters`` reads them (the type filter is ``type``)."""
        data = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(self).items()}
        data["type"] = data.pop("demand_type")
        data.update(overrides)
        return {
            k: v for k, v in data.items() if v not in (None, "") and not (k == "page" and v == 1)
        }

    @property
    def active(self) -> bool:
        return any((self.status, self.demand_type, self.industry, self.region, self.q))


def _enum(enum_cls: type, raw: Any) -> Any:
    try:
        return enum_cls(raw) if raw else None
    except ValueError:
        return None


def parse_filters(args: Mapping[str, Any]) -> Filters:
    """Filters from a query string; unknown values are ignored, not errors."""
    return Filters(
        status=_enum(DemandStatus, args.get("status")),
        demand_type=_enum(DemandType, args.get("type")),
        industry=str(args.get("industry", "")).strip()[:100],
        region=str(args.get("region", "")).strip()[:100],
        q=str(args.get("q", "")).strip()[:200],
        page=int_arg(args.get("page"), 1, minimum=1),
    )


def where_clauses(user: User, f: Filters) -> list[sa.ColumnElement[bool]]:
    clauses: list[sa.ColumnElement[bool]] = [visible_demands_clause(user)]
    if f.status:
        clauses.append(Demand.status == f.status)
    if f.demand_type:
        clauses.append(Demand.demand_type == f.demand_type)
    if f.industry:
        clauses.append(contains(f.industry, Demand.industry))
    if f.region:
        clauses.append(contains(f.region, Demand.region))
    if f.q:
        if user.role in MANAGER_ROLES:
            clauses.append(contains(f.q, Demand.title, Demand.description, Demand.target_specs))
        else:  # only what the reader may read: no contact details (demands.privacy)
            clauses.append(contains(f.q, Demand.title, Demand.public_text))
    return clauses


def list_page(user: User, f: Filters, per_page: int) -> Page:
    """One page of demands (newest first) the user may see, with their enterprise loaded."""
    clauses = where_clauses(user, f)
    stmt = (
        sa.select(Demand)
        .options(joinedload(Demand.enterprise))
        .where(*clauses)
        .order_by(Demand.created_at.desc(), Demand.id.desc())
    )
    count = sa.select(sa.func.count(Demand.id)).where(*clauses)
    return paginate(stmt, count, f.page, per_page)


def export_count(user: User, f: Filters, limit: int | None = None) -> int:
    """How many demands ``export_demands`` gives; with ``limit``, at most that many."""
    ids = sa.select(Demand.id).where(*where_clauses(user, f))
    if limit is not None:
        ids = ids.limit(limit)
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())) or 0


def export_demands(user: User, f: Filters) -> Iterator[Demand]:
    """Every demand matching the filters (streamed in batches)."""
    stmt = (
        sa.select(Demand)
        .options(joinedload(Demand.enterprise))
        .where(*where_clauses(user, f))
        .order_by(Demand.id)
        .execution_options(yield_per=1000)
    )
    yield from db.session.scalars(stmt)
