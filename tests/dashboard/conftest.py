"""Constructed datasets: ``world`` (inventory of two universities) and ``pipeline`` (world plus
evaluations, demands, matches, deals at every stage and contracts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.db import utcnow
from revive.deals.models import (
    ContractKind,
    Deal,
    Stage,
)
from revive.demands.models import Demand, DemandStatus
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, Willingness
from revive.matching.models import MatchState
from tests.dashboard.helpers import (
    DAY,
    make_contract,
    make_deal,
    make_demand,
    make_evaluation,
    make_match,
)
from tests.factories import make_college, make_org, make_patent, make_user

S = EntryStatus


@dataclass
class World:
    uni_a: Organization
    uni_b: Organization
    idle_uni: Organization
    a_materials: College
    a_energy: College
    a_empty: College
    b_college: College
    admin_a: User
    admin_b: User
    college_admin_a: User
    inventor_a: User


@pytest.fixture
def world(app) -> World:
    uni_a = make_org("甲大学")
    uni_b = make_org("乙大学")
    idle_uni = make_org("丙学院")  # a university that has uploaded nothing yet
    make_org("某某科技有限公司", kind=OrgKind.ENTERPRISE)
    a_materials = make_college(uni_a, "材料学院")
    a_energy = make_college(uni_a, "能源学院")
    a_empty = make_college(uni_a, "外国语学院")
    b_college = make_college(uni_b, "乙大学机械学院")
    inventor_a = make_user(Role.INVENTOR, organization=uni_a, name="张发明")

    # 甲大学: 8 patents, 2 entered.
    make_patent(
        uni_a, college=a_materials, status=S.ENTERED, value_grade=5, trl=7, inventors=[inventor_a]
    )
    make_patent(uni_a, college=a_materials, status=S.ENTERED)  # factory: 3★, TRL 5, 愿意
    make_patent(uni_a, college=a_materials, status=S.PENDING_COLLEGE)
    make_patent(uni_a, college=a_materials, status=S.DRAFT)
    make_patent(uni_a, college=a_energy, status=S.PENDING_SCHOOL)
    make_patent(uni_a, college=a_energy, status=S.RETURNED)
    make_patent(
        uni_a,
        college=a_energy,
        status=S.ABANDON,
        value_grade=1,
        transfer_willingness=Willingness.NOT_NOW,
    )
    make_patent(uni_a, status=S.NOT_ENTERED)  # no college
    # 乙大学: 3 patents, all entered.
    for _ in range(3):
        make_patent(uni_b, college=b_college, status=S.ENTERED)

    return World(
        uni_a=uni_a,
        uni_b=uni_b,
        idle_uni=idle_uni,
        a_materials=a_materials,
        a_energy=a_energy,
        a_empty=a_empty,
        b_college=b_college,
        admin_a=make_user(Role.UNIVERSITY_ADMIN, organization=uni_a),
        admin_b=make_user(Role.UNIVERSITY_ADMIN, organization=uni_b),
        college_admin_a=make_user(Role.COLLEGE_ADMIN, organization=uni_a, college=a_materials),
        inventor_a=inventor_a,
    )


# ---------------------------------------------------------------------------- the deal pipeline
#
# On top of ``world``: two more entered patents at 甲大学 (能源学院), industry codes, enterprise
# evaluations, demands, matches, deals at every stage (with stage history) and three contracts.
# Expected figures (see tests/dashboard/test_funnel.py for the derivation):
#   platform 13 / 7 / 3 / 6 / 5 / 2, 甲大学 10 / 4 / 2 / 3 / 2 / 1, 乙大学 3 / 3 / 1 / 3 / 3 / 1,
#   材料学院 4 / 2 / 1 / 2 / 1 / 0.


@dataclass
class Pipeline:
    world: World
    patents: dict[str, Patent]
    demands: dict[str, Demand]
    deals: dict[str, Deal]
    ent_x: Organization
    ent_y: Organization
    users: dict[str, User]
    now: datetime


@pytest.fixture
def pipeline(world) -> Pipeline:
    now = utcnow()
    q = db.session
    a_entered = q.scalars(
        sa.select(Patent)
        .where(Patent.institution_id == world.uni_a.id, Patent.status == S.ENTERED)
        .order_by(Patent.id)
    ).all()
    p1, p2 = a_entered  # both 材料学院; p1 is the 5★ one
    p3 = q.scalars(sa.select(Patent).where(Patent.status == S.PENDING_COLLEGE)).one()
    p6 = q.scalars(sa.select(Patent).where(Patent.status == S.RETURNED)).one()
    b1, b2, b3 = q.scalars(
        sa.select(Patent).where(Patent.institution_id == world.uni_b.id).order_by(Patent.id)
    ).all()
    p1.industry_code = "c3670 汽车零部件及配件制造"  # lower case: still section C
    p2.industry_code = "锂电池"  # no code letter
    e1 = make_patent(
        world.uni_a, college=world.a_energy, status=S.ENTERED, industry_code="C3841 锂离子电池制造"
    )
    e2 = make_patent(
        world.uni_a, college=world.a_energy, status=S.ENTERED, industry_code=" D4420 电力供应"
    )

    ent_x = make_org("甲科技有限公司", kind=OrgKind.ENTERPRISE)
    ent_y = make_org("乙制造有限公司", kind=OrgKind.ENTERPRISE)
    users = {
        "o1": make_user(Role.OFFICER, name="王经理"),
        "o2": make_user(Role.OFFICER, name="李经理"),
        "o3": make_user(Role.OFFICER, name="赵经理"),  # no activity at all
        "ent_x": make_user(Role.ENTERPRISE, organization=ent_x, name="甲联系人"),
        "ent_y": make_user(Role.ENTERPRISE, organization=ent_y, name="乙联系人"),
        "regulator": make_user(Role.REGULATOR),
        "platform": make_user(Role.PLATFORM_ADMIN),
        "energy_admin": make_user(
            Role.COLLEGE_ADMIN, organization=world.uni_a, college=world.a_energy
        ),
    }
    o1, o2 = users["o1"], users["o2"]

    make_evaluation(p1, ent_x)
    make_evaluation(p1, ent_y, 5)
    make_evaluation(e1, ent_y)
    make_evaluation(p3, ent_x)  # not entered: never counts as 评价
    make_evaluation(b1, ent_x)

    d = {
        "D1": make_demand(ent_x, "高能量密度电池材料", industry="C3841 锂离子电池制造"),
        "D2": make_demand(ent_y, "轻量化汽车零部件", industry="C3670 汽车零部件及配件制造"),
        "D3": make_demand(ent_x, '=HYPERLINK("http://x")盐碱地改良', industry="A0111 稻谷种植"),
        "D4": make_demand(ent_y, "污水深度处理", industry="N7721 水污染治理"),
        "D5": make_demand(ent_y, "饲料添加剂"),
        "D6": make_demand(ent_x, "已关闭的需求", status=DemandStatus.CLOSED),
    }
    # unmet: D3 never matched, D4 every match rejected; D5 still has an undecided candidate
    make_match(d["D4"], p1, MatchState.REJECTED, o1, now - 5 * DAY)
    make_match(d["D4"], b1, MatchState.REJECTED, o2, now - 40 * DAY)  # outside the 30-day window
    make_match(d["D5"], p1, MatchState.REJECTED, o2, now - DAY)
    make_match(d["D5"], b2)  # undecided, open demand
    make_match(d["D6"], b3)  # undecided, but the demand is closed

    deals = {
        "d1": make_deal(
            d["D1"], p1, o1, [Stage.CONTACTED, Stage.FAILED], now=now, due_in_days=5, responded=True
        ),
        "d2": make_deal(d["D2"], p2, o1, [Stage.RECOMMENDED], now=now, due_in_days=-3),  # overdue
        "d6": make_deal(
            d["D1"], p2, o2, [Stage.FAILED], now=now, due_in_days=-3
        ),  # failed, not contacted
        "d3": make_deal(
            d["D1"],
            e1,
            o2,
            [Stage.CONTACTED, Stage.NEGOTIATING, Stage.SIGNED],
            now=now,
            due_in_days=5,
            responded=True,
        ),
        "d4": make_deal(
            d["D2"], e1, o1, [Stage.CONTACTED, Stage.SIGNED], now=now, due_in_days=5, responded=True
        ),
        "d7": make_deal(d["D2"], p6, o1, [Stage.RECOMMENDED], now=now, due_in_days=4),  # awaiting
        "db1": make_deal(
            d["D1"],
            b1,
            o1,
            [Stage.CONTACTED, Stage.NEGOTIATING],
            now=now,
            due_in_days=5,
            responded=True,
        ),
        "db2": make_deal(
            d["D2"], b2, o2, [Stage.CONTACTED, Stage.SIGNED], now=now, due_in_days=5, responded=True
        ),
        "db3": make_deal(d["D2"], b3, o2, [Stage.CONTACTED], now=now, due_in_days=-1),  # overdue
    }
    make_contract(deals["d3"], ContractKind.ASSIGNMENT, "100.50", date(2024, 3, 15))
    make_contract(deals["d4"], ContractKind.LICENSE, "20", date(2024, 5, 2))
    make_contract(deals["db2"], ContractKind.OPEN_LICENSE, "5", date(2024, 3, 20))
    db.session.commit()

    patents = {
        "p1": p1,
        "p2": p2,
        "p3": p3,
        "p6": p6,
        "e1": e1,
        "e2": e2,
        "b1": b1,
        "b2": b2,
        "b3": b3,
    }
    return Pipeline(world, patents, d, deals, ent_x, ent_y, users, now)
