"""Pages and JSON API: the patent panel, the evaluation form, the to-do list, calibration
figures and the promotion list with its export."""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.evaluations.models import CooperationIntent, Evaluation
from revive.extensions import db
from revive.inventory.models import EntryStatus, ImplementationStatus, Patent, Willingness
from tests.deals.helpers import sign
from tests.evaluations.helpers import (
    entered,
    make_deal,
    make_enterprise,
    make_evaluation,
    make_invite,
)
from tests.factories import make_patent
from tests.phone_cards import assert_cards_on_phone, read_table
from tests.spreadsheets import formula_cells

LICENSE, NONE = CooperationIntent.LICENSE, CooperationIntent.NONE


def _rows(data: bytes, sheet: str | None = None) -> list[tuple]:
    book = load_workbook(io.BytesIO(data), read_only=True)
    ws = book[sheet] if sheet else book.worksheets[0]
    return [tuple(r) for r in ws.iter_rows(values_only=True)]


# ---------------------------------------------------------------------------- patent panel


def test_patent_page_shows_self_rating_beside_named_evaluations(world, client, auth):
    world.own.value_grade = 5
    db.session.commit()
    make_evaluation(world.own, world.ent_a, stars=5, intent=LICENSE, needs="需要提高产率")
    make_evaluation(world.own, world.ent_b, stars=3, intent=NONE)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    html = client.get(f"/patents/{world.own.id}").get_data(as_text=True)
    assert 'id="evaluations"' in html
    assert "data-double-five" in html
    # good news, not an alarm: 双五星 was a red badge (UX review r-promo-m.p2)
    assert '<span class="badge double-five" data-double-five' in html
    assert "甲科技有限公司" in html and "乙制造有限公司" in html
    assert "需要提高产率" in html
    assert "4.0" in html  # the enterprise average beside the self-rating
    assert 'data-tier="A"' in html  # 双五星 at TRL 5
    assert 'id="invite-form"' in html


def test_inventor_sees_evaluations_but_cannot_invite(world, client, auth):
    make_evaluation(world.own, world.ent_a, stars=4)
    auth.login(world.users[Role.INVENTOR])
    html = client.get(f"/patents/{world.own.id}").get_data(as_text=True)
    assert "甲科技有限公司" in html
    assert 'id="invite-form"' not in html
    assert "data-double-five" not in html


