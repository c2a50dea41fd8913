"""A patent assigned (转让) or contributed as equity (作价入股) is no longer the university's:
signing such a contract withdraws its open licence, takes it out of the pool and the public
open-licence list, and no new declaration or application is accepted on it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.errors import InvalidTransition, NotFoundError
from revive.extensions import db
from revive.inventory import services as inventory
from revive.inventory.models import ImplementationStatus, Patent
from revive.inventory.public import gone_text, is_public, public_clause
from revive.licensing import applications
from revive.licensing import services as licensing
from revive.licensing.models import DeclarationStatus, OpenLicenceDeclaration
from revive.licensing.permissions import is_listed, listed_clause
from revive.pool import queries as pool
from tests.audit.helpers import events
from tests.deals.helpers import sign
from tests.licensing.helpers import make_declaration, valid_body


def _in_pool(patent: Patent) -> bool:
    return patent.id in db.session.scalars(sa.select(Patent.id).where(public_clause())).all()


def _listed(declaration: OpenLicenceDeclaration) -> bool:
    ids = db.session.scalars(
        sa.select(OpenLicenceDeclaration.id)
        .join(OpenLicenceDeclaration.patent)
        .where(listed_clause())
    ).all()
    return declaration.id in ids


@pytest.mark.parametrize(
    ("kind", "status"),
    [("转让", ImplementationStatus.TRANSFERRED), ("作价入股", ImplementationStatus.EQUITY)],
)
def test_signing_an_assignment_withdraws_the_open_licence_and_leaves_the_pool(world, kind, status):
    deal = world.own_deal()
    patent = deal.patent
    declaration = make_declaration(patent)
    assert is_public(patent) and _in_pool(patent) and _listed(declaration)

    sign(deal, kind=kind)
    db.session.expire_all()
    patent = db.session.get(Patent, patent.id)
    declaration = db.session.get(OpenLicenceDeclaration, declaration.id)
    assert patent.implementation_status == status
    assert declaration.status == DeclarationStatus.WITHDRAWN
    assert declaration.withdrawn_at is not None
    [event] = [e for e in events(entity="open_licence") if e.action == "withdraw"]
    assert event.entity_id == declaration.id and f"#{deal.id}" in event.data["reason"]
    assert not is_public(patent) and not _in_pool(patent)
    assert not _listed(declaration) and not is_listed(declaration)
    with pytest.raises(NotFoundError):
        pool.get_public_patent(patent.id)

    # No new declaration: the form lists the problem, declaring is refused.
    admin = world.users[Role.UNIVERSITY_ADMIN]
    form = licensing.declaration_form(patent.id, actor=admin)
    assert any("专利权已不属于本单位" in m for _, m in form.problems)
    with pytest.raises(licensing.DeclarationRejected, match="不能声明开放许可"):
        licensing.declare(patent.id, valid_body(), actor=admin)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OpenLicenceDeclaration.id)).where(
                OpenLicenceDeclaration.patent_id == patent.id,
                OpenLicenceDeclaration.status == DeclarationStatus.ACTIVE,
            )
        )
        == 0
    )


def test_a_signed_assignment_contract_refuses_a_declaration_even_if_the_status_was_edited(world):
    deal = sign(world.own_deal(), kind="转让")
    patent = db.session.get(Patent, deal.patent_id)
    patent.implementation_status = ImplementationStatus.NOT_IMPLEMENTED  # edited back by hand
    db.session.commit()
    with pytest.raises(licensing.DeclarationRejected, match=r"已转让（转让合同签订于 \d{4}-"):
        licensing.declare(patent.id, valid_body(), actor=world.users[Role.UNIVERSITY_ADMIN])


def test_a_licence_contract_keeps_the_open_licence_and_the_pool(world):
    deal = world.own_deal()
    declaration = make_declaration(deal.patent)
    sign(deal, kind="license")
    db.session.expire_all()
    declaration = db.session.get(OpenLicenceDeclaration, declaration.id)
    assert declaration.patent.implementation_status == ImplementationStatus.LICENSED
    assert declaration.status == DeclarationStatus.ACTIVE
    assert is_public(declaration.patent) and _listed(declaration)


def test_an_old_declaration_on_an_assigned_patent_takes_no_application(world):
    """A declaration left active on a patent marked 已转让 some other way (an edit, an import,
    data from before the withdrawal) is not offered and refuses applications."""
    deal = world.own_deal()
    declaration = make_declaration(deal.patent)
    deal.patent.implementation_status = ImplementationStatus.TRANSFERRED
    db.session.commit()
    assert not _listed(declaration)
    with pytest.raises((InvalidTransition, NotFoundError)):
        applications.application_form(declaration.id, actor=world.users[Role.ENTERPRISE])
    assert "已转让" in applications._problem(declaration, None)


@pytest.mark.parametrize("status", [ImplementationStatus.TRANSFERRED, ImplementationStatus.EQUITY])
def test_editing_the_status_to_assigned_withdraws_the_open_licence(world, status):
    """实施状态 set by hand (no contract on the platform) withdraws the declaration too, with
    the reason in the audit log; editing it back does not bring the declaration back."""
    patent = world.own_deal().patent
    declaration = make_declaration(patent)
    admin = world.users[Role.UNIVERSITY_ADMIN]

    inventory.update_patent(patent.id, {"implementation_status": status.label}, actor=admin)
    db.session.expire_all()
    declaration = db.session.get(OpenLicenceDeclaration, declaration.id)
    assert declaration.status == DeclarationStatus.WITHDRAWN
    [event] = [e for e in events(entity="open_licence") if e.action == "withdraw"]
    assert event.entity_id == declaration.id and event.actor_id == admin.id
    assert event.data["reason"] == f"实施状态改为{gone_text(status)}（编辑）"

    inventory.update_patent(patent.id, {"implementation_status": "未实施"}, actor=admin)
    inventory.update_patent(patent.id, {"implementation_status": status.label}, actor=admin)
    db.session.expire_all()
    assert db.session.get(OpenLicenceDeclaration, declaration.id).status == (
        DeclarationStatus.WITHDRAWN
    )
    assert len([e for e in events(entity="open_licence") if e.action == "withdraw"]) == 1


def test_an_edit_that_keeps_the_right_keeps_the_open_licence(world):
    patent = world.own_deal().patent
    declaration = make_declaration(patent)
    admin = world.users[Role.UNIVERSITY_ADMIN]
    inventory.update_patent(patent.id, {"implementation_status": "已许可"}, actor=admin)
    inventory.update_patent(patent.id, {"title": patent.title + "（修订）"}, actor=admin)
    db.session.expire_all()
    assert db.session.get(OpenLicenceDeclaration, declaration.id).status == DeclarationStatus.ACTIVE


def test_an_assigned_patent_leaves_the_review_queue_and_cannot_be_adopted(world):
    """A tester adopted a candidate proposed before the patent was assigned: a new deal asked
    both sides to answer for a right the university no longer had."""
    from revive.errors import InvalidTransition
    from revive.matching.models import Match, MatchSource, MatchState
    from revive.review import services as decisions
    from tests.matching.helpers import make_demand

    deal = world.own_deal()
    machine = Match(demand_id=make_demand().id, patent_id=deal.patent_id, score=0.4, terms=[])
    intent = Match(
        demand_id=make_demand().id,
        patent_id=deal.patent_id,
        score=0.3,
        terms=[],
        source=MatchSource.INTENT,
        intent_at=deal.pushed_at,
        intent_message="想了解许可条件",
    )
    db.session.add_all([machine, intent])
    db.session.commit()
    machine_id, intent_id = machine.id, intent.id
    sign(deal, kind="转让")
    db.session.expire_all()
    assert db.session.get(Match, machine_id) is None  # the engine's proposal is gone
    kept = db.session.get(Match, intent_id)  # the enterprise's request stays on record
    assert kept.state == MatchState.CANDIDATE
    with pytest.raises(InvalidTransition, match="已转让.*不能再推荐给企业"):
        decisions.decide(intent_id, "accepted", world.officer)
    decisions.decide(intent_id, "rejected", world.officer, reason_code="other", comment="已转让")
    assert db.session.get(Match, intent_id).state == MatchState.REJECTED


def test_a_patent_past_its_term_cannot_be_adopted(world):
    from datetime import date

    from revive.errors import InvalidTransition
    from revive.matching.models import Match
    from revive.review import services as decisions
    from tests.matching.helpers import make_demand

    deal = world.own_deal()
    patent = db.session.get(Patent, deal.patent_id)
    patent.filing_date = date(2004, 1, 5)  # an invention's 20 years ended in 2024
    match = Match(demand_id=make_demand().id, patent_id=patent.id, score=0.4, terms=[])
    db.session.add(match)
    db.session.commit()
    with pytest.raises(InvalidTransition, match="保护期已于 2024-01-05 届满"):
        decisions.decide(match.id, "accepted", world.officer)


def test_a_withdrawn_patent_cannot_be_adopted_nor_signed(world):
    """A concurrency test adopted a candidate whose patent the school had just withdrawn
    (撤回重审 → 退回), and signed a licence on an open deal of it."""
    from revive.deals.models import Stage
    from revive.errors import InvalidTransition, ValidationFailed
    from revive.inventory.models import EntryStatus
    from revive.matching.models import Match
    from revive.review import services as decisions
    from tests.deals.helpers import advance
    from tests.matching.helpers import make_demand

    deal = advance(world.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)
    match = Match(demand_id=make_demand().id, patent_id=deal.patent_id, score=0.4, terms=[])
    db.session.add(match)
    db.session.commit()
    school = world.users[Role.UNIVERSITY_ADMIN]
    inventory.perform_action(deal.patent_id, "reopen", actor=school, comment="权属有争议")
    assert db.session.get(Patent, deal.patent_id).status == EntryStatus.RETURNED
    with pytest.raises(InvalidTransition, match="当前为「退回」.*不能推荐给企业"):
        decisions.decide(match.id, "accepted", world.officer)
    with pytest.raises(ValidationFailed) as err:
        sign(deal)
    assert "重新入库后才能登记合同" in err.value.details["kind"]
    db.session.rollback()
    assert db.session.get(type(deal), deal.id).contract is None


def test_the_open_deals_of_a_withdrawn_patent_are_told_and_flagged(world, client, auth):
    from revive.deals.models import Stage
    from revive.notifications.models import Notification
    from tests.deals.helpers import advance

    deal = advance(world.own_deal(), Stage.CONTACTED)
    school = world.users[Role.UNIVERSITY_ADMIN]
    inventory.perform_action(deal.patent_id, "reopen", actor=school, comment="权属有争议")
    told = db.session.scalars(
        sa.select(Notification).where(Notification.deal_id == deal.id).order_by(Notification.id)
    ).all()
    withdrawn = [n for n in told if "撤回重审" in n.title]
    assert {(n.organization_id, n.user_id) for n in withdrawn} == {
        (world.ent_a.id, None),
        (None, world.officer.id),
    }
    assert all("权属有争议" in n.body and "不能登记合同" in n.body for n in withdrawn)
    assert db.session.get(type(deal), deal.id).stage == Stage.CONTACTED  # kept open
    auth.login(world.users[Role.ENTERPRISE])
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "data-patent-withdrawn" in page and "当前「退回」" in page
    demand_page = client.get(f"/demands/{deal.demand_id}").get_data(as_text=True)
    pushed = demand_page.split('id="demand-pushed"')[1].split("</section>")[0]
    assert "data-withdrawn" in pushed
    overview = client.get(f"/api/v1/demands/{deal.demand_id}/overview").get_json()
    assert [p["patent_withdrawn"] for p in overview["pushed"]] == [True]


def test_an_enterprise_hears_when_its_introduction_request_is_not_taken_up(world):
    """A tester's rejected 申请对接 left its inbox silent."""
    from revive.matching.models import Match, MatchSource
    from revive.notifications.models import Notification
    from revive.review import services as decisions
    from tests.matching.helpers import make_demand

    demand = make_demand(world.ent_a, title="压铸件缺陷检测")
    patent = world.own_deal().patent
    asked = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        score=0.3,
        terms=[],
        source=MatchSource.INTENT,
        intent_at=demand.created_at,
        intent_message="想了解许可条件",
    )
    machine = Match(demand_id=demand.id, patent_id=world.own_deal().patent_id, score=0.2, terms=[])
    db.session.add_all([asked, machine])
    db.session.commit()
    decisions.decide(asked.id, "rejected", world.officer, reason_code="too_costly")
    decisions.decide(machine.id, "rejected", world.officer, reason_code="wrong_field")
    (notice,) = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "intent_declined")
    )
    assert notice.organization_id == world.ent_a.id and patent.title in notice.title
    assert "压铸件缺陷检测" in notice.body and "成本" not in notice.body
    assert notice.link == f"/demands/{demand.id}"
