"""The inventory list's measures for a million patents: a capped count for cross-university
readers ("N+ 条", paging through the first N), exact counts for a university's own list, and a
keyword search that is case-insensitive only where case exists."""

from __future__ import annotations

import re

import pytest

from revive.accounts.models import Role
from revive.inventory import queries
from revive.inventory.models import EntryStatus
from tests.factories import make_org, make_patent, make_user


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/patents/(\d+)"', html)]


@pytest.fixture
def five(app, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    monkeypatch.setitem(app.config, "REVIVE_PAGE_SIZE", 2)
    uni = make_org("甲大学")
    patents = [
        make_patent(uni, title=f"一种锂电池材料{i}", status=EntryStatus.DRAFT) for i in range(5)
    ]
    return uni, patents


def test_cross_university_list_caps_the_count_and_pages_through_the_cap(five, client, auth):
    _uni, patents = five
    auth.login(make_user(Role.OFFICER))
    html = client.get("/patents/").get_data(as_text=True)
    assert "共 3+ 条" in html
    assert "超过 3 条，仅可翻阅前 3 条" in html
    newest_first = [p.id for p in reversed(patents)]
    assert _ids(html)[:2] == newest_first[:2]
    # page 2 holds the third row; a deeper page is clamped to it
    assert _ids(client.get("/patents/?page=2").get_data(as_text=True))[:1] == [newest_first[2]]
    deep = client.get("/patents/?page=999").get_data(as_text=True)
    assert _ids(deep)[:1] == [newest_first[2]]


def test_count_under_the_cap_is_exact_and_unmarked(five, client, auth):
    auth.login(make_user(Role.REGULATOR))
    html = client.get("/patents/?q=锂电池材料1").get_data(as_text=True)
    assert "共 1 条" in html and "超过" not in html


def test_university_list_counts_exactly(five, client, auth):
    uni, _patents = five
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    html = client.get("/patents/").get_data(as_text=True)
    assert "共 5 条" in html and "+ 条" not in html


def test_capped_page_object_keeps_the_numbers(five):
    officer = make_user(Role.OFFICER)
    page = queries.list_page(officer, queries.ListFilters(), 2, cap=3)
    assert page.capped and page.total == 3 and str(page.total) == "3+" and page.pages == 2
    exact = queries.list_page(officer, queries.ListFilters(), 2)
    assert not exact.capped and exact.total == 5 and str(exact.total) == "5"


def test_keyword_search_ignores_case_of_latin_letters_and_matches_chinese(app):
    uni = make_org("乙大学")
    latin = make_patent(uni, title="基于LoRa的传感网络")
    make_patent(uni, title="一种电池")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni)
    for q in ("lora", "LORA", "LoRa"):
        page = queries.list_page(admin, queries.ListFilters(q=q), 50)
        assert [r.id for r in page.items] == [latin.id], q
    assert queries.list_page(admin, queries.ListFilters(q="传感"), 50).total == 1
    assert queries.list_page(admin, queries.ListFilters(q="电池"), 50).total == 1


def test_keyword_with_quotes_and_wildcards_is_matched_as_typed(app):
    uni = make_org("丙大学")
    quoted = make_patent(uni, title="O'Neil 型传感器")
    percent = make_patent(uni, title="含量50%_的合金")
    make_patent(uni, title="含量500的合金")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni)
    for q, expected in (("o'neil", quoted), ("'", quoted), ("50%_", percent), ("%_", percent)):
        page = queries.list_page(admin, queries.ListFilters(q=q), 50)
        assert [r.id for r in page.items] == [expected.id], q
        assert page.total == 1
    assert (
        queries.list_page(admin, queries.ListFilters(q="'; DROP TABLE patents; --"), 50).total == 0
    )
