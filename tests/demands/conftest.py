from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from revive.accounts.models import Organization, OrgKind, Role, User
from tests.demands.helpers import credit_code
from tests.factories import make_college, make_org, make_user


@dataclass
class World:
    ent_a: Organization
    ent_b: Organization
    users: dict[Role, User]
    other_enterprise_user: User
    uni: Organization


@pytest.fixture(autouse=True)
def _no_broker(enqueued) -> Any:
    """Receivers of demand_saved (matching) may enqueue work: never talk to a broker here."""
    return enqueued


@pytest.fixture
def world(app) -> World:
    ent_a = make_org("甲科技有限公司", kind=OrgKind.ENTERPRISE, credit_code=credit_code(901))
    ent_b = make_org("乙制造有限公司", kind=OrgKind.ENTERPRISE, credit_code=credit_code(902))
    uni = make_org("丙大学")
    college = make_college(uni, "材料学院")
    users = {
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=uni),
        Role.COLLEGE_ADMIN: make_user(Role.COLLEGE_ADMIN, college=college),
        Role.INVENTOR: make_user(Role.INVENTOR, organization=uni),
        Role.ENTERPRISE: make_user(Role.ENTERPRISE, organization=ent_a, name="甲联系人"),
        Role.OFFICER: make_user(Role.OFFICER),
        Role.REGULATOR: make_user(Role.REGULATOR),
    }
    other = make_user(Role.ENTERPRISE, organization=ent_b)
    return World(ent_a, ent_b, users, other, uni)
