from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from revive.accounts.models import College, Organization, Role, User
from revive.inventory.models import Patent
from tests.evaluations.helpers import entered, make_enterprise
from tests.factories import make_college, make_org, make_user


@pytest.fixture(autouse=True)
def _no_broker(enqueued) -> Any:
    """Notifications may queue e-mail, signals may queue matching work: never a real broker."""
    return enqueued


@dataclass
class World:
    uni_a: Organization
    uni_b: Organization
    college_a: College
    ent_a: Organization  # the enterprise user's organization
    ent_b: Organization
    users: dict[Role, User]
    other_enterprise_user: User  # of ent_b
    own: Patent  # uni_a, college_a, inventor linked
    other: Patent  # uni_b


@pytest.fixture
def world(app) -> World:
    uni_a, uni_b = make_org("甲大学"), make_org("乙大学")
    college_a, college_b = make_college(uni_a, "甲材料学院"), make_college(uni_b, "乙材料学院")
    ent_a, ent_b = make_enterprise("甲科技有限公司"), make_enterprise("乙制造有限公司")
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=uni_a),
        Role.COLLEGE_ADMIN: make_user(Role.COLLEGE_ADMIN, college=college_a),
        Role.INVENTOR: make_user(Role.INVENTOR, organization=uni_a, name="张发明"),
        Role.ENTERPRISE: make_user(Role.ENTERPRISE, organization=ent_a, name="甲联系人"),
        Role.OFFICER: make_user(Role.OFFICER),
        Role.REGULATOR: make_user(Role.REGULATOR),
    }
    other_ent_user = make_user(Role.ENTERPRISE, organization=ent_b)
    own = entered(
        uni_a,
        college=college_a,
        inventors=[users[Role.INVENTOR]],
        title="甲校入库专利",
        industry_code="C26 化学原料和化学制品制造业",
    )
    other = entered(uni_b, college=college_b, title="乙校入库专利", industry_code="C35 专用设备")
    return World(uni_a, uni_b, college_a, ent_a, ent_b, users, other_ent_user, own, other)
