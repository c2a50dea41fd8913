"""Contracts in force and past deals in the eligibility both directions apply (matching.holds):
a patent under a sole or exclusive licence in force is proposed to nobody, a patent an
enterprise already holds a contract on is not proposed to that enterprise again, a push of
such a pair is refused with the contract named, and a pair whose deal failed is proposed again
marked 曾对接未成交.

A tester had licensed a patent exclusively to an enterprise (term to 2031); the enterprise's
next demand listed the same patent (中 11%) with no mark, it was accepted and a deal created;
only signing refused, calling the licensee itself 他人."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.clock import local_today
from revive.deals import services as deal_services
from revive.deals.models import Deal, Stage
from revive.demands.models import Demand
from revive.errors import InvalidTransition, ValidationFailed
from revive.extensions import db
from revive.matching import jobs
from revive.matching import pairs as matching_pairs
from revive.matching.models import Match, MatchState, RunScope
from revive.review import services as review
from tests.deals.helpers import advance, contract_data, make_deal, sign
from tests.factories import make_org, make_user
from tests.matching.helpers import BATTERY, drain, entered, make_demand, make_enterprise

LATER = (local_today() + timedelta(days=5 * 365)).isoformat()
NEED = {
    "title": "高镍正极材料包覆改性技术",
    "description": "需要高镍三元正极材料的包覆改性技术，提高锂离子电池能量密度和循环寿命。",
}


@pytest.fixture
def scene(app, enqueued):
    uni = make_org("甲大学")
    ent_a, ent_b = make_enterprise("甲科技有限公司"), make_enterprise("乙制造有限公司")
    officer = make_user(Role.OFFICER)
    patent = entered(uni, **BATTERY)
    return uni, ent_a, ent_b, officer, patent


def _match_all(enqueued) -> None:
    jobs.request_index_build()
    drain(enqueued)
    jobs.request_match_run(RunScope.ALL_DEMANDS)
    drain(enqueued)
    db.session.expire_all()


def _proposed(demand_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Match.patent_id).where(
                Match.demand_id == demand_id, Match.state == MatchState.CANDIDATE
            )
        )
    )


def test_an_exclusive_licence_in_force_keeps_the_patent_from_everyone(scene, enqueued):
    uni, ent_a, ent_b, officer, patent = scene
    other = entered(uni, **BATTERY)  # the same technology, not licensed
    sign(make_deal(patent=patent, enterprise=ent_a, officer=officer), **_exclusive())
    mine, theirs = make_demand(ent_a, **NEED), make_demand(ent_b, **NEED)
    _match_all(enqueued)
    assert patent.id not in _proposed(mine.id) | _proposed(theirs.id)
    assert other.id in _proposed(mine.id) and other.id in _proposed(theirs.id)
    # the patent page agrees, and says why
    found = matching_pairs.demands_for_patent(officer, patent)
    assert not found.listed
    assert "独占许可" in found.patent_rule and ent_a.name in found.patent_rule
    assert LATER in found.patent_rule
    assert {d.id for d, _, _ in found.left_out} >= {mine.id, theirs.id}


def test_a_patent_the_enterprise_holds_is_not_proposed_to_it_again(scene, enqueued):
    uni, ent_a, ent_b, officer, patent = scene
    sign(make_deal(patent=patent, enterprise=ent_a, officer=officer), license_scope="ordinary")
    mine, theirs = make_demand(ent_a, **NEED), make_demand(ent_b, **NEED)
    _match_all(enqueued)
    assert patent.id not in _proposed(mine.id)
    assert patent.id in _proposed(theirs.id)  # an ordinary licence: others may be licensed
    found = matching_pairs.demands_for_patent(officer, patent)
    assert theirs.id in {d.id for d, _, _ in found.listed}
    rules = {d.id: rule for d, _, rule in found.left_out}
    assert "需求企业已持有该专利的合同" in rules[mine.id] and "普通许可" in rules[mine.id]


def test_signing_drops_the_candidates_the_contract_rules_out(scene, enqueued):
    uni, ent_a, ent_b, officer, patent = scene
    mine, theirs = make_demand(ent_a, **NEED), make_demand(ent_b, **NEED)
    _match_all(enqueued)
    assert patent.id in _proposed(mine.id) and patent.id in _proposed(theirs.id)
    sign(make_deal(patent=patent, enterprise=ent_a, officer=officer), **_exclusive())
    db.session.expire_all()
    assert patent.id not in _proposed(mine.id) | _proposed(theirs.id)


@pytest.mark.parametrize("scope", ["exclusive", "ordinary"])
def test_pushing_a_held_pair_is_refused_with_the_contract(scene, scope):
    uni, ent_a, ent_b, officer, patent = scene
    kw = _exclusive() if scope == "exclusive" else {"license_scope": "ordinary"}
    sign(make_deal(patent=patent, enterprise=ent_a, officer=officer), **kw)
    # added by hand (or proposed before the contract), then accepted
    demand = make_demand(ent_a, **NEED)
    match = Match(demand_id=demand.id, patent_id=patent.id, score=0.5)
    db.session.add(match)
    db.session.commit()
    with pytest.raises(InvalidTransition) as err:
        review.decide(match.id, "accepted", officer)
    db.session.rollback()
    assert ent_a.name in err.value.message and "该企业已持有该专利的合同" in err.value.message
    assert db.session.scalar(sa.select(Deal).where(Deal.match_id == match.id)) is None
    assert db.session.get(Match, match.id).state == MatchState.CANDIDATE
    if scope == "exclusive":  # nobody else either
        other = make_demand(ent_b, **NEED)
        match = Match(demand_id=other.id, patent_id=patent.id, score=0.5)
        db.session.add(match)
        db.session.commit()
        with pytest.raises(InvalidTransition) as err:
            review.decide(match.id, "accepted", officer)
        db.session.rollback()
        assert "独占许可" in err.value.message and "不能再许可其他企业实施" in err.value.message


@pytest.mark.parametrize("scope", ["exclusive", "ordinary"])
def test_a_held_pair_is_refused_when_asked_for_or_added_by_hand(scene, scope):
    """Not only when an officer accepts it: the enterprise's 申请对接 and an officer's hand-added
    candidate are refused at once, saying why (an enterprise is not told who holds another's
    exclusive licence)."""
    from revive.matching import manual

    uni, ent_a, ent_b, officer, patent = scene
    kw = _exclusive() if scope == "exclusive" else {"license_scope": "ordinary"}
    sign(make_deal(patent=patent, enterprise=ent_a, officer=officer), **kw)
    holder = make_user(Role.ENTERPRISE, organization=ent_a)

    def held_pairs() -> int:
        mine = sa.select(Demand.id).where(Demand.enterprise_id == ent_a.id)
        return db.session.scalar(
            sa.select(sa.func.count(Match.id)).where(
                Match.patent_id == patent.id, Match.demand_id.in_(mine)
            )
        )

    before = held_pairs()
    with pytest.raises(InvalidTransition, match="贵企业已持有该专利的合同"):
        manual.submit_intent(holder, patent.id, "再了解一下", demand_id=make_demand(ent_a).id)
    db.session.rollback()
    with pytest.raises(InvalidTransition, match="需求企业已持有该专利的合同"):
        manual.add_candidate(officer, make_demand(ent_a).id, patent.id)
    db.session.rollback()
    other = make_user(Role.ENTERPRISE, organization=ent_b)
    theirs = make_demand(ent_b)
    if scope == "exclusive":
        with pytest.raises(InvalidTransition) as err:
            manual.submit_intent(other, patent.id, "想了解", demand_id=theirs.id)
        assert "独占（或排他）许可期内" in err.value.message
        assert ent_a.name not in err.value.message
        db.session.rollback()
        with pytest.raises(InvalidTransition, match="不能推荐"):
            manual.add_candidate(officer, theirs.id, patent.id)
        db.session.rollback()
    else:  # an ordinary licence leaves the patent to others
        assert manual.submit_intent(other, patent.id, "想了解", demand_id=theirs.id).id
    assert held_pairs() == before  # nothing was asked for or added for the holder


def test_the_licensee_is_not_called_someone_else(scene):
    uni, ent_a, ent_b, officer, patent = scene
    # two deals of one enterprise on the patent, pushed before either was signed
    first = make_deal(patent=patent, enterprise=ent_a, officer=officer)
    second = make_deal(patent=patent, enterprise=ent_a, officer=officer)
    sign(first, **_exclusive())
    advance(second, Stage.CONTACTED, Stage.NEGOTIATING)
    with pytest.raises(ValidationFailed) as err:
        deal_services.record_contract(second.id, contract_data(license_scope="ordinary"), officer)
    text = err.value.details["license_scope"]
    assert "他人" not in text
    assert "该企业已持有该专利的许可" in text and f"#{first.id}" in text


def test_a_failed_deal_is_proposed_again_marked(scene, enqueued, client, auth):
    uni, ent_a, ent_b, officer, patent = scene
    deal = make_deal(patent=patent, enterprise=ent_a, officer=officer)
    deal_services.change_stage(deal.id, "fail", officer, reason="price")
    demand = make_demand(ent_a, **NEED)
    _match_all(enqueued)
    assert patent.id in _proposed(demand.id)
    auth.login(officer)
    html = client.get(f"/matching/demands/{demand.id}").get_data(as_text=True)
    row = html.split(f'data-patent-id="{patent.id}"')[1].split("</tr>")[0]
    assert "data-past-deal" in row and "曾对接未成交" in row and "价格未谈拢" in row
    queue = client.get("/review/").get_data(as_text=True)
    assert "曾对接未成交" in queue


def _exclusive() -> dict[str, str]:
    return {"license_scope": "exclusive", "license_until": LATER}
