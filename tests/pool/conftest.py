"""Pool test world: a university with entered patents on unrelated subjects (plus a draft and
one under review), two enterprises, a user per role, an open-licence declaration, and the
matching index built by running the queued tasks (tests.matching.helpers.drain)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from revive.accounts.models import College, Organization, Role, User
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.matching import jobs, tokens
from revive.matching.models import DemandReading, Match, MatchSource, MatchTier, RunScope
from tests.factories import make_college, make_org, make_patent, make_user
from tests.licensing.helpers import make_declaration
from tests.matching.helpers import (
    BATTERY,
    IRRIGATION,
    WATER,
    drain,
    entered,
    make_demand,
    make_enterprise,
)

SILICON = {
    "title": "一种锂离子电池硅碳负极材料及其包覆改性制备方法",
    "abstract": "通过碳包覆改性抑制硅在充放电过程中的体积膨胀，提高硅碳负极的循环寿命和容量保持率。",
    "problem_solved": "硅碳负极体积膨胀大、循环寿命短",
}


@dataclass
class World:
    uni: Organization
    uni_b: Organization
    college: College
    ent: Organization
    ent_b: Organization
    users: dict[Role, User]
    ent_b_user: User
    patents: dict[str, Patent]

    @property
    def enterprise(self) -> User:
        return self.users[Role.ENTERPRISE]

    @property
    def officer(self) -> User:
        return self.users[Role.OFFICER]


@pytest.fixture(autouse=True)
def _no_broker(enqueued) -> Any:
    return enqueued


@pytest.fixture
def world(app, enqueued) -> World:
    uni = make_org("甲大学", region="内蒙古自治区呼和浩特市")
    uni_b = make_org("乙大学", region="浙江省杭州市")
    college = make_college(uni, "材料学院")
    ent, ent_b = make_enterprise("甲电池科技有限公司"), make_enterprise("乙环保有限公司")
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.OFFICER: make_user(Role.OFFICER, name="李经理"),
        Role.REGULATOR: make_user(Role.REGULATOR),
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=uni),
        Role.COLLEGE_ADMIN: make_user(Role.COLLEGE_ADMIN, college=college),
        Role.INVENTOR: make_user(Role.INVENTOR, organization=uni),
        Role.ENTERPRISE: make_user(Role.ENTERPRISE, organization=ent, name="赵企业"),
    }
    private = {
        "contact_name": "王老师",
        "contact_phone": "0471-7654321",
        "contact_email": "secret.contact@nkut.edu.cn",
        "partner_companies": "某保密合作企业",
        "asking_price": Decimal("88.52"),  # two decimals: no 申请号 holds "88.52"
        "value_grade": 5,
    }
    patents = {
        "silicon": entered(
            uni,
            college=college,
            inventors=[users[Role.INVENTOR]],
            transfer_modes="license,open_license",
            trl=6,
            industry_code="C3841 锂离子电池制造",
            **SILICON,
            **private,
        ),
        "battery": entered(uni, college=college, transfer_modes="assignment", trl=4, **BATTERY),
        "water": entered(uni_b, transfer_modes="license", trl=7, **WATER),
        "irrigation": entered(uni_b, trl=3, **IRRIGATION),
        "draft": make_patent(
            uni, title="一种未入库的硅碳负极草稿专利", abstract=SILICON["abstract"]
        ),
        "pending": make_patent(
            uni,
            status=EntryStatus.PENDING_SCHOOL,
            title="一种待审核的硅碳负极专利",
            abstract=SILICON["abstract"],
        ),
    }
    make_declaration(patents["water"], terms="许可期内提供技术指导")
    tokens.tokenize_patents(None)
    jobs.request_index_build()
    drain(enqueued)
    enqueued.clear()
    ent_b_user = make_user(Role.ENTERPRISE, organization=ent_b)
    return World(uni, uni_b, college, ent, ent_b, users, ent_b_user, patents)


def match_now(enqueued, demand_id: int) -> None:
    """Run the demand's match run as the worker would."""
    jobs.request_match_run(RunScope.DEMAND, demand_id)
    drain(enqueued)


def abstaining_demand(world: World, weak: dict[Patent, float]) -> Demand:
    """A demand of ``world.ent`` that matching read as abstaining (暂无合适专利), whose only
    candidates are the machine's weak ones: {patent: strength}."""
    demand = make_demand(world.ent, title="航空发动机叶片单晶铸造", description="单晶高温合金叶片")
    db.session.add(DemandReading(demand_id=demand.id, is_abstaining=True, best_strength=0.04))
    for patent, strength in weak.items():
        db.session.add(
            Match(
                demand_id=demand.id,
                patent_id=patent.id,
                score=0.1,
                strength=strength,
                tier=MatchTier.WEAK,
                reasons=["叶片"],
                source=MatchSource.MACHINE,
            )
        )
    db.session.commit()
    return demand
