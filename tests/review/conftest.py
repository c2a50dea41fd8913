"""Review test world: two universities (one with two colleges), two enterprises, a user per
role, entered patents, open demands, and candidate / decided matches made directly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from revive.accounts.models import College, Organization, Role, User
from revive.demands.models import Demand
from revive.inventory.models import Patent

# The browser harness's fixtures, for test_browser.py (a conftest is only seen by its folder).
from tests.browser.conftest import (  # noqa: F401
    browser,
    live,
    live_server,
    people,
    seed,
)
from tests.factories import make_college, make_org, make_user
from tests.matching.helpers import entered, make_demand, make_enterprise


@dataclass
class World:
    uni_a: Organization
    uni_b: Organization
    college_a: College
    college_a2: College
    ent_a: Organization
    ent_b: Organization
    users: dict[Role, User]
    patents: dict[str, Patent]
    demands: dict[str, Demand]

    @property
    def officer(self) -> User:
        return self.users[Role.OFFICER]


@pytest.fixture(autouse=True)
def _no_broker(enqueued) -> Any:
    """Receivers (matching) may enqueue work: never talk to a broker here."""
    return enqueued


@pytest.fixture
def world(app) -> World:
    uni_a, uni_b = make_org("甲大学"), make_org("乙大学")
    college_a, college_a2 = make_college(uni_a, "材料学院"), make_college(uni_a, "环境学院")
    college_b = make_college(uni_b, "乙校化工学院")
    ent_a, ent_b = make_enterprise("甲电池科技有限公司"), make_enterprise("乙环保有限公司")
    inventor = make_user(Role.INVENTOR, organization=uni_a, name="张发明")
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.OFFICER: make_user(Role.OFFICER, name="李经理"),
        Role.REGULATOR: make_user(Role.REGULATOR),
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=uni_a),
        Role.COLLEGE_ADMIN: make_user(Role.COLLEGE_ADMIN, college=college_a),
        Role.INVENTOR: inventor,
        Role.ENTERPRISE: make_user(Role.ENTERPRISE, organization=ent_a),
    }
    patents = {
        # 甲大学 材料学院, the inventor's own
        "a1": entered(
            uni_a,
            college=college_a,
            inventors=[inventor],
            title="甲校高镍正极材料",
            value_grade=4,
            trl=4,
        ),
        # 甲大学 环境学院
        "a2": entered(uni_a, college=college_a2, title="甲校膜生物反应器", value_grade=2, trl=7),
        # 乙大学
        "b1": entered(uni_b, college=college_b, title="乙校锂电隔膜", value_grade=5, trl=8),
    }
    demands = {
        "battery": make_demand(ent_a, title="动力电池正极材料", industry="新能源", expected_trl=6),
        "water": make_demand(ent_b, title="工业污水深度处理", industry="环保"),
    }
    return World(uni_a, uni_b, college_a, college_a2, ent_a, ent_b, users, patents, demands)
