"""Inventory list page through HTTP: filters, sorting, pagination, search, escaping, scope."""

from __future__ import annotations

import re

import pytest

from revive.accounts.models import Role
from revive.inventory.models import EntryStatus, PatentType, Willingness
from tests.factories import make_college, make_org, make_patent, make_user
from tests.phone_cards import assert_cards_on_phone


def listed_ids(resp) -> list[int]:
    assert resp.status_code == 200
    return [int(x) for x in re.findall(r'data-patent-id="(\d+)"', resp.get_data(as_text=True))]


@pytest.fixture
def admin(app):
    return make_user(Role.UNIVERSITY_ADMIN)


@pytest.fixture
def catalog(admin):
    """Six patents of one university that differ in exactly one filtered property each."""
    org = admin.organization
    chem, phys = make_college(org, "化学学院"), make_college(org, "物理学院")
    return {
        "base": make_patent(org, college=chem, title="基准专利"),
        "college": make_patent(org, college=phys, title="物理学院的专利"),
        "status": make_patent(
            org,
            college=chem,
            status=EntryStatus.ENTERED,
            title="已入库专利",
            trl=3,
            value_grade=2,
            transfer_willingness=Willingness.CONDITIONAL,
        ),
        "grade_trl": make_patent(org, college=chem, title="高分专利", value_grade=5, trl=8),
        "willingness": make_patent(
            org, college=chem, title="暂不转化专利", transfer_willingness=Willingness.NOT_NOW
        ),
        "type": make_patent(
            org,
            college=chem,
            title="实用新型专利",
            patent_type=PatentType.UTILITY,
            abstract="一种夹具，结构简单，便于拆装。",
        ),
        "colleges": (chem, phys),
    }


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (lambda c: {"college": c["colleges"][1].id}, {"college"}),
        (lambda c: {"status": "entered"}, {"status"}),
        (lambda c: {"grade": "5"}, {"grade_trl"}),
        (lambda c: {"trl": "8"}, {"grade_trl"}),
        (lambda c: {"willingness": "not_now"}, {"willingness"}),
        (lambda c: {"patent_type": "utility"}, {"type"}),
        (lambda c: {"q": "夹具"}, {"type"}),  # found in the abstract, not the title
        (lambda c: {"q": "高分"}, {"grade_trl"}),
        (lambda c: {"grade": "5", "status": "entered"}, set()),
    ],
    ids=[
        "college",
        "status",
        "grade",
        "trl",
        "willingness",
        "type",
        "q-abstract",
        "q-title",
        "combined",
    ],
)
def test_each_filter_narrows_the_list(client, auth, admin, catalog, args, expected):
    auth.login(admin)
    ids = listed_ids(client.get("/patents/", query_string=args(catalog)))
    assert set(ids) == {catalog[k].id for k in expected}


def test_unfiltered_list_shows_all_and_bad_filter_values_are_ignored(client, auth, admin, catalog):
    auth.login(admin)
    everything = {p.id for k, p in catalog.items() if k != "colleges"}
    assert set(listed_ids(client.get("/patents/"))) == everything
    resp = client.get("/patents/?status=bogus&grade=9&trl=x&sort=drop+table&page=-1")
    assert set(listed_ids(resp)) == everything


def test_none_filter_finds_unassessed_patents(client, auth, admin, catalog):
    auth.login(admin)
    ids = set(listed_ids(client.get("/patents/?grade=none")))
    assert ids == {catalog[k].id for k in ("base", "college", "willingness", "type")}


def test_sorting_by_title_and_grade_both_directions(client, auth, admin):
    auth.login(admin)
    org = admin.organization
    b = make_patent(org, title="B 专利", value_grade=2)
    a = make_patent(org, title="A 专利", value_grade=5)
    c = make_patent(org, title="C 专利", value_grade=None)
    assert listed_ids(client.get("/patents/?sort=title&dir=asc")) == [a.id, b.id, c.id]
    assert listed_ids(client.get("/patents/?sort=title&dir=desc")) == [c.id, b.id, a.id]
    # ungraded patents go last in both directions
    assert listed_ids(client.get("/patents/?sort=grade&dir=desc")) == [a.id, b.id, c.id]
    assert listed_ids(client.get("/patents/?sort=grade&dir=asc")) == [b.id, a.id, c.id]
    # default: most recently updated first
    assert listed_ids(client.get("/patents/")) == [c.id, a.id, b.id]


