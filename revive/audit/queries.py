"""Who sees which audit events, the filters, and the rows of the page and of the exports.

Filters (all optional, combined with AND; a malformed value is ignored, never an error):

- object: its type (``entity``) and id (``entity_id``), or a search (``q``) in the objects'
  names — a patent's 申请号 or title, a demand's title, a match / deal / contract by either
  title, an evaluation, invite or open licence by its patent, an account by name or e-mail;
- person: the acting account (``actor``, an id: the page links each name to it) or a search
  in the actors' names and e-mails (``person``); "系统" (``actor=0``) is the events without one;
- action (``action``), and a date range in local time (``date_from`` / ``date_to``, days as
  REVIVE_TIMEZONE counts them, both included).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from revive import clock
from revive.accounts.models import Role, User
from revive.audit.labels import ENTITY_LABELS
from revive.audit.models import AuditEvent
from revive.db import contains
from revive.deals.models import Contract, Deal
from revive.demands.models import Demand
from revive.evaluations.models import Evaluation, EvaluationInvite
from revive.extensions import db
from revive.inventory.models import Patent
from revive.licensing.models import LicenceApplication, OpenLicenceDeclaration
from revive.matching.models import Match
from revive.pagination import Page, paginate
from revive.web import int_arg

READ_ALL_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})
# University admins see their university's events, enterprises their own (demands, deals).
ORG_ROLES = frozenset({Role.UNIVERSITY_ADMIN, Role.ENTERPRISE})
AUDIT_ROLES = READ_ALL_ROLES | ORG_ROLES
SEARCH_MAX = 100
SYSTEM_ACTOR = 0  # actor=0: events without an acting account (imports from the CLI, jobs)

__all__ = ["AUDIT_ROLES", "ENTITY_LABELS", "AuditFilters", "parse_filters"]


@dataclass(frozen=True)
class AuditFilters:
    entity: str | None = None
    entity_id: int | None = None
    q: str = ""
    actor: int | None = None
    person: str = ""
    action: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1

    def to_args(self) -> dict[str, str]:
        """The filters as query-string arguments (pagination and export links keep them)."""
        out = {
            "entity": self.entity or "",
            "entity_id": "" if self.entity_id is None else str(self.entity_id),
            "q": self.q,
            "actor": "" if self.actor is None else str(self.actor),
            "person": self.person,
            "action": self.action or "",
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in out.items() if v}

    @property
    def is_filtered(self) -> bool:
        return bool(self.to_args())


def _date(raw: str | None) -> date | None:
    """A filter's day; None (no bound) when it is no ISO day or lies beyond clock's range
    (0001-01-01 and 9999-12-31 answered 500 and cut the CSV download short)."""
    try:
        day = date.fromisoformat((raw or "").strip()) if raw else None
    except ValueError:
        return None
    return day if day is not None and clock.in_range(day) else None


def _text(raw: str | None) -> str:
    return " ".join((raw or "").split())[:SEARCH_MAX]


def parse_filters(args: Mapping[str, str]) -> AuditFilters:
    entity = (args.get("entity") or "").strip()
    action = (args.get("action") or "").strip()[:40]
    date_from, date_to = _date(args.get("date_from")), _date(args.get("date_to"))
    if date_from and date_to and date_from > date_to:  # typed the wrong way round
        date_from, date_to = date_to, date_from
    return AuditFilters(
        entity=entity if entity in ENTITY_LABELS else None,
        entity_id=int_arg(args.get("entity_id")),
        q=_text(args.get("q")),
        actor=int_arg(args.get("actor")),
        person=_text(args.get("person")),
        action=action or None,
        date_from=date_from,
        date_to=date_to,
        page=int_arg(args.get("page"), 1, minimum=1) or 1,
    )


def scope_clause(user: User) -> sa.ColumnElement[bool]:
    """Staff and regulator: everything. A university admin: events owned by the university
    (patents, deals and contracts of its patents). An enterprise: its own events (demands,
    evaluations) plus those of the deals it is a party to and their contracts, and of its
    applications to implement open licences."""
    if user.role in READ_ALL_ROLES:
        return sa.true()
    if user.role not in ORG_ROLES or user.organization_id is None:
        return sa.false()
    own = AuditEvent.organization_id == user.organization_id
    if user.role != Role.ENTERPRISE:
        return own
    deals = sa.select(Deal.id).where(Deal.enterprise_id == user.organization_id)
    contracts = sa.select(Contract.id).join(Deal).where(Deal.enterprise_id == user.organization_id)
    applications = sa.select(LicenceApplication.id).where(
        LicenceApplication.enterprise_id == user.organization_id
    )
    return sa.or_(
        own,
        sa.and_(AuditEvent.entity == "deal", AuditEvent.entity_id.in_(deals)),
        sa.and_(AuditEvent.entity == "contract", AuditEvent.entity_id.in_(contracts)),
        sa.and_(AuditEvent.entity == "licence_application", AuditEvent.entity_id.in_(applications)),
    )


def _object_search(text: str) -> sa.ColumnElement[bool]:
    """Events whose object's name contains ``text`` (see the module docstring)."""
    appno = text.upper().removeprefix("CN").removeprefix("ZL").strip()
    patents = sa.select(Patent.id).where(
        sa.or_(contains(text, Patent.title), contains(appno, Patent.application_no))
    )
    demands = sa.select(Demand.id).where(contains(text, Demand.title))

    def by_pair(model: type) -> sa.Select:
        return sa.select(model.id).where(
            sa.or_(model.patent_id.in_(patents), model.demand_id.in_(demands))
        )

    contracts = sa.select(Contract.id).where(Contract.deal_id.in_(by_pair(Deal)))
    users = sa.select(User.id).where(contains(text, User.name, User.email, ignore_case=True))
    of_patent = {
        "evaluation": sa.select(Evaluation.id).where(Evaluation.patent_id.in_(patents)),
        "evaluation_invite": sa.select(EvaluationInvite.id).where(
            EvaluationInvite.patent_id.in_(patents)
        ),
        "open_licence": sa.select(OpenLicenceDeclaration.id).where(
            OpenLicenceDeclaration.patent_id.in_(patents)
        ),
        "licence_application": sa.select(LicenceApplication.id).where(
            LicenceApplication.patent_id.in_(patents)
        ),
    }
    pairs = {
        "patent": patents,
        "demand": demands,
        "match": by_pair(Match),
        "deal": by_pair(Deal),
        "contract": contracts,
        "user": users,
        **of_patent,
    }
    return sa.or_(
        *(
            sa.and_(AuditEvent.entity == entity, AuditEvent.entity_id.in_(ids))
            for entity, ids in pairs.items()
        )
    )


