"""The audit log as people read it: labelled values (no codes), objects named and linked where
the viewer may open them, filters by object / person / action / local date, pagination, and
streamed CSV / XLSX exports that neutralise formulas. Bad input is ignored, never a 500."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from revive import clock
from revive.accounts.models import OrgKind, Role
from revive.audit.models import AuditEvent
from revive.deals import services as deal_services
from revive.extensions import db
from revive.inventory import services as inventory_services
from revive.inventory.models import EntryStatus
from tests.deals.helpers import make_deal
from tests.factories import make_college, make_org, make_patent, make_user
from tests.phone_cards import assert_cards_on_phone

MOMENT = datetime(2025, 3, 1, 17, 30, tzinfo=UTC)  # 2025-03-02 01:30 in Beijing


@pytest.fixture
def w(app):
    uni = make_org("甲大学")
    college = make_college(uni, "材料学院")
    ent = make_org("丙科技有限公司", kind=OrgKind.ENTERPRISE)
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni, name="王管理")
    officer = make_user(Role.OFFICER, name="李经理")
    patent = make_patent(
        uni, college=college, status=EntryStatus.PENDING_SCHOOL, title="一种污水脱氮工艺"
    )
    with clock.held_at(MOMENT):
        inventory_services.perform_action(
            patent.id, "school_return", actor=admin, comment="=请补充中试数据"
        )
    deal = make_deal(university=uni, enterprise=ent, officer=officer, title="需要一种脱氮技术")
    deal_services.respond(deal.id, "interested", make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    return {
        "uni": uni,
        "ent": ent,
        "admin": admin,
        "officer": officer,
        "patent": patent,
        "deal": deal,
    }


def _page(client, query: str = "") -> str:
    resp = client.get(f"/audit/{query}")
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_an_event_reads_in_chinese_with_its_object_named_and_linked(w, client, auth):
    auth.login(w["admin"])
    p = w["patent"]
    page = _page(client, f"?entity=patent&entity_id={p.id}&action=school_return")
    for text in ("原状态", "待学校审核", "新状态", "退回", "意见 / 备注", "请补充中试数据"):
        assert text in page
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    for code in ("from_status", "pending_school", "to_status", "returned", "school_return"):
        assert code not in table
    assert f'href="/patents/{p.id}"' in page
    assert f"{p.application_no}《一种污水脱氮工艺》" in page
    assert "2025-03-02 01:30" in page  # Beijing time, not 2025-03-01 17:30 UTC
    assert f"专利 #{p.id}" in page and "王管理" in page
    # On a phone a card per event, headed by its object (a design review: at 375 px the
    # object's name wrapped every five characters and the details were out of view)
    (row,) = assert_cards_on_phone(page, "audit-log").rows
    assert "一种污水脱氮工艺" in next(c for c in row if "card-head" in c.classes).text


def test_a_deal_is_named_by_its_demand_and_patent_and_linked_for_who_may_open_it(w, client, auth):
    deal = w["deal"]
    auth.login(w["admin"])
    page = _page(client, f"?entity=deal&entity_id={deal.id}")
    assert f"“需要一种脱氮技术” ↔ 《{deal.patent.title}》" in page
    assert f'href="/deals/{deal.id}"' in page
    assert "答复" in page and "愿意对接" in page and "逾期答复" not in page
    auth.logout()
    # The regulator reads every event and every deal page (deals.permissions): linked too.
    auth.login(make_user(Role.REGULATOR))
    page = _page(client, f"?entity=deal&entity_id={deal.id}")
    assert f"“需要一种脱氮技术” ↔ 《{deal.patent.title}》" in page
    assert f'href="/deals/{deal.id}"' in page


def test_an_object_the_viewer_may_not_open_is_named_without_a_link(w, client, auth):
    deal = w["deal"]
    auth.login(make_user(Role.ENTERPRISE, organization=w["ent"]))
    page = _page(client, f"?entity=deal&entity_id={deal.id}")
    assert f"《{deal.patent.title}》" in page
    assert f'href="/patents/{deal.patent_id}"' not in page  # enterprises see no inventory
    assert f'href="/deals/{deal.id}"' in page  # but their own deal


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("?q=污水脱氮", "patent", "deal"),
        ("?q=CN{appno}", "patent", "deal"),
        ("?q=脱氮技术", "deal", "patent"),
        ("?person=王管理", "patent", "deal"),
        ("?action=respond", "deal", "patent"),
        ("?date_from=2025-03-02&date_to=2025-03-02", "patent", "deal"),
    ],
)
def test_filters(w, client, auth, query, shown, hidden):
    auth.login(make_user(Role.PLATFORM_ADMIN))
    ids = {"patent": w["patent"].id, "deal": w["deal"].id}
    labels = {"patent": "专利", "deal": "对接"}
    page = _page(client, query.format(appno=w["patent"].application_no))
    assert f"{labels[shown]} #{ids[shown]}" in page
    assert f"{labels[hidden]} #{ids[hidden]}" not in page


def test_the_date_range_counts_local_days(w, client, auth):
    auth.login(make_user(Role.PLATFORM_ADMIN))
    # 17:30 UTC on 1 March is 01:30 on 2 March in Beijing: not on the 1st.
    page = _page(client, "?entity=patent&date_from=2025-03-01&date_to=2025-03-01")
    assert "没有符合条件的记录" in page


def test_a_persons_name_filters_by_the_actor(w, client, auth):
    auth.login(make_user(Role.PLATFORM_ADMIN))
    page = _page(client, f"?actor={w['admin'].id}")
    assert "只看 <strong>王管理</strong> 的操作" in page
    assert f"专利 #{w['patent'].id}" in page and f"对接 #{w['deal'].id}" not in page
    assert f'href="/audit/?actor={w["officer"].id}"' not in page


def test_pages_of_events(w, client, auth, app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_PAGE_SIZE", 2)
    auth.login(make_user(Role.PLATFORM_ADMIN))
    total = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    assert total > 2
    first, second = _page(client, "?page=1"), _page(client, "?page=2")
    assert f"共 {total} 条记录" in first and 'rel="next"' in first
    ids = lambda page: {line for line in page.split('data-event-id="')[1:]}  # noqa: E731
    assert ids(first).isdisjoint(ids(second))


@pytest.mark.parametrize(
    "query",
    [
        "?entity_id=abc&page=-3",
        "?date_from=2025-13-45&date_to=yesterday",
        "?actor=%F0%9F%98%80&person=" + "甲" * 500,
        "?q=%25_%5C&entity=nope&action=" + "x" * 300,
        "?date_from=2025-03-05&date_to=2025-03-01",
        "?page=99999999999999999999",
    ],
)
def test_bad_input_is_ignored_never_an_error(w, client, auth, query):
    auth.login(make_user(Role.PLATFORM_ADMIN))
    assert client.get(f"/audit/{query}").status_code == 200
    assert client.get(f"/audit/export.csv{query}").status_code == 200


def test_csv_export_is_labelled_named_local_and_formula_safe(w, client, auth):
    auth.login(make_user(Role.REGULATOR))
    resp = client.get(f"/audit/export.csv?entity=patent&entity_id={w['patent'].id}")
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "编号",
        "时间（北京时间）",
        "对象",
        "对象编号",
        "操作",
        "操作人",
        "对象名称",
        "所属机构",
        "详情",
    ]
    (row,) = [r for r in rows[1:] if r[4] == "学校退回"]
    assert row[1] == "2025-03-02 01:30:00"
    assert row[2:4] == ["专利", str(w["patent"].id)] and row[5] == "王管理"
    assert row[6] == f"{w['patent'].application_no}《一种污水脱氮工艺》" and row[7] == "甲大学"
    assert row[8] == "原状态：待学校审核；新状态：退回；意见 / 备注：=请补充中试数据"
    assert not row[8].startswith("=")


def test_xlsx_export_streams_the_same_rows(w, client, auth):
    auth.login(make_user(Role.REGULATOR))
    resp = client.get(f"/audit/export.xlsx?entity=deal&entity_id={w['deal'].id}")
    assert resp.status_code == 200 and resp.is_streamed
    rows = list(load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True))
    actions = [r[4] for r in rows[1:]]
    assert actions == ["推送对接", "高校答复"]
    assert "答复：愿意对接" in rows[2][8]
