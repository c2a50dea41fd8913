"""The objects audit events speak of, by name, linked to their page where the viewer may open it.

``names(viewer, refs)`` takes (object type, id) pairs — an event's own object and the ids its
data names (patent_id, demand_id, …) — and answers them in one query per object type:

- 专利: 申请号《名称》 → the patent page, for those who may see the patent;
- 需求: “名称” → the demand page;
- 匹配 / 对接 / 合同: “需求” ↔ 《专利》 → the match page (staff; the enterprise once accepted),
  the deal page (its parties and staff; a contract links to its deal);
- 市场评价 / 评价邀请 / 开放许可: the enterprise and the patent they concern → the patent page or
  the declaration's page; 开放许可实施申请 → the application's page (its two sides and staff);
- 账号: the person's name; 企业: the organization's name (no page of their own).

A row deleted since (or unknown) reads "（已删除）". Part of the audit log's reading side (top
floor, see audit.labels).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import url_for

from revive.accounts.models import Organization, Role, User
from revive.deals.models import Contract, Deal
from revive.deals.permissions import visible_deals_clause
from revive.demands.models import Demand
from revive.demands.permissions import visible_demands_clause
from revive.evaluations.models import Evaluation, EvaluationInvite
from revive.extensions import db
from revive.inventory.models import Patent
from revive.inventory.permissions import visible_patents_clause
from revive.licensing.models import LicenceApplication, OpenLicenceDeclaration
from revive.licensing.permissions import listed_clause, visible_applications_clause
from revive.matching.models import Match, MatchState
from revive.matching.permissions import is_staff
from revive.pools.models import Pool, Roadshow
from revive.pools.services import READ_ROLES as POOL_READERS

GONE = "（已删除）"
Ref = tuple[str, int]


@dataclass(frozen=True)
class Named:
    text: str
    href: str | None = None


def _visible(model: type, ids: set[int], clause: sa.ColumnElement[bool]) -> set[int]:
    if not ids:
        return set()
    return set(db.session.scalars(sa.select(model.id).where(model.id.in_(ids), clause)))


def _pair(demand_title: str | None, patent_title: str | None) -> str:
    return f"“{demand_title or GONE}” ↔ 《{patent_title or GONE}》"


def _patents(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(
        sa.select(Patent.id, Patent.application_no, Patent.title).where(Patent.id.in_(ids))
    ).all()
    seen = _visible(Patent, ids, visible_patents_clause(viewer)) if links else set()
    return {
        pid: Named(
            f"{appno}《{title}》",
            url_for("inventory.detail", patent_id=pid) if pid in seen else None,
        )
        for pid, appno, title in rows
    }


def _demands(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(sa.select(Demand.id, Demand.title).where(Demand.id.in_(ids))).all()
    seen = _visible(Demand, ids, visible_demands_clause(viewer)) if links else set()
    return {
        did: Named(f"“{title}”", url_for("demands.detail", demand_id=did) if did in seen else None)
        for did, title in rows
    }


def _pairs(model: type, ids: set[int]) -> sa.Select:
    """(id, demand title, patent title) of matches or deals."""
    return (
        sa.select(model.id, Demand.title, Patent.title)
        .outerjoin(Demand, Demand.id == model.demand_id)
        .outerjoin(Patent, Patent.id == model.patent_id)
        .where(model.id.in_(ids))
    )


def _matches(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(_pairs(Match, ids)).all()
    seen: set[int] = set()
    if links and is_staff(viewer):
        seen = ids
    elif links and viewer.role == Role.ENTERPRISE and viewer.organization_id is not None:
        own = sa.and_(
            Match.state == MatchState.ACCEPTED,
            Match.demand_id.in_(
                sa.select(Demand.id).where(Demand.enterprise_id == viewer.organization_id)
            ),
        )
        seen = _visible(Match, ids, own)
    return {
        mid: Named(
            _pair(d, p), url_for("matching.match_page", match_id=mid) if mid in seen else None
        )
        for mid, d, p in rows
    }


def _deals(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(_pairs(Deal, ids)).all()
    seen = _visible(Deal, ids, visible_deals_clause(viewer)) if links else set()
    return {
        did: Named(_pair(d, p), url_for("deals.detail", deal_id=did) if did in seen else None)
        for did, d, p in rows
    }


def _contracts(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(
        sa.select(Contract.id, Contract.deal_id, Demand.title, Patent.title)
        .join(Deal, Deal.id == Contract.deal_id)
        .outerjoin(Demand, Demand.id == Deal.demand_id)
        .outerjoin(Patent, Patent.id == Deal.patent_id)
        .where(Contract.id.in_(ids))
    ).all()
    deal_ids = {deal_id for _, deal_id, _, _ in rows}
    seen = _visible(Deal, deal_ids, visible_deals_clause(viewer)) if links else set()
    return {
        cid: Named(
            f"合同：{_pair(d, p)}",
            url_for("deals.detail", deal_id=deal_id) + "#contract" if deal_id in seen else None,
        )
        for cid, deal_id, d, p in rows
    }


def _about_patent(model: type, verb: str) -> Callable[[User, set[int], bool], dict[int, Named]]:
    """Evaluations and invites: '<enterprise>评价《专利》' → the patent page."""

    def resolve(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
        rows = db.session.execute(
            sa.select(model.id, model.patent_id, Organization.name, Patent.title)
            .outerjoin(Organization, Organization.id == model.enterprise_id)
            .outerjoin(Patent, Patent.id == model.patent_id)
            .where(model.id.in_(ids))
        ).all()
        patents = {pid for _, pid, _, _ in rows}
        seen = _visible(Patent, patents, visible_patents_clause(viewer)) if links else set()
        return {
            row_id: Named(
                verb.format(enterprise=org or GONE, patent=title or GONE),
                url_for("inventory.detail", patent_id=pid) if pid in seen else None,
            )
            for row_id, pid, org, title in rows
        }

    return resolve


def _licences(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(
        sa.select(OpenLicenceDeclaration.id, OpenLicenceDeclaration.patent_id, Patent.title)
        .join(Patent, Patent.id == OpenLicenceDeclaration.patent_id)
        .where(OpenLicenceDeclaration.id.in_(ids))
    ).all()
    seen: set[int] = set()
    if links and ids:
        patents = sa.select(Patent.id).where(visible_patents_clause(viewer))
        seen = set(
            db.session.scalars(
                sa.select(OpenLicenceDeclaration.id)
                .join(Patent, Patent.id == OpenLicenceDeclaration.patent_id)
                .where(
                    OpenLicenceDeclaration.id.in_(ids),
                    sa.or_(listed_clause(), Patent.id.in_(patents)),
                )
            )
        )
    return {
        lid: Named(
            f"《{title}》的开放许可声明",
            url_for("licensing.detail", declaration_id=lid) if lid in seen else None,
        )
        for lid, _, title in rows
    }


def _applications(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(
        sa.select(LicenceApplication.id, LicenceApplication.applicant_name, Patent.title)
        .join(Patent, Patent.id == LicenceApplication.patent_id)
        .where(LicenceApplication.id.in_(ids))
    ).all()
    seen = (
        _visible(LicenceApplication, ids, visible_applications_clause(viewer)) if links else set()
    )
    return {
        aid: Named(
            f"{org}申请实施《{title}》的开放许可",
            url_for("licensing.application", application_id=aid) if aid in seen else None,
        )
        for aid, org, title in rows
    }


def _users(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids))).all()
    return {uid: Named(name) for uid, name in rows}


def _organizations(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(
        sa.select(Organization.id, Organization.name).where(Organization.id.in_(ids))
    ).all()
    return {oid: Named(name) for oid, name in rows}


def _pools(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(sa.select(Pool.id, Pool.name).where(Pool.id.in_(ids))).all()
    readable = links and viewer.role in POOL_READERS
    return {
        pid: Named(
            f"产业专利池「{name}」", url_for("pools.detail", pool_id=pid) if readable else None
        )
        for pid, name in rows
    }


def _roadshows(viewer: User, ids: set[int], links: bool) -> dict[int, Named]:
    rows = db.session.execute(
        sa.select(Roadshow.id, Roadshow.title, Roadshow.held_on).where(Roadshow.id.in_(ids))
    ).all()
    readable = links and viewer.role in POOL_READERS
    return {
        rid: Named(
            f"路演「{title}」（{held_on}）",
            url_for("roadshows.roadshow_detail", roadshow_id=rid) if readable else None,
        )
        for rid, title, held_on in rows
    }


RESOLVERS: dict[str, Callable[[User, set[int], bool], dict[int, Named]]] = {
    "patent": _patents,
    "demand": _demands,
    "match": _matches,
    "deal": _deals,
    "contract": _contracts,
    "evaluation": _about_patent(Evaluation, "{enterprise}对《{patent}》的评价"),
    "evaluation_invite": _about_patent(EvaluationInvite, "邀请{enterprise}评价《{patent}》"),
    "open_licence": _licences,
    "licence_application": _applications,
    "user": _users,
    "organization": _organizations,
    "pool": _pools,
    "roadshow": _roadshows,
}


def names(viewer: User, refs: Iterable[Ref], *, links: bool = True) -> dict[Ref, Named]:
    """Every ref named (one query per object type, plus one for the links); an unknown type
    or a row gone reads GONE. ``links=False`` (exports) skips the link queries."""
    by_type: dict[str, set[int]] = defaultdict(set)
    for entity, row_id in refs:
        by_type[entity].add(row_id)
    out: dict[Ref, Named] = {}
    for entity, ids in by_type.items():
        resolve = RESOLVERS.get(entity)
        found = resolve(viewer, ids, links) if resolve else {}
        for row_id in ids:
            out[(entity, row_id)] = found.get(row_id, Named(GONE))
    return out