def test_pagination_keeps_filters_and_covers_every_row_once(app, client, auth, admin, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_PAGE_SIZE", 2)
    auth.login(admin)
    made = [make_patent(admin.organization, trl=4, title=f"分页专利{i}") for i in range(5)]
    make_patent(admin.organization, trl=1)  # filtered out
    seen = []
    for page in (1, 2, 3):
        resp = client.get(f"/patents/?trl=4&sort=title&dir=asc&page={page}")
        ids = listed_ids(resp)
        seen += ids
        assert len(ids) == (2 if page < 3 else 1)
    assert seen == [p.id for p in made]
    html = client.get("/patents/?trl=4&page=2").get_data(as_text=True)
    assert "共 5 条" in html
    assert re.search(r'href="/patents/\?[^"]*trl=4[^"]*page=3"', html)  # links keep the filter
    # a page past the end shows the last page instead of an empty table
    assert listed_ids(client.get("/patents/?trl=4&sort=title&dir=asc&page=99")) == [made[4].id]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("%", "percent"),
        ("_", "underscore"),
        ("100%", "percent"),
        ("a_b", "underscore"),
        ("\\", "backslash"),
    ],
)
def test_search_treats_like_wildcards_literally(client, auth, admin, query, expected):
    auth.login(admin)
    org = admin.organization
    patents = {
        "percent": make_patent(org, title="纯度 100% 的石墨烯"),
        "underscore": make_patent(org, title="a_b 型接头"),
        "backslash": make_patent(org, title="路径 C:\\data 的处理"),
        "plain": make_patent(org, title="aXb 型接头 100 件"),
    }
    assert listed_ids(client.get("/patents/", query_string={"q": query})) == [patents[expected].id]


