"""Who sees which audit events, filters, and the rows of the page and of the export."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.audit.models import AuditEvent
from revive.extensions import db
from revive.pagination import Page, paginate
from revive.web import int_arg

READ_ALL_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})
# University admins see their university's events, enterprises their own (demands, deals).
ORG_ROLES = frozenset({Role.UNIVERSITY_ADMIN, Role.ENTERPRISE})
AUDIT_ROLES = READ_ALL_ROLES | ORG_ROLES

ENTITY_LABELS = {
    "patent": "专利",
    "demand": "需求",
    "match": "匹配",
    "strength_model": "匹配强度模型",
    "deal": "对接",
    "contract": "合同",
    "evaluation": "市场评价",
    "evaluation_invite": "评价邀请",
    "open_licence": "开放许可",
    "setting": "平台设置",
    "user": "账号",
}


@dataclass(frozen=True)
class AuditFilters:
    entity: str | None = None
    entity_id: int | None = None
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def to_args(self) -> dict[str, str]:
        out = {
            "entity": self.entity or "",
            "entity_id": str(self.entity_id or ""),
            "action": self.action or "",
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in out.items() if v}


def _date(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()) if raw else None
    except ValueError:
        return None


def parse_filters(args: Mapping[str, str]) -> AuditFilters:
    entity = (args.get("entity") or "").strip()
    action = (args.get("action") or "").strip()[:40]
    return AuditFilters(
        entity=entity if entity in ENTITY_LABELS else None,
        entity_id=int_arg(args.get("entity_id")),
        action=action or None,
        date_from=_date(args.get("date_from")),
        date_to=_date(args.get("date_to")),
        page=int_arg(args.get("page"), 1, minimum=1),
    )


def scope_clause(user: User) -> sa.ColumnElement[bool]:
    """Staff and regulator: everything. A university admin: events owned by the university
    (patents, deals and contracts of its patents). An enterprise: its own events (demands,
    evaluations) plus those of the deals it is a party to and their contracts."""
    from revive.deals.models import Contract, Deal  # deals sits above audit

    if user.role in READ_ALL_ROLES:
        return sa.true()
    if user.role not in ORG_ROLES or user.organization_id is None:
        return sa.false()
    own = AuditEvent.organization_id == user.organization_id
    if user.role != Role.ENTERPRISE:
        return own
    deals = sa.select(Deal.id).where(Deal.enterprise_id == user.organization_id)
    contracts = sa.select(Contract.id).join(Deal).where(Deal.enterprise_id == user.organization_id)
    return sa.or_(
        own,
        sa.and_(AuditEvent.entity == "deal", AuditEvent.entity_id.in_(deals)),
        sa.and_(AuditEvent.entity == "contract", AuditEvent.entity_id.in_(contracts)),
    )


def _where(user: User, f: AuditFilters) -> list[sa.ColumnElement[bool]]:
    clauses = [scope_clause(user)]
    if f.entity:
        clauses.append(AuditEvent.entity == f.entity)
    if f.entity_id is not None:
        clauses.append(AuditEvent.entity_id == f.entity_id)
    if f.action:
        clauses.append(AuditEvent.action == f.action)
    if f.date_from:
        clauses.append(AuditEvent.created_at >= datetime.combine(f.date_from, time.min))
    if f.date_to:
        end = datetime.combine(f.date_to + timedelta(days=1), time.min)
        clauses.append(AuditEvent.created_at < end)
    return clauses


def page(user: User, f: AuditFilters, per_page: int) -> Page:
    where = _where(user, f)
    stmt = sa.select(AuditEvent).where(*where).order_by(AuditEvent.id.desc())
    return paginate(stmt, sa.select(sa.func.count(AuditEvent.id)).where(*where), f.page, per_page)


def actions(user: User) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(scope_clause(user)).distinct().order_by("action")
        )
    )


def export_rows(user: User, f: AuditFilters) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, streamed in chunks."""
    stmt = (
        sa.select(AuditEvent)
        .where(*_where(user, f))
        .order_by(AuditEvent.id)
        .execution_options(yield_per=1000)
    )
    yield from db.session.scalars(stmt)
