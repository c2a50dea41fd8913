"""One-line test setup: make_org, make_user, make_patent … with keyword defaults and sequences."""

from __future__ import annotations

import itertools
from typing import Any

from werkzeug.security import generate_password_hash

from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.db import utcnow
from revive.extensions import db
from revive.inventory.appno import make_application_no
from revive.inventory.models import EntryStatus, Patent, PatentType, Willingness

PASSWORD = "Passw0rd!"
_seq = itertools.count(1)
# Hashing is slow by design; tests share one hash of PASSWORD.
_PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def make_org(
    name: str | None = None, kind: OrgKind = OrgKind.UNIVERSITY, **kw: Any
) -> Organization:
    org = Organization(name=name or f"测试大学{next(_seq)}", kind=kind, **kw)
    db.session.add(org)
    db.session.commit()
    return org


def make_college(institution: Organization, name: str | None = None) -> College:
    college = College(institution=institution, name=name or f"学院{next(_seq)}")
    db.session.add(college)
    db.session.commit()
    return college


def make_user(
    role: Role = Role.UNIVERSITY_ADMIN,
    organization: Organization | None = None,
    college: College | None = None,
    **kw: Any,
) -> User:
    n = next(_seq)
    if organization is None and role in (
        Role.UNIVERSITY_ADMIN,
        Role.COLLEGE_ADMIN,
        Role.INVENTOR,
        Role.ENTERPRISE,
    ):
        kind = OrgKind.ENTERPRISE if role == Role.ENTERPRISE else OrgKind.UNIVERSITY
        organization = college.institution if college else make_org(kind=kind)
    if role == Role.COLLEGE_ADMIN and college is None:
        college = make_college(organization)
    user = User(
        email=kw.pop("email", f"user{n}@example.edu.cn"),
        name=kw.pop("name", f"用户{n}"),
        role=role,
        organization=organization,
        college=college,
        password_hash=_PASSWORD_HASH,
        **kw,
    )
    db.session.add(user)
    db.session.commit()
    return user


def make_patent(
    institution: Organization | None = None,
    *,
    college: College | None = None,
    status: EntryStatus = EntryStatus.DRAFT,
    inventors: list[User] | None = None,
    **kw: Any,
) -> Patent:
    n = next(_seq)
    if institution is None:
        institution = college.institution if college else make_org()
    now = utcnow()
    graded = status == EntryStatus.ENTERED
    fields: dict[str, Any] = {
        "application_no": make_application_no(2019, 1, 100000 + n),
        "title": f"一种测试用复合材料的制备方法{n}",
        "patent_type": PatentType.INVENTION,
        "abstract": "本发明公开了一种复合材料的制备方法，提高了材料强度。",
        "trl": 5 if graded else None,
        "value_grade": 3 if graded else None,
        "transfer_willingness": Willingness.WILLING if graded else None,
    }
    fields.update(kw)
    patent = Patent(institution=institution, college=college, status=status, **fields)
    if status != EntryStatus.DRAFT and status != EntryStatus.RETURNED:
        patent.submitted_at = now
    if status == EntryStatus.ENTERED:
        patent.entered_at = now
    if inventors:
        patent.inventor_users = list(inventors)
        patent.inventors = "；".join(u.name for u in inventors)
    db.session.add(patent)
    db.session.commit()
    return patent
