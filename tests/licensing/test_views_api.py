"""Pages and JSON API: the form shows every violated rule beside its field and in a summary,
the public list filters, sorts and exports, the patent page panel, withdraw."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.models import EntryStatus, PatentType
from revive.licensing.models import DeclarationStatus, FeeMode, OpenLicenceDeclaration
from tests.factories import make_org, make_patent
from tests.licensing.helpers import make_declaration, valid_body
from tests.spreadsheets import formula_cells


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(OpenLicenceDeclaration.id)))


def _field_errors(page: str, key: str) -> str:
    """Text of the error block rendered beside the field ``key`` ('' when none)."""
    m = re.search(rf'<div id="{key}-error">(.*?)</div>', page, re.S)
    return html.unescape(m.group(1)) if m else ""


def _summary(page: str) -> list[str]:
    m = re.search(r'<div class="flash flash-error form-errors"[^>]*>(.*?)</div>', page, re.S)
    assert m, "no error summary"
    items = re.findall(r"<li[^>]*>(.*?)</li>", m.group(1), re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", i)) for i in items]


# ---------------------------------------------------------------------------- the form


def test_form_shows_patent_and_the_rules(world, client, auth):
    utility = make_patent(
        world.uni_a,
        college=world.college_a,
        status=EntryStatus.ENTERED,
        patent_type=PatentType.UTILITY,
        patentees="甲大学；乙公司",
    )
    auth.login(world.users[Role.COLLEGE_ADMIN])
    page = client.get(f"/open-licences/new?patent_id={utility.id}").get_data(as_text=True)
    assert utility.title in page
    assert "甲大学、乙公司（共有专利）" in page
    assert "实用新型专利必须提供专利权评价报告" in page
    assert 'name="csrf_token"' in page
    assert "form-errors" not in page and "patent-problems" not in page


def test_form_without_patent_id_is_not_found(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    assert client.get("/open-licences/new").status_code == 404


def test_form_warns_when_the_patent_cannot_be_declared(world, client, auth):
    d = make_declaration(world.own)
    draft = make_patent(world.uni_a, status=EntryStatus.DRAFT)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    page = client.get(f"/open-licences/new?patent_id={world.own.id}").get_data(as_text=True)
    assert "已有生效的开放许可声明" in page and f"/open-licences/{d.id}" in page
    page = client.get(f"/open-licences/new?patent_id={draft.id}").get_data(as_text=True)
    assert "只有已入库的专利可以声明开放许可（当前入库状态：草稿）" in page


def test_post_shows_every_violation_beside_its_field_and_writes_nothing(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    world.own.patentees = "甲大学；乙公司"
    db.session.commit()
    body = valid_body(
        fee_mode="royalty",
        royalty_sales_pct="20.5",
        royalty_profit_pct="41",
        start_date="2024-02-29",
        end_date="2025-02-26",
        pledged="1",
        exclusive_licence_in_force="1",
    )
    response = client.post(f"/open-licences/new?patent_id={world.own.id}", data=body)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    expected = {
        "lump_sum_wan": "不收一次性费用",
        "royalty": "只能择一填写",
        "royalty_sales_pct": "按净销售额提成一般不超过 20%（填写：20.5%）",
        "royalty_profit_pct": "按利润提成一般不超过 40%（填写：41%）",
        "end_date": "终止日不得早于 2025-02-27",
        "co_owners_consent": "须经全体共有人同意",
        "exclusive_licence_in_force": "独占或排他许可",
        "pledgee_consent": "质权人同意",
    }
    for key, text in expected.items():
        assert text in _field_errors(page, key), key
    summary = _summary(page)
    assert len(summary) == len(expected)
    for text in expected.values():
        assert any(text in line for line in summary), text
    assert _field_errors(page, "start_date") == ""
    assert 'value="20.5"' in page  # the typed values come back
    assert _count() == 0


def test_post_valid_declaration_redirects_to_it(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    body = valid_body(
        fee_mode="entry_plus_royalty",
        lump_sum_wan="",
        entry_fee_wan="8",
        royalty_sales_pct="3.5",
        co_owners_consent="1",
    )
    response = client.post(f"/open-licences/new?patent_id={world.own.id}", data=body)
    assert response.status_code == 302
    d = db.session.scalars(sa.select(OpenLicenceDeclaration)).one()
    assert response.headers["Location"].endswith(f"/open-licences/{d.id}")
    assert d.lump_sum_wan is None and d.entry_fee_wan == Decimal("8")
    page = client.get(f"/open-licences/{d.id}").get_data(as_text=True)
    assert "开放许可声明已发布" in page
    assert "入门费 8 万元 + 按净销售额的 3.5% 提成" in page
    assert "2025-01-01 至 2027-12-31" in page


# ---------------------------------------------------------------------------- detail & withdraw


@pytest.mark.parametrize(
    ("role", "button"),
    [
        (Role.UNIVERSITY_ADMIN, True),
        (Role.COLLEGE_ADMIN, True),
        (Role.PLATFORM_ADMIN, True),
        (Role.INVENTOR, False),
        (Role.ENTERPRISE, False),
        (Role.OFFICER, False),
    ],
)
def test_withdraw_button_only_for_the_patents_admins(role, button, world, client, auth):
    d = make_declaration(world.own)
    auth.login(world.users[role])
    page = client.get(f"/open-licences/{d.id}").get_data(as_text=True)
    assert "一次性付费 50 万元" in page
    assert (f"/open-licences/{d.id}/withdraw" in page) is button


def test_withdraw_page_flow(world, client, auth):
    d = make_declaration(world.own)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    response = client.post(
        f"/open-licences/{d.id}/withdraw", data={"version": d.version, "reason": "转为独占许可"}
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "开放许可声明已撤回" in page and 'id="withdrawn-at"' in page
    assert f"/open-licences/{d.id}/withdraw" not in page
    page = client.post(f"/open-licences/{d.id}/withdraw", follow_redirects=True).get_data(
        as_text=True
    )
    assert "该开放许可声明已撤回" in page


def test_withdraw_with_stale_version_says_so_and_keeps_it(world, client, auth):
    d = make_declaration(world.own)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    page = client.post(
        f"/open-licences/{d.id}/withdraw", data={"version": 7}, follow_redirects=True
    ).get_data(as_text=True)
    assert "已被他人修改" in page
    db.session.expire_all()
    assert db.session.get(OpenLicenceDeclaration, d.id).status == DeclarationStatus.ACTIVE


# ---------------------------------------------------------------------------- patent panel


def _panel(client, patent_id: int) -> str:
    page = client.get(f"/patents/{patent_id}").get_data(as_text=True)
    m = re.search(r'<section class="card" id="open-licence">(.*?)</section>', page, re.S)
    return m.group(1) if m else ""


def test_patent_panel_offers_the_declaration_to_the_admin(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    panel = _panel(client, world.own.id)
    assert f"/open-licences/new?patent_id={world.own.id}" in panel


def test_patent_panel_has_no_button_for_the_inventor(world, client, auth):
    auth.login(world.users[Role.INVENTOR])
    panel = _panel(client, world.own.id)
    assert "尚未声明开放许可" in panel and "/open-licences/new" not in panel


def test_patent_panel_on_a_patent_not_yet_entered(world, client, auth):
    draft = make_patent(world.uni_a, status=EntryStatus.DRAFT)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    panel = _panel(client, draft.id)
    assert "入库后可声明开放许可" in panel and "/open-licences/new" not in panel


def test_patent_panel_shows_the_active_declaration_and_the_withdrawn_ones(world, client, auth):
    make_declaration(
        world.own,
        status=DeclarationStatus.WITHDRAWN,
        start_date=date(2024, 1, 1),
        end_date=date(2025, 1, 1),
    )
    make_declaration(
        world.own,
        fee_mode=FeeMode.ROYALTY,
        lump_sum_wan=None,
        royalty_profit_pct=Decimal("12.50"),
    )
    auth.login(world.users[Role.OFFICER])
    panel = _panel(client, world.own.id)
    assert "按利润的 12.5% 提成" in panel
    assert "2025-01-01 至 2027-12-31" in panel
    assert "已撤回的声明" in panel and "2024-01-01 至 2025-01-01" in panel
    assert "/open-licences/new" not in panel


# ---------------------------------------------------------------------------- list & export


@pytest.fixture
def listed(world):
    """Three listed declarations with different fees, universities and industries."""
    uni_c = make_org("丙大学")
    cheap = make_declaration(world.own, lump_sum_wan=Decimal("5"))
    royalty = make_declaration(
        world.other, fee_mode=FeeMode.ROYALTY, lump_sum_wan=None, royalty_sales_pct=Decimal("3")
    )
    dear = make_declaration(
        make_patent(
            uni_c,
            status=EntryStatus.ENTERED,
            title='=HYPERLINK("http://x")丙校专利',
            industry_code="C39 计算机、通信和其他电子设备制造业",
        ),
        fee_mode=FeeMode.ENTRY_PLUS_ROYALTY,
        lump_sum_wan=None,
        entry_fee_wan=Decimal("300"),
        royalty_profit_pct=Decimal("10"),
    )
    return {"cheap": cheap, "royalty": royalty, "dear": dear, "uni_c": uni_c}


def _ids(client, query: str = "") -> list[int]:
    return [i["id"] for i in client.get(f"/api/v1/open-licences{query}").get_json()["items"]]


def test_list_filters(world, listed, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    assert _ids(client, "?fee_mode=royalty") == [listed["royalty"].id]
    assert _ids(client, "?fee_mode=一次性付费") == [listed["cheap"].id]
    assert _ids(client, f"?university={world.uni_b.id}") == [listed["royalty"].id]
    assert _ids(client, "?industry=C39") == [listed["dear"].id]
    assert _ids(client, "?q=甲校") == [listed["cheap"].id]
    page = client.get("/open-licences?fee_mode=royalty").get_data(as_text=True)
    assert "乙校入库专利" in page and "甲校入库专利" not in page
    assert "丙大学" in page  # the university filter offers universities with listings


def test_list_sorts_by_fixed_fee(world, listed, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    cheap, royalty, dear = (listed[k].id for k in ("royalty", "cheap", "dear"))
    assert _ids(client, "?sort=fee_asc") == [cheap, royalty, dear]
    assert _ids(client, "?sort=fee_desc") == [dear, royalty, cheap]
    page = client.get("/open-licences?sort=fee_desc").get_data(as_text=True)
    assert page.index("丙校专利") < page.index("甲校入库专利") < page.index("乙校入库专利")


def test_list_paginates(world, listed, client, auth):
    auth.login(world.users[Role.OFFICER])
    body = client.get("/api/v1/open-licences?per_page=2&page=2&sort=fee_asc").get_json()
    assert body["_meta"] == {"page": 2, "per_page": 2, "total_pages": 2, "total_items": 3}
    assert [i["id"] for i in body["items"]] == [listed["dear"].id]


def test_export_is_the_filtered_list_with_formulas_neutralised(world, listed, client, auth):
    auth.login(world.users[Role.ENTERPRISE])
    response = client.get("/open-licences/export.xlsx?sort=fee_desc")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("声明编号", "申请号", "专利名称")
    assert [r[0] for r in rows[1:]] == [listed[k].id for k in ("dear", "cheap", "royalty")]
    assert rows[1][2].startswith("=HYPERLINK")  # as written, in a text cell
    assert formula_cells(response.data) == []  # never evaluated
    assert rows[1][8] == "入门费 300 万元 + 按利润的 10% 提成"
    response = client.get("/open-licences/export.xlsx?fee_mode=royalty")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == [listed["royalty"].id]


# ---------------------------------------------------------------------------- JSON API


def test_api_declare_422_lists_every_violation_and_writes_nothing(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    body = {
        "patent_id": world.own.id,
        **valid_body(
            lump_sum_wan=2000.01, end_date="2025-12-30", in_fee_grace_period=True, pledged=True
        ),
    }
    response = client.post("/api/v1/open-licences", json=body)
    assert response.status_code == 422
    data = response.get_json()
    assert data["error"] == "validation_failed"
    assert set(data["details"]) == {
        "lump_sum_wan",
        "end_date",
        "in_fee_grace_period",
        "pledgee_consent",
    }
    assert "2000" in data["details"]["lump_sum_wan"]
    assert _count() == 0


def test_api_declare_joins_messages_of_one_field(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    draft = make_patent(world.uni_a, status=EntryStatus.DRAFT, legal_status="失效")
    body = {"patent_id": draft.id, **valid_body()}
    details = client.post("/api/v1/open-licences", json=body).get_json()["details"]
    assert details == {
        "patent": "只有已入库的专利可以声明开放许可（当前入库状态：草稿）；"
        "专利法律状态为「失效」，只有有效专利可以声明开放许可"
    }


def test_api_declare_creates_and_get_returns_it(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    body = {
        "patent_id": world.own.id,
        **valid_body(
            fee_mode="royalty",
            lump_sum_wan=None,
            royalty_profit_pct=40,
            start_date="2024-02-29",
            end_date="2025-02-28",
            terms="每年结算一次",
        ),
    }
    response = client.post("/api/v1/open-licences", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["fee_mode"] == "royalty" and created["fee_mode_label"] == "提成"
    assert created["royalty_profit_pct"] == "40" and created["lump_sum_wan"] is None
    assert created["status"] == "active" and created["is_listed"] is True
    assert created["can_withdraw"] is True
    assert created["patent"]["id"] == world.own.id
    auth.logout()
    auth.login(world.users[Role.ENTERPRISE])
    got = client.get(f"/api/v1/open-licences/{created['id']}").get_json()
    assert got["fee_summary"] == "按利润的 40% 提成"
    assert got["can_withdraw"] is False and got["can_view_patent"] is False


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"fee_mode": "lump_sum", "surprise": 1}, "surprise"),
        ({"fee_mode": "lump_sum"}, "patent_id"),
    ],
)
def test_api_declare_rejects_unknown_fields_and_a_missing_patent(world, client, auth, body, key):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    response = client.post("/api/v1/open-licences", json=body)
    assert response.status_code == 422
    assert key in response.get_json()["details"]


def test_api_withdraw(world, client, auth):
    d = make_declaration(world.own)
    auth.login(world.users[Role.COLLEGE_ADMIN])
    stale = client.post(f"/api/v1/open-licences/{d.id}/withdraw", json={"version": 5})
    assert stale.status_code == 409 and stale.get_json()["error"] == "conflict"
    response = client.post(
        f"/api/v1/open-licences/{d.id}/withdraw", json={"version": d.version, "reason": "停止"}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "withdrawn" and body["withdrawn_at"]
    assert body["is_listed"] is False and body["can_withdraw"] is False
    again = client.post(f"/api/v1/open-licences/{d.id}/withdraw")
    assert again.status_code == 409 and again.get_json()["error"] == "invalid_transition"


def test_api_declare_names_a_null_patent(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    response = client.post("/api/v1/open-licences", json={"patent_id": None, **valid_body()})
    assert response.status_code == 422
    assert response.get_json()["details"] == {"patent_id": "请指定专利"}
    assert _count() == 0
