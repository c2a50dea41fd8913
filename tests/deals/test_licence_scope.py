"""A 许可 contract's scope (普通 / 排他 / 独占许可) and term, and what a sole or exclusive licence
in force rules out: licensing anybody else, an open licence (专利法第五十一条)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from revive.accounts.models import Role
from revive.clock import local_today
from revive.deals import services
from revive.deals.models import ContractKind, LicenseScope
from revive.errors import ValidationFailed
from revive.extensions import db
from revive.licensing import services as licensing
from tests.deals.helpers import advance, contract_data, make_deal, sign
from tests.factories import make_user
from tests.licensing.helpers import make_declaration, valid_body

LATER = (local_today() + timedelta(days=730)).isoformat()


def _refused(deal, **kw) -> dict[str, str]:
    from revive.deals.models import Stage

    if deal.stage != Stage.NEGOTIATING:
        advance(deal, Stage.CONTACTED, Stage.NEGOTIATING)
    with pytest.raises(ValidationFailed) as err:
        services.record_contract(deal.id, contract_data(**kw), deal.officer)
    return err.value.details


def _second_deal(world, first):
    return make_deal(patent=first.patent, enterprise=world.ent_b, officer=world.officer)


def test_a_licence_says_how_exclusive_it_is(world):
    details = _refused(world.own_deal(), license_scope="")
    assert "请选择许可方式" in details["license_scope"]


def test_a_sole_or_exclusive_licence_needs_its_term(world):
    deal = world.own_deal()
    assert "须填写许可期限" in _refused(deal, license_scope="独占许可")["license_until"]
    today = local_today().isoformat()
    details = _refused(deal, license_scope="sole", license_until=today)
    assert details["license_until"] == "许可期限须晚于签约日期"


def test_the_term_is_recorded_shown_and_audited(world):
    deal = sign(world.own_deal(), license_scope="exclusive", license_until=LATER)
    c = deal.contract
    assert (c.license_scope, c.license_until.isoformat()) == (LicenseScope.EXCLUSIVE, LATER)
    assert services.contract_kind_text(c) == f"许可（独占许可，至 {LATER}）"


def test_nobody_else_is_licensed_during_an_exclusive_licence(world):
    # pushed before the licence was signed (a push after it is refused: tests/matching/test_holds)
    first = world.own_deal()
    second = _second_deal(world, first)
    sign(first, license_scope="exclusive", license_until=LATER)
    details = _refused(second, license_scope="ordinary")
    assert "独占许可" in details["license_scope"] and world.ent_a.name in details["license_scope"]
    assert "不能再许可他人实施" in details["license_scope"]
    details = _refused(second, kind="open_license")
    assert "独占许可期间" in details["kind"]
    # the right itself may still be assigned (the licence survives the transfer)
    sign(second, kind="转让", license_scope="exclusive")
    assert second.contract.kind == ContractKind.ASSIGNMENT
    assert second.contract.license_scope is None  # a scope sent for another kind is dropped


def test_two_exclusive_terms_may_not_overlap_but_may_follow(world):
    # pushed before the licence was signed (a push after it is refused: tests/matching/test_holds)
    first = world.own_deal()
    second = _second_deal(world, first)
    sign(first, license_scope="sole", license_until=LATER)
    details = _refused(second, license_scope="exclusive", license_until=LATER)
    assert "排他许可" in details["license_scope"]


def test_an_ordinary_licence_rules_nothing_out(world):
    first = sign(world.own_deal(), license_scope="ordinary")
    second = sign(_second_deal(world, first), license_scope="ordinary")
    assert second.contract.license_scope == LicenseScope.ORDINARY


def test_correcting_the_exclusive_contract_itself_is_not_a_conflict(world):
    deal = sign(world.own_deal(), license_scope="exclusive", license_until=LATER)
    data = contract_data(license_scope="exclusive", license_until=LATER, record_no="2026-补录")
    services.record_contract(deal.id, data, world.officer, expected_version=deal.version)
    db.session.refresh(deal)
    assert deal.contract.record_no == "2026-补录"


def test_no_exclusive_licence_while_an_open_licence_is_declared(world):
    deal = world.own_deal()
    make_declaration(deal.patent)
    details = _refused(deal, license_scope="exclusive", license_until=LATER)
    assert "开放许可期间" in details["license_scope"]
    # an ordinary licence is what an open licence is made of
    sign(deal, license_scope="ordinary")


def test_no_open_licence_declared_during_an_exclusive_licence(world):
    deal = sign(world.own_deal(), license_scope="exclusive", license_until=LATER)
    admin = world.users[Role.UNIVERSITY_ADMIN]
    with pytest.raises(licensing.DeclarationRejected, match="独占许可合同，许可期限至"):
        licensing.declare(deal.patent_id, valid_body(), actor=admin)
    form = licensing.declaration_form(deal.patent_id, actor=admin)
    assert any("不能声明开放许可" in message for _, message in form.problems)


def test_the_pool_patent_page_says_an_exclusive_licence_is_in_force(world, client, auth):
    deal = world.own_deal()
    auth.login(make_user(Role.ENTERPRISE, organization=world.ent_b))  # another enterprise
    page = client.get(f"/pool/patents/{deal.patent_id}").get_data(as_text=True)
    assert "可接受的转化方式" in page and 'id="exclusive-licence"' not in page
    sign(deal, license_scope="exclusive", license_until=LATER)
    page = client.get(f"/pool/patents/{deal.patent_id}").get_data(as_text=True)
    assert f"独占许可中，至 {LATER}" in page
    assert world.ent_a.name not in page  # the licensee is the parties' business


def test_an_open_licence_contract_needs_a_declaration_in_effect_that_day(world):
    deal = world.own_deal()
    details = _refused(deal, kind="open_license")
    assert "没有生效的开放许可声明" in details["kind"]
    make_declaration(deal.patent, start_date=local_today() + timedelta(days=1))
    assert "没有生效的开放许可声明" in _refused(deal, kind="open_license")["kind"]
    other = make_deal(enterprise=world.ent_b, officer=world.officer)
    make_declaration(other.patent, start_date=local_today() - timedelta(days=30))
    sign(other, kind="open_license")
    assert other.contract.kind == ContractKind.OPEN_LICENSE


def test_a_declaration_withdrawn_before_the_signing_day_does_not_count(world):
    from revive.licensing.models import DeclarationStatus

    deal = world.own_deal()
    d = make_declaration(deal.patent, status=DeclarationStatus.WITHDRAWN)
    d.withdrawn_at = d.withdrawn_at - timedelta(days=2)
    db.session.commit()
    assert "没有生效的开放许可声明" in _refused(deal, kind="open_license")["kind"]


def test_no_exclusive_licence_over_an_ordinary_one_in_force(world):
    """A security review recorded an exclusive licence while an ordinary licence of the same
    patent was in force: the rule only looked the other way."""
    first = sign(world.own_deal(), license_scope="ordinary", license_until=LATER)
    second = _second_deal(world, first)
    details = _refused(second, license_scope="exclusive", license_until=LATER)
    assert (
        "普通许可" in details["license_scope"] and f"许可期限至 {LATER}" in details["license_scope"]
    )
    assert "不能给予独占或排他许可" in details["license_scope"]


def test_an_ordinary_licence_without_a_term_counts_as_in_force(world):
    first = sign(world.own_deal(), license_scope="ordinary")
    details = _refused(_second_deal(world, first), license_scope="sole", license_until=LATER)
    assert "未填写许可期限，视为仍在有效期内" in details["license_scope"]
    assert "补填许可期限" in details["license_scope"]


def test_an_exclusive_licence_may_follow_an_ordinary_one_that_has_ended(world):
    first = sign(world.own_deal(), license_scope="ordinary", license_until=LATER)
    c = first.contract
    c.signed_on, c.license_until = date(2024, 1, 1), local_today() - timedelta(days=1)
    db.session.commit()
    second = sign(_second_deal(world, first), license_scope="exclusive", license_until=LATER)
    assert second.contract.license_scope == LicenseScope.EXCLUSIVE


@pytest.mark.parametrize("typed", ["20290101", "2029-W01-1"])
def test_dates_are_written_as_the_form_says(world, typed):
    """date.fromisoformat also reads 20290101 and ISO week dates; the form asks YYYY-MM-DD."""
    details = _refused(world.own_deal(), license_scope="exclusive", license_until=typed)
    assert "请按 YYYY-MM-DD 填写" in details["license_until"]
    details = _refused(world.own_deal(), signed_on=typed.replace("2029", "2026"))
    assert "YYYY-MM-DD" in details["signed_on"]