def test_panel_invite_form_posts_and_lists_the_invitation(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    response = client.post(
        f"/evaluations/patents/{world.own.id}/invites", data={"enterprise_name": "乙制造"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/patents/{world.own.id}#evaluations")
    html = client.get(f"/patents/{world.own.id}").get_data(as_text=True)
    assert "已邀请" in html and "乙制造有限公司（待评价）" in html
    bad = client.post(
        f"/evaluations/patents/{world.own.id}/invites",
        data={"enterprise_name": "不存在"},
        follow_redirects=True,
    )
    assert "未找到" in bad.get_data(as_text=True)


def test_api_panel_members_depend_on_the_viewer(world, client, auth):
    """The panel's schema leaves out what a viewer may not see: an enterprise gets no
    self-assessment, 双五星, tier or invitations, and no summary before it has evaluated."""
    world.own.value_grade = 5
    db.session.commit()
    make_invite(world.own, world.ent_a)
    make_evaluation(world.own, world.ent_b, stars=5, needs="乙的意见")
    url = f"/api/v1/evaluations/patents/{world.own.id}"
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    staff = client.get(url).get_json()
    assert staff["names_visible"] is True and staff["own"] is None
    assert staff["summary"] == {"count": 1, "avg_stars": 5.0, "max_stars": 5, "interested": 1}
    assert staff["self_assessment"]["value_grade"] == 5 and staff["double_five"] is True
    assert staff["tier"]["tier"] == "A"
    assert [i["enterprise"] for i in staff["invites"]] == ["甲科技有限公司"]
    assert staff["evaluations"][0]["enterprise"] == "乙制造有限公司"
    auth.logout()

    auth.login(world.users[Role.ENTERPRISE])
    before = client.get(url).get_json()
    assert before["names_visible"] is False and before["evaluations"] == []
    hidden = {"summary", "self_assessment", "double_five", "tier", "invites"}
    assert not hidden & set(before)
    created = client.post(url, json={"prospect_stars": 4, "intent": "许可"})
    assert created.status_code == 201 and created.get_json()["intent_label"] == "许可"
    updated = client.post(
        url, json={"prospect_stars": 3, "intent": "none", "version": created.get_json()["version"]}
    )
    assert updated.status_code == 200 and updated.get_json()["prospect_stars"] == 3
    after = client.get(url).get_json()
    assert after["summary"]["count"] == 2 and after["own"]["prospect_stars"] == 3
    assert {e["enterprise"] for e in after["evaluations"]} == {"本企业", "企业A"}
    assert not {"self_assessment", "double_five", "tier", "invites"} & set(after)


def test_api_invite_is_201_then_200(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    url = f"/api/v1/evaluations/patents/{world.own.id}/invites"
    first = client.post(url, json={"enterprise_name": "乙制造"})
    assert first.status_code == 201
    body = first.get_json()
    assert body["created"] is True and body["enterprise"] == "乙制造有限公司"
    assert body["enterprise_id"] == world.ent_b.id and body["invited_at"]
    again = client.post(url, json={"enterprise_id": world.ent_b.id})
    assert again.status_code == 200
    assert again.get_json()["created"] is False and again.get_json()["id"] == body["id"]
    wrong = client.post(url, json={"enterprise_id": "甲"})
    assert wrong.status_code == 422 and wrong.get_json()["details"] == {"enterprise_id": "须为整数"}


# ---------------------------------------------------------------------------- evaluation form


def test_enterprise_evaluates_through_the_form_and_updates(world, client, auth):
    make_deal(world.own, world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    url = f"/evaluations/patents/{world.own.id}/evaluate"
    page = client.get(url).get_data(as_text=True)
    assert "甲校入库专利" in page and 'id="evaluation-form"' in page
    assert 'name="version"' not in page
    response = client.post(
        url, data={"prospect_stars": "4", "intent": "license", "improvement_needs": "耐久性"}
    )
    assert response.status_code == 302
    evaluation = db.session.scalar(sa.select(Evaluation))
    page = client.get(url).get_data(as_text=True)
    assert f'name="version" value="{evaluation.version}"' in page
    assert "更新评价" in page
    client.post(
        url, data={"prospect_stars": "2", "intent": "none", "version": str(evaluation.version)}
    )
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Evaluation)).all()
    assert [(e.prospect_stars, e.intent, e.improvement_needs) for e in rows] == [(2, NONE, None)]


def test_form_errors_rerender_with_the_answers(world, client, auth):
    make_invite(world.own, world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    url = f"/evaluations/patents/{world.own.id}/evaluate"
    response = client.post(url, data={"intent": "license", "improvement_needs": "保留这段"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请为产业化前景选择 1–5 星" in html and "保留这段" in html
    client.post(url, data={"prospect_stars": "3", "intent": "none"})
    stale = client.post(url, data={"prospect_stars": "5", "intent": "none", "version": "99"})
    assert stale.status_code == 409
    assert "已被同事修改" in stale.get_data(as_text=True)
    assert db.session.scalar(sa.select(Evaluation.prospect_stars)) == 3


def test_enterprise_sees_no_self_rating_and_anonymised_others(world, client, auth):
    world.own.value_grade = 5
    db.session.commit()
    make_invite(world.own, world.ent_a)
    make_evaluation(world.own, world.ent_b, stars=1, needs="乙的秘密意见")
    auth.login(world.users[Role.ENTERPRISE])
    url = f"/evaluations/patents/{world.own.id}/evaluate"
    before = client.get(url).get_data(as_text=True)
    assert "乙的秘密意见" not in before and "价值分级自评" not in before
    client.post(url, data={"prospect_stars": "4", "intent": "license"})
    after = client.get(url).get_data(as_text=True)
    assert "乙的秘密意见" in after and "企业A" in after and "本企业" in after
    assert "乙制造有限公司" not in after


def test_withdrawn_patent_shows_why_it_cannot_be_evaluated(world, client, auth):
    pending = make_patent(world.uni_a, status=EntryStatus.PENDING_SCHOOL, title="待审专利")
    make_deal(pending, world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    page = client.get(f"/evaluations/patents/{pending.id}/evaluate")
    assert page.status_code == 200
    assert 'id="not-evaluable"' in page.get_data(as_text=True)
    post = client.post(
        f"/evaluations/patents/{pending.id}/evaluate",
        data={"prospect_stars": "4", "intent": "license"},
    )
    assert post.status_code == 409


def _price_shown(html: str) -> str:
    found = re.search(r"意向价格</dt><dd[^>]*>(.*?)</dd>", html)
    assert found, "the form shows an 意向价格 line"
    return found.group(1)


@pytest.mark.parametrize("public", [None, False])
def test_evaluate_page_hides_a_price_the_university_did_not_make_public(
    world, client, auth, public
):
    """A security review read 意向价格 65.00 万元 on the evaluation form of a patent whose
    price the university had not made public (the pool page said 面议)."""
    world.own.asking_price, world.own.price_public = Decimal("6543.21"), public
    db.session.commit()
    make_invite(world.own, world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/evaluations/patents/{world.own.id}/evaluate").get_data(as_text=True)
    assert _price_shown(html) == "面议"
    assert "6543.21" not in html and "6,543.21" not in html
    pool = client.get(f"/pool/patents/{world.own.id}").get_data(as_text=True)
    assert "面议" in pool and "6543.21" not in pool  # the same rule as the pool's page
    world.own.price_public = True
    db.session.commit()
    html = client.get(f"/evaluations/patents/{world.own.id}/evaluate").get_data(as_text=True)
    assert _price_shown(html) == "6543.21 万元"


def _transferred(patent: Patent) -> None:
    patent.implementation_status = ImplementationStatus.TRANSFERRED


def _lapsed(patent: Patent) -> None:
    patent.legal_status = "未缴年费终止"


def _withdrawn(patent: Patent) -> None:
    patent.status = EntryStatus.PENDING_SCHOOL


@pytest.mark.parametrize(
    ("leave", "why"),
    [(_transferred, "已转让"), (_lapsed, "已失效"), (_withdrawn, "撤回重审")],
)
def test_a_patent_out_of_the_pool_shows_its_name_and_why_not_its_text(
    world, client, auth, leave, why
):
    """The form showed an invited enterprise the whole record of a patent the university had
    taken out of the pool, whose pool page is a 404: now the name, the reason, and the
    enterprise's own evaluation; no text, no price, no form."""
    world.own.abstract, world.own.asking_price = "离库后不再展示的摘要", Decimal("6543.21")
    world.own.price_public = True
    db.session.commit()
    make_invite(world.own, world.ent_a)
    make_evaluation(world.own, world.ent_a, stars=4, needs="本企业的意见")
    leave(world.own)
    db.session.commit()
    auth.login(world.users[Role.ENTERPRISE])
    url = f"/evaluations/patents/{world.own.id}/evaluate"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert world.own.title in html and world.own.application_no in html
    assert 'id="not-evaluable"' in html and why in html and "不再向企业展示" in html
    assert "离库后不再展示的摘要" not in html and "6543.21" not in html
    assert 'id="patent-summary"' not in html and 'id="evaluation-form"' not in html
    assert "本企业的意见" in html  # its own evaluation stays readable
    assert client.get(f"/pool/patents/{world.own.id}").status_code == 404
    post = client.post(url, data={"prospect_stars": "2", "intent": "none"})
    assert post.status_code == 409 and why in post.get_data(as_text=True)
    api = client.post(
        f"/api/v1/evaluations/patents/{world.own.id}",
        json={"prospect_stars": 2, "intent": "none"},
    )
    assert api.status_code == 409
    assert db.session.scalar(sa.select(Evaluation.prospect_stars)) == 4
    todo = client.get("/api/v1/evaluations/todo").get_json()
    assert todo["items"] == []  # not listed to evaluate either


def test_titles_are_escaped(world, client, auth):
    world.own.title = "<script>alert(1)</script>"
    db.session.commit()
    make_invite(world.own, world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/evaluations/patents/{world.own.id}/evaluate").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


# ---------------------------------------------------------------------------- to-do list


def test_todo_lists_matched_and_invited_entered_patents(world, client, auth):
    invited = entered(world.uni_b, title="受邀专利")
    matched = world.own
    done = entered(world.uni_a, title="已评专利")
    pending = make_patent(world.uni_a, status=EntryStatus.PENDING_SCHOOL, title="未入库专利")
    unrelated = entered(world.uni_a, title="无关专利")
    make_invite(invited, world.ent_a)
    make_deal(matched, world.ent_a)
    make_deal(done, world.ent_a)
    make_deal(pending, world.ent_a)
    make_invite(unrelated, world.ent_b)
    make_evaluation(done, world.ent_a, stars=4)
    auth.login(world.users[Role.ENTERPRISE])

    def titles(state):
        html = client.get(f"/evaluations/todo?state={state}").get_data(as_text=True)
        api = client.get(f"/api/v1/evaluations/todo?state={state}").get_json()
        names = [i["title"] for i in api["items"]]
        assert all(n in html for n in names)
        return names

    assert set(titles("all")) == {"受邀专利", matched.title, "已评专利"}
    # A card per patent on a phone, its 评价 button in it (at 375 px the button was scrolled
    # out of view, a design review)
    html = client.get("/evaluations/todo").get_data(as_text=True)
    todo = assert_cards_on_phone(html, "todo-list")
    assert [row[-1].text.strip() for row in todo.rows] == ["评价", "评价", "修改"]
    assert titles("all")[-1] == "已评专利"  # to do first
    assert set(titles("todo")) == {"受邀专利", matched.title}
    assert titles("done") == ["已评专利"]
    item = {i["title"]: i for i in client.get("/api/v1/evaluations/todo").get_json()["items"]}
    assert item["受邀专利"]["invited"] and not item["受邀专利"]["matched"]
    assert item["已评专利"]["prospect_stars"] == 4


# ---------------------------------------------------------------------------- calibration


@dataclass
class Calib:
    p1: Patent
    p2: Patent
    p3: Patent
    p4: Patent


@pytest.fixture
def calib(world) -> Calib:
    e = [world.ent_a, world.ent_b, make_enterprise("丙公司")]
    p1 = entered(world.uni_a, value_grade=5, title="P1")
    p2 = entered(world.uni_a, value_grade=4, title="P2")
    p3 = entered(world.uni_a, value_grade=3, title="P3")
    p4 = entered(world.uni_a, value_grade=2, title="P4")
    entered(world.uni_a, value_grade=5, title="P5 未评价")
    make_patent(world.uni_a, status=EntryStatus.DRAFT, value_grade=1, title="草稿")
    for patent, stars in ((p1, (5, 4)), (p2, (2,)), (p3, (3, 2)), (p4, (4,)), (world.other, (5,))):
        for ent, s in zip(e, stars, strict=False):
            make_evaluation(patent, ent, stars=s)
    return Calib(p1, p2, p3, p4)


def test_calibration_figures_for_a_university(world, calib, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    data = client.get("/api/v1/evaluations/calibration").get_json()
    by_grade = {g["self_grade"]: g for g in data["by_grade"]}
    assert [by_grade[g]["entered"] for g in range(1, 6)] == [0, 1, 2, 1, 2]
    assert [by_grade[g]["evaluated"] for g in range(1, 6)] == [0, 1, 1, 1, 1]
    assert [by_grade[g]["evaluations"] for g in range(1, 6)] == [0, 1, 2, 1, 2]
    assert [by_grade[g]["mean_enterprise"] for g in range(1, 6)] == [None, 4.0, 2.5, 2.0, 4.5]
    assert data["share_confirmed"]["display"] == "33.3%（1 / 3）"
    assert data["coverage"]["display"] == "66.7%（4 / 6）"
    assert data["universities"] == []
    ids = [p["id"] for p in data["patents"]["items"]]
    assert ids == [calib.p2.id, calib.p1.id, calib.p3.id, calib.p4.id]  # most over-rated first
    html = client.get("/evaluations/calibration").get_data(as_text=True)
    # the share's counts on a smaller line of their own under the figure (at headline size
    # "95.8%（23 / 24）" wrapped mid-fraction, a design review)
    assert '33.3%<span class="value-counts">（1 / 3）</span>' in html
    assert 'data-chart="chart-calibration"' in html
    assert "乙校入库专利" not in html
    assert "chart.umd.min.js" in html


def test_calibration_for_staff_covers_all_or_one_university(world, calib, client, auth):
    auth.login(world.users[Role.REGULATOR])
    data = client.get("/api/v1/evaluations/calibration").get_json()
    assert data["share_confirmed"]["display"] == "50.0%（2 / 4）"
    assert {u["name"]: u["evaluated"] for u in data["universities"]} == {"甲大学": 4, "乙大学": 1}
    one = client.get(f"/api/v1/evaluations/calibration?institution={world.uni_b.id}").get_json()
    assert one["share_confirmed"]["display"] == "100.0%（1 / 1）" and one["scope"] == "乙大学"


def test_calibration_export(world, calib, client, auth):
    calib.p2.title = '=HYPERLINK("http://evil")'
    db.session.commit()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    response = client.get("/evaluations/calibration.xlsx")
    assert response.status_code == 200
    grades = _rows(response.data, "按自评等级")
    assert grades[0][0] == "学校自评" and grades[5][:3] == ("5★", 2, 1)
    patents = _rows(response.data, "专利明细")
    assert patents[1][1] == '=HYPERLINK("http://evil")'  # as written, in a text cell
    assert formula_cells(response.data) == []  # never run
    assert [r[4] for r in patents[1:]] == [4, 5, 3, 2]


def test_calibration_of_another_university_is_hidden(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    assert client.get(f"/evaluations/calibration?institution={world.uni_b.id}").status_code == 404
    api = client.get(f"/api/v1/evaluations/calibration?institution={world.uni_b.id}")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"


def test_calibration_empty_state(world, client, auth):
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    html = client.get("/evaluations/calibration").get_data(as_text=True)
    assert 'id="calibration-empty"' in html and "chart.umd.min.js" not in html


# ---------------------------------------------------------------------------- promotion lists

C26 = "C26 化学原料和化学制品制造业"
C35 = "C35 专用设备"


@pytest.fixture
def promo(world) -> dict[str, Patent]:
    e = [world.ent_a, world.ent_b]

    def p(title, industry, grade, trl, evals=(), intent=LICENSE, **kw):
        patent = entered(
            world.uni_a, title=title, industry_code=industry, value_grade=grade, trl=trl, **kw
        )
        for ent, stars in zip(e, evals, strict=False):
            make_evaluation(patent, ent, stars=stars, intent=intent)
        return patent

    return {
        "b2": p("B2 未评价高自评", C26, 4, 6),
        "a2": p("A2 两家4星", C26, 3, 5, (4, 4)),
        "b1": p("B1 一家4星", C26, 2, 3, (4,)),
        "a1": p("A1 双五星", C26, 5, 5, (5,)),
        "c1": p("C1 一家3星", C26, 3, 5, (3,)),
        "d1": p("D1 暂不", C26, 5, 9, (5, 5), transfer_willingness=Willingness.NOT_NOW),
        "x": p("X 专用设备", C35, 3, 4, (5, 5)),
        "u": p("U 未分类", None, 4, 7),
    }


def test_promotion_list_groups_by_industry_then_tier_then_evaluation(world, promo, client, auth):
    auth.login(world.users[Role.OFFICER])
    data = client.get("/api/v1/evaluations/promotion?per_page=100").get_json()
    titles = [i["title"] for i in data["items"]]
    assert titles == [
        "A1 双五星",
        "A2 两家4星",
        "B1 一家4星",
        "B2 未评价高自评",
        "X 专用设备",
        "U 未分类",
    ]
    first = data["items"][0]
    assert first["tier"] == "A" and first["double_five"] and first["group"] == C26
    assert data["items"][-1]["group"] == "未分类"
    html = client.get("/evaluations/promotion").get_data(as_text=True)
    positions = [html.index(t) for t in titles]
    assert positions == sorted(positions)
    assert "D1 暂不" not in html and "C1 一家3星" not in html
    assert f'data-group="{C35}"' in html
    # A card per patent on a phone, under its group's heading (a design review: at 375 px
    # titles wrapped every four characters and the tier's reasons were out of view)
    listed = assert_cards_on_phone(html, "promotion-list")
    assert sum(len(row) == 1 for row in listed.rows) == 3  # C26, C35, 未分类


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"group": C35}, {"X 专用设备"}),
        ({"group": "未分类"}, {"U 未分类"}),
        ({"tier": "A"}, {"A1 双五星", "A2 两家4星", "X 专用设备"}),
        ({"tier": "C", "group": C26}, {"C1 一家3星", "甲校入库专利"}),
        ({"tier": "D"}, {"D1 暂不"}),
        (
            {"by": "field", "group": "未分类", "tier": "A"},
            {"A1 双五星", "A2 两家4星", "X 专用设备"},
        ),
    ],
)
def test_promotion_filters(world, promo, client, auth, query, expected):
    auth.login(world.users[Role.OFFICER])
    data = client.get("/api/v1/evaluations/promotion", query_string=query).get_json()
    assert {i["title"] for i in data["items"]} == expected


def test_promotion_scope_by_university(world, promo, client, auth):
    theirs = entered(world.uni_b, title="乙校A", value_grade=5, trl=6, industry_code=C26)
    make_evaluation(theirs, world.ent_a, stars=5)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    mine = {i["title"] for i in client.get("/api/v1/evaluations/promotion").get_json()["items"]}
    assert "乙校A" not in mine and "A1 双五星" in mine
    assert client.get(f"/evaluations/promotion?institution={world.uni_b.id}").status_code == 404
    assert (
        client.get(f"/evaluations/promotion.xlsx?institution={world.uni_b.id}").status_code == 404
    )
    auth.logout()
    auth.login(world.users[Role.OFFICER])
    only_b = client.get(f"/api/v1/evaluations/promotion?institution={world.uni_b.id}").get_json()
    assert [i["title"] for i in only_b["items"]] == ["乙校A"]


def test_promotion_export_is_the_roadshow_list(world, promo, client, auth):
    promo["a1"].title = "=cmd|' /C calc'!A0"
    promo["a1"].contact_phone = "+86 10 1234"
    promo["a1"].advantages = "成本降低30%"
    db.session.commit()
    auth.login(world.users[Role.OFFICER])
    response = client.get("/evaluations/promotion.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = _rows(response.data)
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    body = rows[1:]
    assert [r[col["分层"]] for r in body] == ["A 重点推广"] * 2 + ["B 推荐推广"] * 2 + [
        "A 重点推广",
        "B 推荐推广",
    ]
    first = body[0]
    assert first[col["专利名称"]] == "=cmd|' /C calc'!A0"  # as written, in a text cell
    assert first[col["联系电话"]] == "+86 10 1234"
    assert formula_cells(response.data) == []  # nothing runs
    assert first[col["双五星"]] == "是"
    assert first[col["技术优势"]] == "成本降低30%"
    assert first[col["企业评价均分（星）"]] == 5 and first[col["评价企业数"]] == 1
    assert body[-1][col["分组"]] == "未分类"


def test_promotion_summary_counts_tiers_per_industry(world, promo, client, auth):
    auth.login(world.users[Role.OFFICER])
    html = client.get("/evaluations/promotion").get_data(as_text=True)
    summary = html[html.index('id="tier-summary"') :]
    c26_row = summary.split("</tr>")[1]
    assert C26 in c26_row  # most promotable industry first
    assert "57.1%（4 / 7）" in c26_row  # A1, A2, B1, B2 of 7 entered (C1, D1 and world.own)
    # The same counts as a stacked bar above the table (UX review ua-promo-d.p0)
    spec = json.loads(
        html.split('<script type="application/json" id="chart-promotion-tiers">')[1].split(
            "</script>"
        )[0]
    )
    assert spec["labels"][0] == C26
    assert [d["label"][0] for d in spec["datasets"]] == ["A", "B", "C", "D"]
    tiers = [d["data"][0] for d in spec["datasets"]]
    assert tiers[:2] == [2, 2] and sum(tiers) == 7  # as the row: 4 / 7
    assert spec["options"]["scales"]["x"]["stacked"]
    assert 'href="#tier-summary">查看数据表</a>' in html
    # Figures to compare down the columns: on a phone the table scrolls sideways in its box
    # with the industry kept in view, not as cards
    table = read_table(html, "tier-summary")
    assert table.in_wrap and "sticky-first" in table.classes
    assert "cards-on-phone" not in table.classes


def test_template_globals_for_other_pages(world, app, client, auth):
    make_deal(world.own, world.ent_a)
    entered_invited = entered(world.uni_b, title="受邀")
    make_invite(entered_invited, world.ent_a)
    make_evaluation(entered_invited, world.ent_a)
    render = app.jinja_env.from_string(
        "{{ evaluations_evaluate_url(pid) }}|{{ evaluations_todo_count() }}"
    )
    with app.test_request_context():
        from flask_login import login_user

        login_user(world.users[Role.ENTERPRISE])
        assert render.render(pid=world.own.id, **_ctx(app)) == (
            f"/evaluations/patents/{world.own.id}/evaluate|1"
        )
        assert render.render(pid=world.other.id, **_ctx(app)) == "None|1"
        login_user(world.users[Role.OFFICER])
        assert render.render(pid=world.own.id, **_ctx(app)) == "None|None"


def _ctx(app) -> dict:
    ctx: dict = {}
    for processor in app.template_context_processors[None]:
        ctx.update(processor())
    return ctx


@pytest.mark.parametrize(
    "role",
    [
        Role.PLATFORM_ADMIN,
        Role.OFFICER,
        Role.REGULATOR,
        Role.UNIVERSITY_ADMIN,
        Role.COLLEGE_ADMIN,
        Role.INVENTOR,
    ],
)
def test_panel_on_the_patent_page_for_every_reader(world, client, auth, role):
    make_evaluation(world.own, world.ent_b, stars=2, needs="需降低成本")
    draft = make_patent(
        world.uni_a, college=world.college_a, inventors=[world.users[Role.INVENTOR]]
    )
    auth.login(world.users[role])
    html = client.get(f"/patents/{world.own.id}").get_data(as_text=True)
    assert "需降低成本" in html and "乙制造有限公司" in html
    assert ('id="invite-form"' in html) == (
        role in {Role.PLATFORM_ADMIN, Role.OFFICER, Role.UNIVERSITY_ADMIN}
    )
    page = client.get(f"/patents/{draft.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "入库后才能邀请企业评价" in text and 'id="invite-form"' not in text


@pytest.mark.parametrize(
    ("contract", "listed"),
    [
        ({"kind": "assignment"}, False),
        ({"kind": "equity"}, False),
        ({"kind": "license", "license_scope": "exclusive", "license_until": "2099-12-31"}, False),
        (
            {
                "kind": "license",
                "license_scope": "exclusive",
                "signed_on": "2020-01-01",
                "license_until": "2020-12-31",
            },
            True,
        ),
        ({"kind": "license", "license_scope": "ordinary"}, True),
    ],
)
def test_a_patent_sold_or_exclusively_licensed_leaves_the_promotion_list(
    world, promo, client, auth, contract, listed
):
    """A provincial trial found every patent with a signed contract still in A or B, one in A
    after 作价入股 for 500 万. An assigned, contributed or exclusively licensed patent is not
    promoted (an ordinary licence, or an exclusive one that has ended, leaves it promotable);
    the page says how many were left out."""
    patent = promo["a1"]
    deal = make_deal(patent, world.ent_b)
    deal.pushed_at = deal.pushed_at.replace(year=2019)  # a licence that ran in 2020
    db.session.commit()
    sign(deal, **contract)
    auth.login(world.users[Role.OFFICER])
    items = client.get("/api/v1/evaluations/promotion?per_page=100").get_json()["items"]
    titles = {i["title"] for i in items}
    assert ("A1 双五星" in titles) is listed
    html = client.get("/evaluations/promotion").get_data(as_text=True)
    assert ("另有 1 件入库专利已转让" in html) is not listed
    assert ("A1 双五星" in html) is listed