def test_titles_are_escaped_in_the_list(client, auth, admin):
    auth.login(admin)
    make_patent(admin.organization, title="<script>alert(1)</script>")
    html = client.get("/patents/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_college_admin_sees_only_their_college_and_inventor_only_their_patents(client, auth):
    org = make_org()
    mine, theirs = make_college(org), make_college(org)
    college_admin = make_user(Role.COLLEGE_ADMIN, college=mine)
    inventor = make_user(Role.INVENTOR, organization=org)
    p_mine = make_patent(org, college=mine)
    p_theirs = make_patent(org, college=theirs, inventors=[inventor])
    make_patent(make_org())
    auth.login(college_admin)
    assert listed_ids(client.get("/patents/")) == [p_mine.id]
    # filtering by another college cannot widen the scope
    assert listed_ids(client.get(f"/patents/?college={theirs.id}")) == []
    auth.logout()
    auth.login(inventor)
    assert listed_ids(client.get("/patents/")) == [p_theirs.id]


def test_enterprise_users_get_403(client, auth):
    auth.login(make_user(Role.ENTERPRISE))
    assert client.get("/patents/").status_code == 403


@pytest.mark.parametrize(
    "typed",
    ["202110600370.9", "CN202110600370.9", "ZL 2021106003709", "202110600370", "2021106003"],
)
def test_the_list_finds_a_patent_by_its_application_number(client, auth, admin, typed):
    """A tester typed 202110600370.9 into the search and got 共 0 条: staff look patents up by
    number first."""
    inst = admin.organization
    wanted = make_patent(inst, application_no="202110600370.9", title="钛合金粉末冶金方法")
    make_patent(inst, application_no="202210600371.1", title="另一件专利")
    auth.login(admin)
    assert listed_ids(client.get("/patents/", query_string={"q": typed})) == [wanted.id]


def test_an_admin_submits_many_drafts_at_once_from_the_list(client, auth, admin):
    """A tester imported 197 drafts and had to open each to press 提交审核."""
    import sqlalchemy as sa

    from revive.extensions import db
    from revive.inventory.models import Patent

    org = admin.organization
    college = make_college(org, "机械学院")
    drafts = [make_patent(org, college=college, title=f"草稿{i}") for i in range(3)]
    no_college = make_patent(org, title="未分学院的草稿")
    entered = make_patent(org, college=college, status=EntryStatus.ENTERED, title="已入库")
    auth.login(admin)
    page = client.get("/patents/").get_data(as_text=True)
    assert 'id="submit-bar"' in page
    ticked = [str(drafts[0].id), str(entered.id)]
    resp = client.post("/patents/submit", data={"scope": "ids", "ids": ticked})
    assert resp.status_code == 302
    db.session.expire_all()
    status = dict(db.session.execute(sa.select(Patent.id, Patent.status)).all())
    assert status[drafts[0].id] == EntryStatus.PENDING_COLLEGE
    assert status[entered.id] == EntryStatus.ENTERED  # refused, with its reason
    flashed = client.get("/patents/").get_data(as_text=True)
    assert "已提交审核 1 件：" in flashed and "；1 件未处理" in flashed
    assert f"{entered.application_no}「已入库」" in flashed and f"#{entered.id}" not in flashed
    # every draft the filter shows, entered ones left alone and not reported
    resp = client.post("/patents/submit", data={"scope": "filter"})
    db.session.expire_all()
    status = dict(db.session.execute(sa.select(Patent.id, Patent.status)).all())
    assert {status[d.id] for d in drafts} == {EntryStatus.PENDING_COLLEGE}
    assert status[no_college.id] == EntryStatus.PENDING_SCHOOL  # no college: the school's
    assert "已提交审核 3 件" in client.get("/patents/").get_data(as_text=True)


def test_submitting_the_whole_filter_is_not_held_to_the_ticked_rows_cap(
    client, auth, admin, monkeypatch
):
    """A tester's 598 drafts were refused with 「一次最多处理 500 条」 beside the help text's
    「一次最多 5000 条」: the filter's own list is bounded by MAX_FILTERED_IDS, not by the cap
    on rows a request sends (here both made small)."""
    from revive.inventory import services, views

    monkeypatch.setattr(services, "MAX_SELECTION", 2)
    monkeypatch.setattr(views, "MAX_SELECTION", 2)
    drafts = [make_patent(admin.organization, title=f"草稿{i}") for i in range(3)]
    auth.login(admin)
    ticked = [str(d.id) for d in drafts]
    client.post("/patents/submit", data={"scope": "ids", "ids": ticked})
    assert "一次最多处理 2 条" in client.get("/patents/").get_data(as_text=True)
    client.post("/patents/submit", data={"scope": "filter"})
    assert "已提交审核 3 件" in client.get("/patents/").get_data(as_text=True)


def test_an_inventor_has_no_batch_submit(client, auth):
    inventor = make_user(Role.INVENTOR)
    auth.login(inventor)
    assert 'id="submit-bar"' not in client.get("/patents/").get_data(as_text=True)
    assert client.post("/patents/submit", data={"scope": "filter"}).status_code == 403


def test_the_list_and_the_review_queue_read_as_cards_on_a_phone(client, auth, admin, catalog):
    """A design review at 375 px: titles wrapped every four characters and the status was
    scrolled out of view. Each patent is a card: its title at the top, every field named, the
    check box at its top right."""
    for n in range(2):
        make_patent(admin.organization, status=EntryStatus.PENDING_SCHOOL, title=f"待审专利{n}")
    auth.login(admin)
    page = client.get("/patents/").get_data(as_text=True)
    listed = assert_cards_on_phone(page, "patent-list")
    first = listed.rows[0]
    assert [c.label for c in first if c.label][:4] == ["申请号", "类型", "学院", "入库状态"]
    assert "card-check" in first[0].classes  # the batch-submit tick
    queue_page = client.get("/patents/review").get_data(as_text=True)
    queue = assert_cards_on_phone(queue_page, "review-list")
    assert len(queue.rows) == 2 and "状态" in {c.label for c in queue.rows[0]}
