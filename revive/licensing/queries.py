"""Read helpers for open-licence declarations: the public list, its filters, sort and export,
and one patent's declarations (no writes)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from revive import clock
from revive.accounts.models import Organization, Role, User
from revive.db import contains
from revive.extensions import db
from revive.inventory.models import Patent
from revive.licensing.models import (
    ApplicationStatus,
    DeclarationStatus,
    FeeMode,
    LicenceApplication,
    OpenLicenceDeclaration,
)
from revive.licensing.permissions import (
    listed_clause,
    managed_patents_clause,
    visible_applications_clause,
)
from revive.pagination import Page, paginate
from revive.web import int_arg

__all__ = ["SORTS", "Filters", "Page", "application_page", "list_page", "parse_filters"]

D = OpenLicenceDeclaration
# Fixed fee: the lump sum or the entry fee (a pure royalty has none: 0).
FIXED_FEE = sa.func.coalesce(D.lump_sum_wan, D.entry_fee_wan, 0)
ROYALTY = sa.func.coalesce(D.royalty_sales_pct, D.royalty_profit_pct, 0)
SORTS = {
    "new": ("最新声明", (D.created_at.desc(), D.id.desc())),
    "fee_asc": ("固定费用从低到高", (FIXED_FEE.asc(), ROYALTY.asc(), D.id.asc())),
    "fee_desc": ("固定费用从高到低", (FIXED_FEE.desc(), ROYALTY.desc(), D.id.desc())),
}


@dataclass
class Filters:
    fee_mode: FeeMode | None = None
    industry: str = ""
    university: int | None = None
    q: str = ""
    sort: str = "new"
    page: int = 1

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        """Query-string arguments (pagination and export links)."""
        data = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(self).items()}
        data.update(overrides)
        defaults = {"page": 1, "sort": "new"}
        return {k: v for k, v in data.items() if v not in (None, "") and defaults.get(k) != v}

    @property
    def active(self) -> bool:
        return any((self.fee_mode, self.industry, self.university, self.q))


def parse_filters(args: Mapping[str, Any]) -> Filters:
    """Filters from a query string; unknown values are ignored, not errors."""
    raw_mode = str(args.get("fee_mode", "")).strip()
    fee_mode = next((m for m in FeeMode if raw_mode in (m.value, m.label)), None)
    sort = str(args.get("sort", "new"))
    return Filters(
        fee_mode=fee_mode,
        industry=str(args.get("industry", "")).strip()[:100],
        university=int_arg(args.get("university")),
        q=str(args.get("q", "")).strip()[:200],
        sort=sort if sort in SORTS else "new",
        page=int_arg(args.get("page"), 1, minimum=1),
    )


def _where(f: Filters) -> list[sa.ColumnElement[bool]]:
    clauses = [listed_clause()]
    if f.fee_mode:
        clauses.append(D.fee_mode == f.fee_mode)
    if f.industry:
        clauses.append(contains(f.industry, Patent.industry_code, Patent.emerging_industry))
    if f.university:
        clauses.append(Patent.institution_id == f.university)
    if f.q:
        clauses.append(contains(f.q, Patent.title, Patent.application_no, Patent.patentees))
    return clauses


def _listed(f: Filters) -> sa.Select:
    return (
        sa.select(D)
        .join(D.patent)
        .options(contains_eager(D.patent).joinedload(Patent.institution))
        .where(*_where(f))
    )


def list_page(f: Filters, per_page: int) -> Page:
    """One page of the public list (active declarations of entered patents)."""
    count = sa.select(sa.func.count(D.id)).join(D.patent).where(*_where(f))
    return paginate(_listed(f).order_by(*SORTS[f.sort][1]), count, f.page, per_page, unique=True)


def export_declarations(f: Filters) -> Iterator[OpenLicenceDeclaration]:
    """Every listed declaration matching the filters, in the list's order."""
    stmt = _listed(f).order_by(*SORTS[f.sort][1])
    yield from db.session.scalars(stmt).unique()


def industry_choices() -> list[str]:
    """Industries (国民经济行业分类) of listed patents, for the filter."""
    stmt = (
        sa.select(Patent.industry_code)
        .join(D, D.patent_id == Patent.id)
        .where(listed_clause(), Patent.industry_code.is_not(None), Patent.industry_code != "")
        .distinct()
        .order_by(Patent.industry_code)
    )
    return list(db.session.scalars(stmt))


