"""A small constructed dataset: university A (three colleges), university B, an enterprise."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.inventory.models import EntryStatus, Willingness
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