def _where(user: User, f: AuditFilters) -> list[sa.ColumnElement[bool]]:
    clauses = [scope_clause(user)]
    if f.entity:
        clauses.append(AuditEvent.entity == f.entity)
    if f.entity_id is not None:
        clauses.append(AuditEvent.entity_id == f.entity_id)
    if f.q:
        clauses.append(_object_search(f.q))
    if f.actor == SYSTEM_ACTOR:
        clauses.append(AuditEvent.actor_id.is_(None))
    elif f.actor is not None:
        clauses.append(AuditEvent.actor_id == f.actor)
    if f.person:
        people = contains(f.person, User.name, User.email, ignore_case=True)
        clauses.append(AuditEvent.actor_id.in_(sa.select(User.id).where(people)))
    if f.action:
        clauses.append(AuditEvent.action == f.action)
    if f.date_from:
        clauses.append(AuditEvent.created_at >= clock.local_day_start(f.date_from))
    if f.date_to:
        clauses.append(AuditEvent.created_at < clock.local_day_start(f.date_to + timedelta(days=1)))
    return clauses


def page(user: User, f: AuditFilters, per_page: int) -> Page:
    """One page of events, newest first, with their actors loaded."""
    where = _where(user, f)
    stmt = (
        sa.select(AuditEvent)
        .options(sa.orm.joinedload(AuditEvent.actor))
        .where(*where)
        .order_by(AuditEvent.id.desc())
    )
    return paginate(stmt, sa.select(sa.func.count(AuditEvent.id)).where(*where), f.page, per_page)


def actions(user: User) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(scope_clause(user)).distinct().order_by("action")
        )
    )


def actor_name(actor_id: int | None) -> str | None:
    """The name behind an ``actor`` filter (shown beside it)."""
    if actor_id is None:
        return None
    if actor_id == SYSTEM_ACTOR:
        return "系统"
    return db.session.scalar(sa.select(User.name).where(User.id == actor_id))


def export_rows(user: User, f: AuditFilters) -> Iterator[AuditEvent]:
    """Every matching event, oldest first, streamed in chunks."""
    stmt = (
        sa.select(AuditEvent)
        .where(*_where(user, f))
        .order_by(AuditEvent.id)
        .execution_options(yield_per=500)
    )
    yield from db.session.scalars(stmt)


def export_count(user: User, f: AuditFilters, limit: int | None = None) -> int:
    """How many events ``export_rows`` gives; with ``limit``, at most that many."""
    ids = sa.select(AuditEvent.id).where(*_where(user, f))
    if limit is not None:
        ids = ids.limit(limit)
    return db.session.scalar(sa.select(sa.func.count()).select_from(ids.subquery())) or 0
