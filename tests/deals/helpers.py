"""Deal test setup: a pushed deal in one line, and a world of users on two sides.

Deals are created the real way: a Match, then ``review.services.decide(match, "accepted")``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import College, Organization, Role, User
from revive.clock import local_today
from revive.db import utcnow
from revive.deals import services
from revive.deals.models import Deal, Stage, UniversityResponse
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching.models import Match
from revive.review import services as decisions
from tests.factories import make_college, make_org, make_user
from tests.matching.helpers import entered, make_demand, make_enterprise

_seq = itertools.count(1)


def make_deal(
    *,
    university: Organization | None = None,
    college: College | None = None,
    inventors: list[User] | None = None,
    enterprise: Organization | None = None,
    officer: User | None = None,
    patent: Patent | None = None,
    response: UniversityResponse | None = None,
    **demand_kw: Any,
) -> Deal:
    """Push a fresh match (patent of ``university``/``college`` × a demand of ``enterprise``);
    ``response``: the university's answer, as if given (the parties record contact and
    negotiation only after 愿意对接)."""
    n = next(_seq)
    if patent is None:
        patent = entered(
            university or (college.institution if college else make_org()),
            college=college,
            inventors=inventors,
            title=f"一种测试专利{n}",
        )
    demand_kw.setdefault("title", f"测试需求{n}")
    demand = make_demand(enterprise or make_enterprise(), **demand_kw)
    match = Match(demand_id=demand.id, patent_id=patent.id, score=0.5, terms=[["材料", 1.0]])
    db.session.add(match)
    db.session.commit()
    decisions.decide(match.id, "accepted", officer or make_user(Role.OFFICER))
    deal = db.session.scalar(sa.select(Deal).where(Deal.match_id == match.id))
    if response is not None:
        deal.response, deal.responded_at = response, utcnow()
        db.session.commit()
    return deal


def make_overdue(deal: Deal, days: int = 1) -> Deal:
    """Freeze time the cheap way: move the response deadline into the past."""
    deal.response_due_at = utcnow() - timedelta(days=days)
    db.session.commit()
    return deal


def advance(deal: Deal, *stages: Stage, actor: User | None = None) -> Deal:
    """Walk a deal forward through the given stages as an officer (no contract for 已签约)."""
    actor = actor or make_user(Role.OFFICER)
    names = {Stage.CONTACTED: "contact", Stage.NEGOTIATING: "negotiate"}
    for stage in stages:
        services.change_stage(deal.id, names[stage], actor)
    db.session.refresh(deal)
    return deal


def contract_data(**kw: Any) -> dict[str, Any]:
    data = {
        "kind": "license",
        "license_scope": "ordinary",
        "amount_wan": "120.50",
        "signed_on": local_today().isoformat(),  # the platform's day (Beijing), not UTC's
        "record_no": "2025110000123",
        "parties": "甲大学；甲科技有限公司",
    }
    data.update(kw)
    return data


def sign(deal: Deal, actor: User | None = None, **kw: Any) -> Deal:
    if deal.stage == Stage.RECOMMENDED:
        advance(deal, Stage.CONTACTED, Stage.NEGOTIATING)
    elif deal.stage == Stage.CONTACTED:
        advance(deal, Stage.NEGOTIATING)
    services.record_contract(deal.id, contract_data(**kw), actor or make_user(Role.OFFICER))
    db.session.refresh(deal)
    return deal


@dataclass
class World:
    """Two universities and two enterprises; ``users`` act on the 甲 side."""

    uni_a: Organization
    uni_b: Organization
    college_a: College
    other_college_a: College
    ent_a: Organization
    ent_b: Organization
    users: dict[Role, User]
    officer: User  # the officer who pushes the deals (also users[Role.OFFICER])

    def own_deal(self, **kw: Any) -> Deal:
        """甲大学 (the college admin's college, the inventor's patent) × 甲企业."""
        kw.setdefault("officer", self.officer)
        return make_deal(
            college=self.college_a,
            inventors=[self.users[Role.INVENTOR]],
            enterprise=self.ent_a,
            **kw,
        )

    def other_deal(self, **kw: Any) -> Deal:
        """乙大学 × 乙企业: outside every scoped user's reach."""
        kw.setdefault("officer", self.officer)
        return make_deal(university=self.uni_b, enterprise=self.ent_b, **kw)


def make_world() -> World:
    uni_a, uni_b = make_org("甲大学"), make_org("乙大学")
    college_a = make_college(uni_a, "甲材料学院")
    other_college_a = make_college(uni_a, "甲化工学院")
    ent_a, ent_b = make_enterprise("甲科技有限公司"), make_enterprise("乙制造有限公司")
    officer = make_user(Role.OFFICER, name="王经理")
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=uni_a),
        Role.COLLEGE_ADMIN: make_user(Role.COLLEGE_ADMIN, college=college_a),
        Role.INVENTOR: make_user(Role.INVENTOR, organization=uni_a, name="张发明"),
        Role.ENTERPRISE: make_user(Role.ENTERPRISE, organization=ent_a),
        Role.OFFICER: officer,
        Role.REGULATOR: make_user(Role.REGULATOR),
    }
    return World(uni_a, uni_b, college_a, other_college_a, ent_a, ent_b, users, officer)
