"""The 盘活 administrator's filters: 法律状态, 实施状态, 申请日/授权日 ranges, 单位 — combined
with the others, kept by pagination and export, bad values ignored (never a 500)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from revive.accounts.models import Role
from revive.inventory import queries
from revive.inventory.models import ImplementationStatus, PatentType
from tests.factories import make_org, make_patent, make_user


def listed_ids(resp) -> list[int]:
    assert resp.status_code == 200
    return [int(x) for x in re.findall(r'data-patent-id="(\d+)"', resp.get_data(as_text=True))]


def exported_appnos(resp) -> set[str]:
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    return {r[0] for r in rows[1:]}


@pytest.fixture
def admin(app):
    return make_user(Role.UNIVERSITY_ADMIN)


@pytest.fixture
def pats(admin):
    org = admin.organization
    return {
        "valid_idle": make_patent(
            org,
            legal_status="有效",
            implementation_status=ImplementationStatus.NOT_IMPLEMENTED,
            filing_date=date(2016, 3, 1),
            grant_date=date(2018, 5, 2),
        ),
        "valid_licensed": make_patent(
            org,
            legal_status="有效",
            implementation_status=ImplementationStatus.LICENSED,
            filing_date=date(2019, 7, 1),
            grant_date=date(2021, 1, 10),
            patent_type=PatentType.INVENTION,
        ),
        "lapsed": make_patent(org, legal_status="失效", filing_date=date(2012, 1, 1)),
        "blank": make_patent(org),
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("legal_status=有效", {"valid_idle", "valid_licensed"}),
        ("legal_status=none", {"blank"}),
        ("implementation=licensed", {"valid_licensed"}),
        ("implementation=none", {"lapsed", "blank"}),
        ("filed_from=2016-03-01&filed_to=2019-07-01", {"valid_idle", "valid_licensed"}),
        ("filed_to=2016-02-29", {"lapsed"}),
        ("granted_from=2019-01-01", {"valid_licensed"}),
        ("granted_from=2018-05-02&granted_to=2018-05-02", {"valid_idle"}),
        # combined with each other and with the existing filters
        ("legal_status=有效&implementation=not_implemented", {"valid_idle"}),
        ("legal_status=有效&patent_type=invention&granted_to=2020-12-31", {"valid_idle"}),
        ("legal_status=有效&q=不存在的词", set()),
    ],
)
def test_each_new_filter_narrows_and_combines(client, auth, admin, pats, args, expected):
    auth.login(admin)
    want = sorted(pats[k].id for k in expected)
    assert sorted(listed_ids(client.get(f"/patents/?{args}"))) == want
    exported = exported_appnos(client.get(f"/patents/export.csv?{args}"))
    assert exported == {pats[k].application_no for k in expected}


@pytest.mark.parametrize(
    "args",
    [
        "filed_from=2020-13-01",
        "filed_from=yesterday&filed_to=1-1-1",
        "granted_to=0000-00-00",
        "granted_from=99999-01-01",
        "implementation=sold",
        "legal_status=" + "长" * 80,
        "legal_status=%20%20",
        "institution=abc",
        "institution=-3",
        "institution=99999999999999999999",
    ],
)
def test_bad_values_are_ignored_by_pages_and_never_filter_the_api(client, auth, admin, pats, args):
    """A hand-edited page URL falls back to the defaults; the API either refuses a value
    outside its documented schema (422) or, for one inside it, lists as the page does."""
    auth.login(admin)
    assert len(listed_ids(client.get(f"/patents/?{args}"))) == len(pats)
    assert client.get(f"/patents/export.csv?{args}").status_code == 200
    api = client.get(f"/api/v1/patents?{args}")
    assert api.status_code == 422 or api.get_json()["_meta"]["total_items"] == len(pats)


def test_filters_survive_pagination_and_export_links(app, client, auth, admin, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_PAGE_SIZE", 2)
    for n in range(5):
        make_patent(admin.organization, legal_status="有效", filing_date=date(2015 + n, 1, 1))
    make_patent(admin.organization, legal_status="失效", filing_date=date(2016, 1, 1))
    auth.login(admin)
    query = "legal_status=有效&filed_from=2016-01-01&implementation=none"
    html = client.get(f"/patents/?{query}").get_data(as_text=True)
    assert "共 4 条" in html
    for link in re.findall(r'href="(/patents/[^"]*page=2[^"]*)"', html):
        assert "filed_from=2016-01-01" in link and "implementation=none" in link
    export_link = re.search(r'href="(/patents/export\.csv\?[^"]*)"', html).group(1)
    assert "filed_from=2016-01-01" in export_link and "legal_status=" in export_link
    page2 = client.get(f"/patents/?{query}&page=2")
    assert len(listed_ids(page2)) == 2
    assert 'name="filed_from" value="2016-01-01"' in page2.get_data(as_text=True)


def test_institution_filter_for_cross_university_readers_only(client, auth, admin, pats):
    other = make_org("另一所示范大学")
    theirs = make_patent(other, legal_status="有效")
    regulator = make_user(Role.REGULATOR)
    auth.login(regulator)
    page = client.get(f"/patents/?institution={other.id}")
    assert listed_ids(page) == [theirs.id]
    assert 'name="institution"' in page.get_data(as_text=True)
    assert listed_ids(client.get(f"/patents/?institution={other.id}&legal_status=失效")) == []
    assert exported_appnos(client.get(f"/patents/export.csv?institution={other.id}")) == {
        theirs.application_no
    }
    auth.logout()
    auth.login(admin)  # one university's own list: no 单位 filter; another's id is refused
    assert client.get(f"/patents/?institution={other.id}").status_code == 403
    page = client.get(f"/patents/?institution={admin.organization_id}")
    assert sorted(listed_ids(page)) == sorted(p.id for p in pats.values())
    assert 'name="institution"' not in page.get_data(as_text=True)


def test_parse_filters_round_trips_through_to_args():
    args = {
        "legal_status": "有效",
        "implementation": "not_implemented",
        "filed_from": "2016-01-01",
        "filed_to": "2019-12-31",
        "granted_from": "2018-01-01",
        "granted_to": "2020-06-30",
        "institution": "7",
        "trl": "4",
    }
    f = queries.parse_filters(args)
    assert f.filed_from == date(2016, 1, 1) and f.institution == 7
    assert f.implementation == ImplementationStatus.NOT_IMPLEMENTED
    assert f.active
    assert queries.parse_filters(f.to_args()) == f
    assert f.to_args() == args
