"""Contract entry (explore3 F6–F8): a correction's timeline entry says what changed, a 0 万元
contract of 转让 / 许可 / 作价入股 needs the 「无偿」 tick, 10,000 万元 is 「达到或超过」 1 亿元,
an impossible date is called so, and amounts carry thousands separators."""

from __future__ import annotations

import html as htmllib
from decimal import Decimal

import pytest

from revive.deals import services
from revive.deals.models import Deal, DealEvent, Stage
from revive.errors import ValidationFailed
from revive.extensions import db
from tests.deals.helpers import advance, contract_data


def _negotiating(world) -> Deal:
    return advance(world.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def test_a_correction_says_what_changed(world, client, auth):
    deal = _negotiating(world)
    services.record_contract(
        deal.id, contract_data(kind="assignment", amount_wan="50"), world.officer
    )
    deal = db.session.get(Deal, deal.id)
    services.record_contract(
        deal.id,
        contract_data(kind="assignment", amount_wan="20000", confirm_amount=True, parties="甲；乙"),
        world.officer,
        expected_version=deal.version,
    )
    deal = db.session.get(Deal, deal.id)
    services.record_contract(
        deal.id,
        contract_data(kind="assignment", amount_wan="20000", confirm_amount=True, parties="甲；丙"),
        world.officer,
        expected_version=deal.version,
    )
    corrections = [
        e.comment
        for e in db.session.query(DealEvent).filter_by(deal_id=deal.id, kind="contract").all()
    ]
    assert corrections == [
        "更正：金额 50 → 20,000 万元；当事方 甲大学；甲科技有限公司 → 甲；乙",
        "更正：当事方 甲；乙 → 甲；丙",
    ]
    auth.login(world.officer)
    html = _text(client.get(f"/deals/{deal.id}"))
    assert "20,000 万元" in html and "20000.00 万元" not in html
    assert "当事方 甲；乙 → 甲；丙" in html


def test_equity_is_never_free(world):
    """作价入股 is the patent's agreed value turned into shares: a tester's 0 万元 was taken
    as 「无偿」."""
    deal = _negotiating(world)
    for tick in (False, True):
        with pytest.raises(ValidationFailed, match="作价入股须填写专利的作价金额"):
            services.record_contract(
                deal.id,
                contract_data(kind="equity", amount_wan="0", confirm_free=tick),
                world.officer,
            )
        db.session.rollback()


@pytest.mark.parametrize("kind", ["assignment", "license"])
def test_a_zero_amount_needs_the_free_tick(world, kind):
    deal = _negotiating(world)
    with pytest.raises(ValidationFailed, match="无偿（金额为 0）") as refused:
        services.record_contract(deal.id, contract_data(kind=kind, amount_wan="0"), world.officer)
    assert "confirm_free" in refused.value.details
    assert refused.value.message.count("无偿") == 2  # the amount's message, not said twice
    db.session.rollback()
    contract = services.record_contract(
        deal.id, contract_data(kind=kind, amount_wan="0", confirm_free=True), world.officer
    )
    assert contract.amount_wan == Decimal("0.00")


def test_the_free_tick_is_on_the_form_and_the_flash_says_so(world, client, auth):
    deal = _negotiating(world)
    auth.login(world.officer)
    assert 'name="confirm_free"' in _text(client.get(f"/deals/{deal.id}"))
    data = {**contract_data(kind="assignment", amount_wan="0"), "version": deal.version}
    r = client.post(f"/deals/{deal.id}/contract", data=data)
    assert r.status_code == 422 and "如确为无偿转让" in _text(r)
    r = client.post(
        f"/deals/{deal.id}/contract", data={**data, "confirm_free": "1"}, follow_redirects=True
    )
    assert "已登记转让合同（0 万元，无偿）" in _text(r)


def test_exactly_one_yi_is_reached_not_exceeded(world):
    deal = _negotiating(world)
    with pytest.raises(ValidationFailed) as refused:
        services.record_contract(deal.id, contract_data(amount_wan="10000"), world.officer)
    assert "达到或超过 1 亿元" in refused.value.message and "超过 1 亿元：" not in (
        refused.value.message.replace("达到或超过 1 亿元：", "")
    )


def test_an_impossible_date_is_called_so(world):
    deal = _negotiating(world)
    with pytest.raises(ValidationFailed) as refused:
        services.record_contract(deal.id, contract_data(signed_on="2026-02-30"), world.officer)
    assert refused.value.details["signed_on"] == "签约日期 2026-02-30 不存在，请核对年、月、日"
    with pytest.raises(ValidationFailed) as refused:
        services.record_contract(deal.id, contract_data(signed_on="2026/3/1"), world.officer)
    assert "格式不对" in refused.value.details["signed_on"]


def test_a_large_amount_flash_has_separators(world, client, auth):
    deal = _negotiating(world)
    auth.login(world.officer)
    data = {
        **contract_data(amount_wan="20000"),
        "confirm_amount": "1",
        "version": deal.version,
    }
    page = _text(client.post(f"/deals/{deal.id}/contract", data=data, follow_redirects=True))
    assert "已登记许可（普通许可）合同（20,000 万元）" in page
    assert "金额 20,000 万元" in page  # the signing's timeline entry
