"""Read side of the pool: search filters, public views of patents, choices for the filters.

Filters are SQL clauses (always with inventory.public.public_clause: 已入库 only); the words
are ranked by the engine over the ids those clauses allow (revive.matching.search). Unknown
or malformed parameters are ignored, never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Organization
from revive.db import contains
from revive.errors import NotFoundError
from revive.evaluations.queries import current_rules, evaluation_stats, patent_tier_sql
from revive.evaluations.tiers import Tier
from revive.extensions import db
from revive.inventory.models import Patent, TransferMode
from revive.inventory.public import (
    PublicLicence,
    PublicPatent,
    is_public,
    public_clause,
    public_patent,
)
from revive.licensing.display import fee_summary, period_text
from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration
from revive.matching import search as engine_search
from revive.web import int_arg

PER_PAGE = 20
MAX_TEXT_FILTER = 100
TRUE_VALUES = {"1", "true", "yes", "on"}


@dataclass
class PoolFilters:
    q: str = ""
    industry: str = ""  # 国民经济行业分类 code or name (substring)
    trl_min: int | None = None
    trl_max: int | None = None
    mode: TransferMode | None = None
    open_licence: bool = False
    university: int | None = None
    region: str = ""
    tier: Tier | None = None
    page: int = 1

    def to_args(self, **overrides: Any) -> dict[str, Any]:
        """Query-string arguments (pagination links)."""
        data = {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(self).items()}
        data["open_licence"] = "1" if self.open_licence else None
        data.update(overrides)
        return {
            k: v
            for k, v in data.items()
            if v not in (None, "", False) and not (k == "page" and v == 1)
        }

    @property
    def active(self) -> bool:
        return any(
            (
                self.q,
                self.industry,
                self.trl_min,
                self.trl_max,
                self.mode,
                self.open_licence,
                self.university,
                self.region,
                self.tier,
            )
        )


def _trl(raw: Any) -> int | None:
    value = int_arg(raw)
    return value if value is not None and 1 <= value <= 9 else None


def _text(raw: Any) -> str:
    return " ".join(str(raw or "").replace("\x00", " ").split())[:MAX_TEXT_FILTER]


def parse_filters(args: Mapping[str, Any]) -> PoolFilters:
    """Filters from a query string; bad values are ignored (the filter is left off)."""
    raw_mode = str(args.get("mode") or "").strip()
    raw_tier = str(args.get("tier") or "").strip().upper()
    trl_min, trl_max = _trl(args.get("trl_min")), _trl(args.get("trl_max"))
    if trl_min and trl_max and trl_min > trl_max:
        trl_min, trl_max = trl_max, trl_min
    return PoolFilters(
        q=engine_search.clean_query(args.get("q")),
        industry=_text(args.get("industry")),
        trl_min=trl_min,
        trl_max=trl_max,
        mode=next((m for m in TransferMode if raw_mode in (m.value, m.label)), None),
        open_licence=str(args.get("open_licence") or "").strip().lower() in TRUE_VALUES,
        university=int_arg(args.get("university"), minimum=1),
        region=_text(args.get("region")),
        tier=Tier(raw_tier) if raw_tier in {t.value for t in Tier} else None,
        page=int_arg(args.get("page"), 1, minimum=1),
    )


def _active_licence() -> sa.Exists:
    decl = OpenLicenceDeclaration
    return sa.exists().where(decl.patent_id == Patent.id, decl.status == DeclarationStatus.ACTIVE)


def where_clauses(f: PoolFilters) -> list[sa.ColumnElement[bool]]:
    """SQL for the filters (the words are ranked, not filtered: see matching.search)."""
    clauses: list[sa.ColumnElement[bool]] = [public_clause()]
    if f.industry:
        clauses.append(contains(f.industry, Patent.industry_code, ignore_case=True))
    if f.trl_min:
        clauses.append(Patent.trl >= f.trl_min)
    if f.trl_max:
        clauses.append(Patent.trl <= f.trl_max)
    if f.mode:
        # Exact token in the comma-separated list ("license" is inside "open_license").
        modes = sa.literal(",").concat(Patent.transfer_modes).concat(",")
        clauses.append(modes.like(f"%,{f.mode.value},%"))
    if f.open_licence:
        clauses.append(_active_licence())
    if f.university:
        clauses.append(Patent.institution_id == f.university)
    if f.region:
        regions = sa.select(Organization.id).where(contains(f.region, Organization.region))
        clauses.append(Patent.institution_id.in_(regions))
    if f.tier:
        ev = evaluation_stats()
        tier = patent_tier_sql(ev, current_rules())
        tiered = (
            sa.select(Patent.id)
            .outerjoin(ev, ev.c.patent_id == Patent.id)
            .where(public_clause(), tier == f.tier.value)
        )
        clauses.append(Patent.id.in_(tiered))
    return clauses


# ---------------------------------------------------------------------------- public views


def licences_of(patent_ids: Iterable[int]) -> dict[int, PublicLicence]:
    """The active open licence of each patent that has one (one query)."""
    ids = sorted(set(patent_ids))
    if not ids:
        return {}
    decl = OpenLicenceDeclaration
    rows = db.session.scalars(
        sa.select(decl).where(decl.patent_id.in_(ids), decl.status == DeclarationStatus.ACTIVE)
    )
    return {d.patent_id: PublicLicence(d.id, fee_summary(d), period_text(d), d.terms) for d in rows}


def public_views(patents: Sequence[Patent]) -> list[PublicPatent]:
    """Public views of entered patents, in the order given (licences in one query)."""
    licences = licences_of(p.id for p in patents)
    return [public_patent(p, licences.get(p.id)) for p in patents]


def get_public_patent(patent_id: int) -> tuple[Patent, PublicPatent]:
    """An entered patent and its public view; 404 for anything not in the pool (a draft, a
    patent under review or not entered looks exactly like one that does not exist)."""
    patent = db.session.get(Patent, patent_id)
    if patent is None or not is_public(patent):
        raise NotFoundError("专利不存在或尚未入库")
    return patent, public_views([patent])[0]


@dataclass
class PoolPage:
    """A page of the search: public views, the engine's score by id (when ranked)."""

    page: engine_search.SearchResult
    items: list[PublicPatent]

    @property
    def ranked(self) -> bool:
        return self.page.ranked


def search_page(f: PoolFilters, per_page: int = PER_PAGE) -> PoolPage:
    found = engine_search.search(f.q, where_clauses(f), f.page, per_page)
    return PoolPage(found, public_views(found.items))


def university_choices() -> list[tuple[int, str]]:
    """Universities with entered patents (the filter's choices)."""
    holders = sa.select(Patent.institution_id).where(public_clause()).distinct()
    return [
        (oid, name)
        for oid, name in db.session.execute(
            sa.select(Organization.id, Organization.name)
            .where(Organization.id.in_(holders))
            .order_by(Organization.name)
        )
    ]
