from __future__ import annotations

from dataclasses import dataclass

import pytest

from revive.accounts.models import College, Organization, Role, User
from tests.factories import make_college, make_org, make_patent, make_user


@pytest.fixture(autouse=True)
def _own_data_dir(app, tmp_path, monkeypatch):
    """Each test's export files in a folder of its own (REVIVE_DATA_DIR/exports)."""
    monkeypatch.setitem(app.config, "REVIVE_DATA_DIR", str(tmp_path))


@pytest.fixture
def threshold(app, monkeypatch):
    """Set REVIVE_EXPORT_DIRECT_MAX_ROWS for the test: ``threshold(3)``."""

    def set_to(rows: int) -> None:
        monkeypatch.setitem(app.config, "REVIVE_EXPORT_DIRECT_MAX_ROWS", rows)

    return set_to


@dataclass
class Uni:
    org: Organization
    college: College
    admin: User


@pytest.fixture
def uni(app) -> Uni:
    """A university with an admin and five patents: one whose title would run as a formula,
    and one of another university that the admin must never see."""
    org = make_org("导出理工大学")
    college = make_college(org, "材料学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org, name="王管理")
    make_patent(org, college=college, title='=HYPERLINK("http://x")一种电池')
    for i in range(4):
        make_patent(org, college=college if i % 2 else None, title=f"一种导出测试材料{i}")
    make_patent(make_org("别的大学"), title="别校的专利")
    return Uni(org, college, admin)
