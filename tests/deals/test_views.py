"""Deal pages, board, panels and JSON API: what users see and what the forms do."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from revive import clock
from revive.accounts.models import Role
from revive.clock import local_date
from revive.db import as_utc, utcnow
from revive.deals import queries, services
from revive.deals.models import Deal, Stage, UniversityResponse
from revive.extensions import db
from tests.deals.helpers import advance, contract_data, make_overdue, sign
from tests.factories import make_user


def _deal(deal_id: int) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal_id)


def _column(html: str, stage: str) -> str:
    m = re.search(rf'data-column="{stage}".*?</section>', html, re.S)
    assert m, stage
    return m.group(0)


# ---------------------------------------------------------------------------- deal page


def test_deal_page_shows_both_sides_the_timeline_and_the_wait(world, client, auth):
    deal = world.own_deal(title="提高电池能量密度")
    deal.stage_changed_at = utcnow() - timedelta(days=4, hours=1)
    db.session.commit()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "提高电池能量密度" in html and deal.patent.title in html
    assert deal.patent.application_no in html
    assert "甲大学" in html and "甲科技有限公司" in html
    assert 'data-days-in-stage="4"' in html and "4 天" in html
    assert "王经理" in html  # who pushed it, in the header and the timeline
    assert 'data-event-kind="stage"' in html
    assert "答复逾期" not in html
    # the university cannot open the match page (officers and the enterprise can)
    assert f"/matching/matches/{deal.match_id}" not in html
    auth.logout()
    auth.login(world.users[Role.ENTERPRISE])
    assert f"/matching/matches/{deal.match_id}" in client.get(f"/deals/{deal.id}").get_data(
        as_text=True
    )


def test_overdue_flag_on_the_page(world, client, auth):
    deal = make_overdue(world.own_deal())
    auth.login(world.officer)
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "data-overdue" in html and "答复逾期" in html


@pytest.mark.parametrize(
    ("role", "respond", "actions", "contract"),
    [
        # the parties record contact once the university has answered 愿意对接
        (Role.UNIVERSITY_ADMIN, True, set(), False),
        (Role.COLLEGE_ADMIN, True, set(), False),
        (Role.INVENTOR, True, set(), False),
        (Role.ENTERPRISE, False, set(), False),
        (Role.OFFICER, False, {"contact", "fail"}, False),
        (Role.PLATFORM_ADMIN, False, {"contact", "fail"}, False),
        (Role.REGULATOR, False, set(), False),
    ],
    ids=lambda v: v.value if isinstance(v, Role) else "",
)
def test_forms_offered_to_each_role(world, client, auth, role, respond, actions, contract):
    deal = world.own_deal()
    auth.login(world.users[role])
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert ('id="respond"' in html) is respond
    assert set(re.findall(r'data-action="(\w+)"', html)) == actions
    assert (f"/deals/{deal.id}/contract" in html) is contract


def test_contract_form_is_offered_to_staff_while_negotiating(world, client, auth):
    deal = advance(world.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)
    auth.login(world.officer)
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f'action="/deals/{deal.id}/contract"' in html
    assert "登记合同并签约" in html
    assert "甲大学；甲科技有限公司" in html  # parties prefilled
    assert set(re.findall(r'data-action="(\w+)"', html)) == {"fail", "back_to_contacted"}
    # the browser checks what the server would refuse before the 「不可撤回」 prompt (a tester
    # confirmed, then read 「须填写许可期限」 / 「签约日期不能早于推荐日期」)
    from revive.deals.services import pushed_on

    assert f'id="c-signed" name="signed_on" min="{pushed_on(deal).isoformat()}"' in html
    assert 'data-require-when="sole,exclusive" data-require-target="c-until"' in html


def test_respond_through_the_form(world, client, auth):
    deal = world.own_deal()
    auth.login(world.users[Role.INVENTOR])
    before = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'id="deal-response-due"' in before  # the university has a deadline to answer by
    r = client.post(
        f"/deals/{deal.id}/response",
        data={"response": "interested", "comment": "可周三面谈", "version": deal.version},
    )
    assert r.status_code == 302
    deal = _deal(deal.id)
    assert deal.response.value == "interested" and deal.response_comment == "可周三面谈"
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "可周三面谈" in html and "已答复「愿意对接」" in html
    assert "高校答复期限" not in html  # answered: the deadline is moot (a tester read it)


def test_failing_without_a_reason_rerenders_with_the_error(world, client, auth):
    deal = world.own_deal()
    auth.login(world.officer)
    r = client.post(
        f"/deals/{deal.id}/stage",
        data={"action": "fail", "reason": "", "comment": "企业没有回音", "version": deal.version},
    )
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "请选择未成交原因" in html and "企业没有回音" in html
    assert _deal(deal.id).stage == Stage.RECOMMENDED
    r = client.post(
        f"/deals/{deal.id}/stage",
        data={"action": "fail", "reason": "price", "version": deal.version},
    )
    assert r.status_code == 302
    assert _deal(deal.id).stage == Stage.FAILED
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "价格未谈拢" in html
    assert set(re.findall(r'data-action="(\w+)"', html)) == {"reopen"}


def test_contract_form_errors_keep_the_input(world, client, auth):
    deal = advance(world.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)
    auth.login(world.officer)
    future = (utcnow().date() + timedelta(days=30)).isoformat()
    data = contract_data(amount_wan="-5", signed_on=future, record_no="BA-77")
    r = client.post(f"/deals/{deal.id}/contract", data={**data, "version": deal.version})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "合同金额不能为负数" in html and "签约日期不能晚于今天" in html
    assert 'value="BA-77"' in html and 'value="-5"' in html
    assert _deal(deal.id).contract is None
    r = client.post(f"/deals/{deal.id}/contract", data={**contract_data(), "version": deal.version})
    assert r.status_code == 302
    deal = _deal(deal.id)
    assert deal.stage == Stage.SIGNED and deal.contract.amount_wan == Decimal("120.50")
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "120.50 万元" in html and "2025110000123" in html
    assert "更正合同信息" in html


def test_a_large_amount_asks_for_confirmation_and_a_correction_says_so(world, client, auth):
    """An amount in 元 typed into the 万元 field (5 亿 万元 = 5 万亿元) is caught: from 1 亿元
    the officer ticks 金额无误; the irreversible signing asks first; a later change of the
    contract reads as a correction."""
    deal = advance(world.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)
    auth.login(world.officer)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'name="confirm_amount"' in page and "不可撤回。确定登记并签约？" in page
    data = {**contract_data(amount_wan="50000"), "version": deal.version}
    r = client.post(f"/deals/{deal.id}/contract", data=data)
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert "即 5.00 亿元" in html and "金额无误" in html and 'value="50000"' in html
    assert _deal(deal.id).contract is None
    r = client.post(f"/deals/{deal.id}/contract", data={**data, "confirm_amount": "1"})
    assert r.status_code == 302
    assert _deal(deal.id).contract.amount_wan == Decimal("50000.00")
    assert "已登记" in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    fix = {**contract_data(amount_wan="5.00"), "version": _deal(deal.id).version}
    r = client.post(f"/deals/{deal.id}/contract", data=fix, follow_redirects=True)
    assert "已更正" in r.get_data(as_text=True)
    assert _deal(deal.id).contract.amount_wan == Decimal("5.00")


def test_second_writer_is_told_to_refresh(world, client, auth):
    deal = world.own_deal(response=UniversityResponse.INTERESTED)
    seen = deal.version
    auth.login(world.users[Role.ENTERPRISE])
    assert (
        client.post(
            f"/deals/{deal.id}/stage", data={"action": "contact", "version": seen}
        ).status_code
        == 302
    )
    auth.logout()
    auth.login(world.officer)
    r = client.post(
        f"/deals/{deal.id}/stage",
        data={"action": "fail", "reason": "price", "version": seen},
        follow_redirects=True,
    )
    assert "已被他人修改，请刷新" in r.get_data(as_text=True)
    assert _deal(deal.id).stage == Stage.CONTACTED


def test_a_stale_second_tab_of_the_same_user_is_told_it_was_them(world, client, auth):
    """Two tabs of one officer: the second is told the change was the user's own (您), when,
    and the stage now — not that someone else changed it."""
    deal = world.own_deal()
    seen = deal.version
    auth.login(world.officer)
    first = client.post(f"/deals/{deal.id}/stage", data={"action": "contact", "version": seen})
    assert first.status_code == 302
    r = client.post(
        f"/deals/{deal.id}/stage",
        data={"action": "fail", "reason": "price", "version": seen},
        follow_redirects=True,
    )
    html = r.get_data(as_text=True)
    assert "已由您于" in html and "当前阶段为「已接洽」" in html
    assert "已被他人修改" not in html
    assert _deal(deal.id).stage == Stage.CONTACTED


def test_a_refused_move_is_explained(world, client, auth):
    deal = world.own_deal()
    auth.login(world.officer)
    r = client.post(
        f"/deals/{deal.id}/stage",
        data={"action": "negotiate", "version": deal.version},
        follow_redirects=True,
    )
    assert "不能执行「进入洽谈」" in r.get_data(as_text=True)


# ---------------------------------------------------------------------------- board


def test_board_columns_cards_and_overdue_badge(world, client, auth):
    fresh = world.own_deal(title="新推荐的需求")
    late = make_overdue(world.own_deal(title="逾期的需求"))
    talking = advance(world.own_deal(title="在谈的需求"), Stage.CONTACTED, Stage.NEGOTIATING)
    signed = sign(world.own_deal(title="签了的需求"))
    auth.login(world.officer)
    html = client.get("/deals/").get_data(as_text=True)
    recommended = _column(html, "recommended")
    assert "新推荐的需求" in recommended and "逾期的需求" in recommended
    assert recommended.count("data-overdue") == 1
    assert "2 条" in recommended
    assert "在谈的需求" in _column(html, "negotiating")
    assert "签了的需求" in _column(html, "signed")
    assert "本阶段已停留" in html
    assert {fresh.id, late.id, talking.id, signed.id} <= {
        int(i) for i in re.findall(r'data-deal-id="(\d+)"', html)
    }


def test_board_filters(world, client, auth):
    mine = world.own_deal(title="甲方需求")
    theirs = make_overdue(world.other_deal(title="乙方需求"))
    other_officer = make_user(Role.OFFICER, name="赵经理")
    third = world.own_deal(title="赵经理推的需求", officer=other_officer)
    auth.login(world.users[Role.PLATFORM_ADMIN])

    def shown(query: str) -> set[int]:
        html = client.get(f"/deals/?{query}").get_data(as_text=True)
        return {int(i) for i in re.findall(r'data-deal-id="(\d+)"', html)}

    assert shown("") == {mine.id, theirs.id, third.id}
    assert shown(f"university={world.uni_b.id}") == {theirs.id}
    assert shown(f"enterprise={world.ent_a.id}") == {mine.id, third.id}
    assert shown(f"officer={other_officer.id}") == {third.id}
    assert shown("overdue=1") == {theirs.id}
    assert shown("university=abc&officer=") == {mine.id, theirs.id, third.id}
    html = client.get("/deals/").get_data(as_text=True)
    assert "赵经理" in html and "乙大学" in html  # filter options


def test_back_to_the_board_keeps_its_filters(world, client, auth):
    """An officer filtered the board by enterprise, opened a card and clicked 返回看板: the
    board came back unfiltered."""
    deal = world.own_deal()
    auth.login(world.users[Role.OFFICER])
    client.get(f"/deals/?enterprise={world.ent_a.id}&overdue=1&stage=bogus")
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    back = re.search(r'href="([^"]*)">返回看板', html).group(1).replace("&amp;", "&")
    assert back.startswith("/deals/?") and f"enterprise={world.ent_a.id}" in back
    assert "overdue=1" in back and "bogus" not in back  # only what the board understood
    client.get("/deals/")
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'href="/deals/">返回看板' in html


def test_board_escapes_titles(world, client, auth):
    world.own_deal(title="<script>alert(1)</script>需求")
    auth.login(world.officer)
    html = client.get("/deals/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


# ---------------------------------------------------------------------------- panels


def test_patent_page_lists_its_deals_for_the_university(world, client, auth):
    deal = world.own_deal(title="用到这件专利的需求")
    auth.login(world.users[Role.COLLEGE_ADMIN])
    html = client.get(f"/patents/{deal.patent_id}").get_data(as_text=True)
    assert 'id="patent-deals"' in html and "用到这件专利的需求" in html
    assert f"/deals/{deal.id}" in html


def test_demand_page_shows_pushed_deals_to_owner_and_staff_only(world, client, auth):
    deal = sign(world.own_deal(title="公开的需求"))
    for role, shown in [
        (Role.ENTERPRISE, True),
        (Role.OFFICER, True),
        (Role.REGULATOR, True),
        (Role.UNIVERSITY_ADMIN, False),
    ]:
        auth.login(world.users[role])
        r = client.get(f"/demands/{deal.demand_id}")
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        assert ('id="demand-deals"' in html) is shown, role
        if shown:
            assert deal.patent.title in html and "已签约" in html and "120.50 万元" in html
        auth.logout()


def test_panels_show_when_a_final_stage_was_reached_not_a_running_stay(world, client, auth):
    """已签约 / 未成交 are final: the demand's and the patent's deal lists give the day it was
    reached; an open deal keeps its days in the stage."""
    long_ago = utcnow() - timedelta(days=245)
    signed = sign(world.own_deal(title="签了的需求"))
    lost = world.own_deal(title="没成的需求")
    services.change_stage(lost.id, "fail", world.officer, reason="price")
    talking = world.own_deal(title="在谈的需求")
    for d in (signed, lost, talking):
        _deal(d.id).stage_changed_at = long_ago
    db.session.commit()
    day = clock.format_dt(long_ago, "%Y-%m-%d")

    def row(html: str, deal: Deal) -> str:
        m = re.search(rf'<tr data-deal-id="{deal.id}">.*?</tr>', html, re.S)
        assert m, deal.id
        return m.group(0)

    auth.login(world.users[Role.ENTERPRISE])
    for d, shown in ((signed, f"已签约于 {day}"), (lost, f"未成交于 {day}")):
        html = client.get(f"/demands/{d.demand_id}").get_data(as_text=True)
        assert shown in row(html, d) and "245 天" not in row(html, d)
    html = client.get(f"/demands/{talking.demand_id}").get_data(as_text=True)
    assert "已停留" in row(html, talking) and "245 天" in row(html, talking)
    auth.logout()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    html = client.get(f"/patents/{signed.patent_id}").get_data(as_text=True)
    assert f"已签约于 {day}" in row(html, signed) and "245 天" not in row(html, signed)
    html = client.get(f"/patents/{lost.patent_id}").get_data(as_text=True)
    assert "未答复" in row(html, lost) and "待答复" not in row(html, lost)


# ---------------------------------------------------------------------------- API


def test_api_deal_has_events_and_a_traceable_contract(world, client, auth):
    deal = sign(world.own_deal())
    auth.login(world.users[Role.ENTERPRISE])
    body = client.get(f"/api/v1/deals/{deal.id}").get_json()
    assert body["stage"] == "signed" and body["stage_label"] == "已签约"
    assert [e["to_stage"] for e in body["events"]] == [
        "recommended",
        "contacted",
        "negotiating",
        "signed",
    ]
    assert body["contract"] == {
        "id": deal.contract.id,
        "deal_id": deal.id,
        "demand_id": deal.demand_id,
        "patent_id": deal.patent_id,
        "kind": "license",
        "kind_label": "许可",
        "license_scope": "ordinary",
        "license_scope_label": "普通许可",
        "license_until": None,
        "amount_wan": "120.50",
        "signed_on": deal.contract.signed_on.isoformat(),
        "record_no": "2025110000123",
        "parties": "甲大学；甲科技有限公司",
        "version": deal.contract.version,
    }


def test_api_contract_create_then_correct(world, client, auth):
    deal = advance(world.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)
    auth.login(world.officer)
    r = client.post(f"/api/v1/deals/{deal.id}/contract", json=contract_data(record_no=None))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["record_no"] is None
    # a correction without the version it was read at is refused: it could overwrite another
    r = client.post(f"/api/v1/deals/{deal.id}/contract", json=contract_data(record_no="BA-1"))
    assert r.status_code == 422 and "version" in r.get_json()["details"]
    version = client.get(f"/api/v1/deals/{deal.id}").get_json()["version"]
    r = client.post(
        f"/api/v1/deals/{deal.id}/contract",
        json={**contract_data(record_no="BA-1"), "version": version},
    )
    assert r.status_code == 200 and r.get_json()["record_no"] == "BA-1"
    r = client.post(f"/api/v1/deals/{deal.id}/contract", json=contract_data(amount_wan=-1))
    assert r.status_code == 422
    assert r.get_json()["error"] == "validation_failed"
    assert "amount_wan" in r.get_json()["details"]


def test_api_stage_errors(world, client, auth):
    deal = world.own_deal()
    auth.login(world.officer)
    r = client.post(f"/api/v1/deals/{deal.id}/stage", json={"action": "fail"})
    assert r.status_code == 422 and r.get_json()["details"] == {"reason": "请选择未成交原因"}
    r = client.post(f"/api/v1/deals/{deal.id}/stage", json={"to": "signed"})
    assert r.status_code == 409 and r.get_json()["error"] == "invalid_transition"
    r = client.post(f"/api/v1/deals/{deal.id}/stage", json={})  # neither action nor to
    assert r.status_code == 422 and "action" in r.get_json()["details"]
    assert "contact / negotiate" in r.get_json()["message"]
    r = client.post(f"/api/v1/deals/{deal.id}/stage", json={"action": "contact", "version": 99})
    assert r.status_code == 409 and r.get_json()["error"] == "conflict"
    assert "已被他人修改" in r.get_json()["message"]
    r = client.post(f"/api/v1/deals/{deal.id}/stage", json={"action": "contact", "version": "1"})
    assert r.status_code == 422
    r = client.post(f"/api/v1/deals/{deal.id}/stage", data="not json")
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/deals/{deal.id}/stage",
        json={"action": "fail", "reason": "price", "comment": "贵"},
    )
    assert r.status_code == 200
    assert r.get_json()["failure_reason_label"] == "价格未谈拢"


def test_api_list_filters_and_pagination(world, client, auth):
    ids = [world.own_deal().id for _ in range(3)]
    late = make_overdue(world.other_deal())
    auth.login(world.users[Role.REGULATOR])
    body = client.get("/api/v1/deals?per_page=2").get_json()
    assert body["_meta"] == {"page": 1, "per_page": 2, "total_pages": 2, "total_items": 4}
    page2 = client.get("/api/v1/deals?per_page=2&page=2").get_json()
    assert len(body["items"]) + len(page2["items"]) == 4
    overdue = client.get("/api/v1/deals?overdue=1").get_json()["items"]
    assert [d["id"] for d in overdue] == [late.id] and overdue[0]["overdue"] is True
    by_uni = client.get(f"/api/v1/deals?university={world.uni_a.id}").get_json()["items"]
    assert sorted(d["id"] for d in by_uni) == sorted(ids)
    assert client.get("/api/v1/deals?stage=failed").get_json()["items"] == []


def test_api_respond(world, client, auth):
    deal = world.own_deal()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    r = client.post(f"/api/v1/deals/{deal.id}/response", json={"response": "maybe"})
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/deals/{deal.id}/response",
        json={"response": "interested", "version": deal.version},
    )
    assert r.status_code == 200
    assert r.get_json()["response_label"] == "愿意对接"
    assert r.get_json()["events"][-1]["kind"] == "response"


def test_a_party_is_told_why_it_cannot_move_the_deal_yet(world, client, auth):
    deal = world.own_deal()
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'id="stage-held"' in html and "高校尚未答复是否愿意对接" in html
    assert 'data-action="contact"' not in html

    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'id="stage-held"' not in html and 'data-action="contact"' in html

    services.respond(deal.id, "declined", world.users[Role.UNIVERSITY_ADMIN])
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "高校已答复「暂不对接」" in html and 'data-action="contact"' not in html


def test_the_board_flags_an_open_deal_the_university_declined(world, client, auth):
    declined = world.own_deal(response=UniversityResponse.DECLINED)
    world.own_deal(response=UniversityResponse.INTERESTED)
    auth.login(world.officer)
    html = client.get("/deals/").get_data(as_text=True)
    assert html.count("data-declined") == 1
    services.change_stage(declined.id, "fail", world.officer, reason="declined")
    assert "data-declined" not in client.get("/deals/").get_data(as_text=True)


def test_the_enterprise_side_never_sees_the_universitys_self_rating(world, client, auth):
    deal = world.own_deal()
    deal.patent.value_grade = 2
    db.session.commit()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    assert "data-self-grade" in client.get(f"/deals/{deal.id}").get_data(as_text=True)
    auth.logout()
    auth.login(world.users[Role.ENTERPRISE])
    assert "data-self-grade" not in client.get(f"/deals/{deal.id}").get_data(as_text=True)


def test_the_stage_path_says_in_words_which_stage_is_current_and_done(client, auth, world):
    """An accessibility review: done and upcoming stages differed by colour only."""
    from tests.deals.helpers import advance

    deal = advance(world.own_deal(), Stage.CONTACTED)
    auth.login(world.officer)
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    path = page.split('class="stage-path"')[1].split("</ol>")[0]
    assert 'aria-current="step">已接洽<span class="sr-only">（当前阶段）</span>' in path
    assert '已推荐<span class="sr-only">（已完成）</span>' in path


def test_the_board_lists_the_latest_closed_deals_with_a_link_to_all(world, client, auth):
    """UX review (o-deals-d): 已签约 and 未成交 listed every past deal, the page ~2,400 px.
    The full board shows the latest few and links to that stage alone, which lists them all."""
    limit = queries.BOARD_CLOSED_LIMIT
    for _ in range(limit + 2):
        services.change_stage(world.own_deal().id, "fail", world.officer, reason="declined")
    auth.login(world.officer)
    html = client.get("/deals/").get_data(as_text=True)
    failed = html.split('data-column="failed"')[1].split("</section>")[0]
    assert failed.count("data-deal-id") == limit and f"{limit + 2} 条" in failed
    assert 'href="/deals/?stage=failed" data-see-all="failed"' in failed
    assert "data-scroll-hint" in html  # on a phone the columns go on sideways
    alone = client.get("/deals/?stage=failed").get_data(as_text=True)
    assert alone.count("data-deal-id") == limit + 2 and "返回完整看板" in alone


def test_a_card_shows_the_answers_deadline_and_the_days_left_or_over(world, client, auth):
    """UX review (o-deals-d): 答复逾期 without the deadline; the card gives the due date
    (Beijing time) and how many days are left or over."""
    late = make_overdue(world.own_deal(), days=3)
    waiting = world.own_deal()
    waiting.response_due_at = utcnow() + timedelta(days=5)
    db.session.commit()
    auth.login(world.officer)
    html = client.get("/deals/").get_data(as_text=True)
    late_card = html.split(f'data-deal-id="{late.id}"')[1].split("</a>")[0]
    due = late.response_due_at
    assert f"答复期限 {local_date(as_utc(due)):%Y-%m-%d}" in late_card
    assert "已逾期 3 天" in late_card and "data-overdue" in late_card
    waiting_card = html.split(f'data-deal-id="{waiting.id}"')[1].split("</a>")[0]
    assert "还剩 5 天" in waiting_card and "data-overdue" not in waiting_card


def test_a_declined_answer_reads_as_a_line_of_its_own(world, client, auth):
    declined = world.own_deal(response=UniversityResponse.DECLINED)
    auth.login(world.officer)
    card = (
        client.get("/deals/")
        .get_data(as_text=True)
        .split(f'data-deal-id="{declined.id}"')[1]
        .split("</a>")[0]
    )
    note = card.split('class="declined-note"')[1].split("</div>")[0]
    assert "高校答复：暂不对接" in note and "标记为未成交" in note
