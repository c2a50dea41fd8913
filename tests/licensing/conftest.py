from __future__ import annotations

from dataclasses import dataclass

import pytest

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.inventory.models import EntryStatus, Patent
from tests.factories import make_college, make_org, make_patent, make_user


@dataclass
class World:
    uni_a: Organization
    uni_b: Organization
    college_a: College  # the college admin's college
    college_a2: College  # another college of the same university
    users: dict[Role, User]
    own: Patent  # entered, university A, college_a, the inventor is named on it
    other: Patent  # entered, university B


@pytest.fixture
def world(app) -> World:
    uni_a, uni_b = make_org("甲大学"), make_org("乙大学")
    college_a, college_a2 = make_college(uni_a, "材料学院"), make_college(uni_a, "机械学院")
    college_b = make_college(uni_b, "化工学院")
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=uni_a),
        Role.COLLEGE_ADMIN: make_user(Role.COLLEGE_ADMIN, college=college_a),
        Role.INVENTOR: make_user(Role.INVENTOR, organization=uni_a, name="张发明"),
        Role.ENTERPRISE: make_user(
            Role.ENTERPRISE, organization=make_org("丙科技有限公司", kind=OrgKind.ENTERPRISE)
        ),
        Role.OFFICER: make_user(Role.OFFICER),
        Role.REGULATOR: make_user(Role.REGULATOR),
    }
    own = make_patent(
        uni_a,
        college=college_a,
        status=EntryStatus.ENTERED,
        inventors=[users[Role.INVENTOR]],
        title="甲校入库专利",
        patentees="甲大学",
        industry_code="C26 化学原料和化学制品制造业",
        legal_status="有效",
    )
    other = make_patent(
        uni_b,
        college=college_b,
        status=EntryStatus.ENTERED,
        title="乙校入库专利",
        patentees="乙大学",
        industry_code="C35 专用设备制造业",
        legal_status="有效",
    )
    return World(uni_a, uni_b, college_a, college_a2, users, own, other)