def university_choices() -> list[tuple[int, str]]:
    """Universities with listed declarations, for the filter."""
    stmt = (
        sa.select(Organization.id, Organization.name)
        .join(Patent, Patent.institution_id == Organization.id)
        .join(D, D.patent_id == Patent.id)
        .where(listed_clause())
        .distinct()
        .order_by(Organization.name)
    )
    return [(oid, name) for oid, name in db.session.execute(stmt)]


def active_for_patent(patent_id: int) -> OpenLicenceDeclaration | None:
    stmt = (
        sa.select(D)
        .where(D.patent_id == patent_id, D.status == DeclarationStatus.ACTIVE)
        .order_by(D.id.desc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def in_effect_on(patent_id: int, day: date) -> OpenLicenceDeclaration | None:
    """The patent's declaration in effect on ``day``: its period holds the day, and it was not
    withdrawn before that day ended (Beijing time)."""
    end_of_day = clock.local_day_start(day + timedelta(days=1))
    stmt = (
        sa.select(D)
        .where(
            D.patent_id == patent_id,
            D.start_date <= day,
            D.end_date >= day,
            sa.or_(D.withdrawn_at.is_(None), D.withdrawn_at >= end_of_day),
        )
        .order_by(D.id.desc())
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def for_patent(patent_id: int) -> list[OpenLicenceDeclaration]:
    """Every declaration of a patent (the active one and the withdrawn), newest first."""
    return list(
        db.session.scalars(sa.select(D).where(D.patent_id == patent_id).order_by(D.id.desc()))
    )


# ---------------------------------------------------------------------------- applications


def application_page(
    user: User,
    page: int,
    per_page: int,
    *,
    status: ApplicationStatus | None = None,
    declaration_id: int | None = None,
) -> Page:
    """The applications ``user`` may read, newest first (one page)."""
    where = [visible_applications_clause(user)]
    if status is not None:
        where.append(LicenceApplication.status == status)
    if declaration_id is not None:
        where.append(LicenceApplication.declaration_id == declaration_id)
    stmt = (
        sa.select(LicenceApplication)
        .options(
            joinedload(LicenceApplication.patent).joinedload(Patent.institution),
            joinedload(LicenceApplication.enterprise),
        )
        .where(*where)
        .order_by(LicenceApplication.created_at.desc(), LicenceApplication.id.desc())
    )
    return paginate(
        stmt, sa.select(sa.func.count(LicenceApplication.id)).where(*where), page, per_page
    )


def awaiting_count(user: User) -> int | None:
    """Applications waiting for the holder's answer (submitted) on patents the user manages:
    the menu's count for university and college admins."""
    if user.role not in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN):
        return None
    managed = sa.select(Patent.id).where(managed_patents_clause(user))
    return (
        db.session.scalar(
            sa.select(sa.func.count(LicenceApplication.id)).where(
                LicenceApplication.status == ApplicationStatus.SUBMITTED,
                LicenceApplication.patent_id.in_(managed),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class ApplicationFigures:
    """Open licences of a scope and the applications to implement them (withdrawn ones
    aside): every count beside its denominator."""

    declarations: int  # declarations made (active or withdrawn since)
    active: int  # of them still declared
    applied: int  # declarations with at least one application
    applications: int
    signed: int

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def application_figures(patents: sa.ColumnElement[bool]) -> ApplicationFigures:
    """Figures for the patents of ``patents`` (a WHERE clause on Patent). Two statements."""
    declared = db.session.execute(
        sa.select(
            sa.func.count(D.id),
            sa.func.count(D.id).filter(D.status == DeclarationStatus.ACTIVE),
        )
        .join(Patent, Patent.id == D.patent_id)
        .where(patents)
    ).one()
    applied = db.session.execute(
        sa.select(
            sa.func.count(LicenceApplication.id),
            sa.func.count(sa.distinct(LicenceApplication.declaration_id)),
            sa.func.count(LicenceApplication.id).filter(
                LicenceApplication.status == ApplicationStatus.SIGNED
            ),
        )
        .join(Patent, Patent.id == LicenceApplication.patent_id)
        .where(patents, LicenceApplication.status != ApplicationStatus.WITHDRAWN)
    ).one()
    return ApplicationFigures(
        declarations=int(declared[0]),
        active=int(declared[1]),
        applied=int(applied[1]),
        applications=int(applied[0]),
        signed=int(applied[2]),
    )
