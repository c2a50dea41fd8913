"""The pipeline's transition table: every (stage, action) and every (from, to) pair, and who
may perform each action. The expected tables are written out here, not derived from
revive.deals.workflow, so a change to the table has to change this test too."""

from __future__ import annotations

import pytest

from revive.accounts.models import Role
from revive.deals import services, workflow
from revive.deals.models import Deal, DealEvent, Stage, UniversityResponse
from revive.errors import InvalidTransition, NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db
from tests.deals.helpers import contract_data
from tests.factories import make_user

S = Stage
ACTION_NAMES = [
    "contact",
    "negotiate",
    "sign",
    "fail",
    "reopen",
    "back_to_recommended",
    "back_to_contacted",
]

# (stage, action) -> stage after; a pair not listed must be refused.
ALLOWED = {
    (S.RECOMMENDED, "contact"): S.CONTACTED,
    (S.CONTACTED, "negotiate"): S.NEGOTIATING,
    (S.NEGOTIATING, "sign"): S.SIGNED,
    (S.RECOMMENDED, "fail"): S.FAILED,
    (S.CONTACTED, "fail"): S.FAILED,
    (S.NEGOTIATING, "fail"): S.FAILED,
    (S.FAILED, "reopen"): S.RECOMMENDED,  # forced into 未成交 without history: back to start
    # one step back, with a reason (an officer's mis-click on 进入洽谈)
    (S.CONTACTED, "back_to_recommended"): S.RECOMMENDED,
    (S.NEGOTIATING, "back_to_contacted"): S.CONTACTED,
}
# (from, to) the API's "to" may ask for; every other pair is refused.
ALLOWED_PAIRS = {
    (S.RECOMMENDED, S.CONTACTED),
    (S.CONTACTED, S.NEGOTIATING),
    (S.NEGOTIATING, S.SIGNED),
    (S.RECOMMENDED, S.FAILED),
    (S.CONTACTED, S.FAILED),
    (S.NEGOTIATING, S.FAILED),
    (S.FAILED, S.RECOMMENDED),  # reopen, back to where it failed from (here: 已推荐)
    (S.CONTACTED, S.RECOMMENDED),
    (S.NEGOTIATING, S.CONTACTED),
}

_ARGS = {
    "back_to_recommended": {"comment": "误点了已接洽"},
    "back_to_contacted": {"comment": "误点了进入洽谈"},
    "fail": {"reason": "price"},
    "reopen": {"comment": "企业重新表达了意向"},
}


def _args(action: str) -> dict:
    """An action's arguments, made when the test runs: a contract dated at collection time
    (before Beijing midnight) was refused as signed before its deal was pushed (after it)."""
    return {"contract": contract_data()} if action == "sign" else _ARGS.get(action, {})


def _force(deal: Deal, stage: Stage) -> Deal:
    deal.stage = stage
    deal.failure_reason = "price" if stage == S.FAILED else None
    db.session.commit()
    return deal


def test_table_matches_the_documented_pipeline():
    got = {
        (src, a.name): a.target or S.RECOMMENDED
        for a in workflow.ACTIONS.values()
        for src in a.sources
    }
    assert got == ALLOWED
    assert {S.SIGNED, S.FAILED} == workflow.FINAL_STAGES
    assert set(workflow.ACTIONS) == set(ACTION_NAMES)


@pytest.mark.parametrize("action", ACTION_NAMES)
@pytest.mark.parametrize("stage", list(Stage), ids=lambda s: s.value)
def test_every_stage_action_pair(world, stage, action):
    deal = _force(world.own_deal(), stage)
    before = len(deal.events)
    if (stage, action) in ALLOWED:
        services.change_stage(deal.id, action, world.officer, **_args(action))
        db.session.refresh(deal)
        assert deal.stage == ALLOWED[(stage, action)]
        assert len(deal.events) == before + 1
        assert (deal.events[-1].from_stage, deal.events[-1].to_stage) == (stage, deal.stage)
    else:
        with pytest.raises(InvalidTransition):
            services.change_stage(deal.id, action, world.officer, **_args(action))
        db.session.rollback()
        db.session.refresh(deal)
        assert deal.stage == stage
        assert len(deal.events) == before


@pytest.mark.parametrize("target", list(Stage), ids=lambda s: s.value)
@pytest.mark.parametrize("stage", list(Stage), ids=lambda s: s.value)
def test_every_from_to_pair_by_target(world, stage, target):
    deal = _force(world.own_deal(), stage)
    kw = {"reason": "price", "comment": "重开", "contract": contract_data()}
    if (stage, target) in ALLOWED_PAIRS:
        services.change_stage(deal.id, "", world.officer, to=target.value, **kw)
        db.session.refresh(deal)
        assert deal.stage == target
    else:
        with pytest.raises(InvalidTransition):
            services.change_stage(deal.id, "", world.officer, to=target.value, **kw)
        db.session.rollback()
        db.session.refresh(deal)
        assert deal.stage == stage


def test_skipping_a_stage_is_refused(world):
    deal = world.own_deal()
    with pytest.raises(InvalidTransition):
        services.change_stage(deal.id, "", world.officer, to="negotiating")
    with pytest.raises(InvalidTransition):
        services.change_stage(deal.id, "sign", world.officer, contract=contract_data())


@pytest.mark.parametrize("failed_from", [S.RECOMMENDED, S.CONTACTED, S.NEGOTIATING])
def test_reopen_returns_to_the_stage_the_deal_failed_from(world, failed_from):
    deal = world.own_deal()
    path = {S.CONTACTED: ["contact"], S.NEGOTIATING: ["contact", "negotiate"]}
    for name in path.get(failed_from, []):
        services.change_stage(deal.id, name, world.officer)
    services.change_stage(deal.id, "fail", world.officer, reason="price")
    other = S.NEGOTIATING if failed_from != S.NEGOTIATING else S.RECOMMENDED
    with pytest.raises(InvalidTransition):  # asking for another stage is refused
        services.change_stage(deal.id, "reopen", world.officer, to=other, comment="重开")
    db.session.rollback()
    services.change_stage(deal.id, "reopen", world.officer, comment="企业重新联系")
    db.session.refresh(deal)
    assert deal.stage == failed_from
    assert deal.failure_reason is None and deal.failure_comment is None


def test_reopen_needs_a_comment(world):
    deal = world.own_deal()
    services.change_stage(deal.id, "fail", world.officer, reason="price")
    with pytest.raises(ValidationFailed, match="需要填写说明"):
        services.change_stage(deal.id, "reopen", world.officer)


def test_signed_is_final_even_for_the_platform_admin(world):
    deal = world.own_deal()
    services.change_stage(deal.id, "contact", world.officer)
    services.change_stage(deal.id, "negotiate", world.officer)
    services.record_contract(deal.id, contract_data(), world.officer)
    admin = world.users[Role.PLATFORM_ADMIN]
    for name in ACTION_NAMES:
        with pytest.raises(InvalidTransition):
            services.change_stage(deal.id, name, admin, **_args(name))
        db.session.rollback()


# ---------------------------------------------------------------------------- who may act

PARTY_ROLES = [Role.ENTERPRISE, Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR]
# action -> roles allowed on their own deal (staff on every deal)
ACTORS = {
    "contact": {Role.OFFICER, Role.PLATFORM_ADMIN, *PARTY_ROLES},
    "negotiate": {Role.OFFICER, Role.PLATFORM_ADMIN, *PARTY_ROLES},
    "sign": {Role.OFFICER, Role.PLATFORM_ADMIN},
    "fail": {Role.OFFICER, Role.PLATFORM_ADMIN},
    "reopen": {Role.OFFICER, Role.PLATFORM_ADMIN},
    "back_to_recommended": {Role.OFFICER, Role.PLATFORM_ADMIN},
    "back_to_contacted": {Role.OFFICER, Role.PLATFORM_ADMIN},
}
START = {
    "contact": S.RECOMMENDED,
    "negotiate": S.CONTACTED,
    "sign": S.NEGOTIATING,
    "fail": S.CONTACTED,
    "reopen": S.FAILED,
    "back_to_recommended": S.CONTACTED,
    "back_to_contacted": S.NEGOTIATING,
}


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("action", ACTION_NAMES)
def test_who_may_perform_each_action(world, action, role):
    deal = _force(world.own_deal(response=UniversityResponse.INTERESTED), START[action])
    user = world.users[role]
    if role in ACTORS[action]:
        services.change_stage(deal.id, action, user, **_args(action))
        db.session.refresh(deal)
        assert deal.stage != START[action]
        assert deal.events[-1].actor_id == user.id
    else:
        with pytest.raises(PermissionDenied):
            services.change_stage(deal.id, action, user, **_args(action))
        db.session.rollback()
        assert db.session.get(Deal, deal.id).stage == START[action]


def test_a_step_back_needs_a_reason_and_tells_the_parties(world):
    """An officer who clicked 进入洽谈 by mistake could only mark the deal 未成交 and reopen
    it: a failure in the history and both sides told it failed."""
    from revive.notifications.models import Notification

    deal = _force(world.own_deal(response=UniversityResponse.INTERESTED), S.NEGOTIATING)
    with pytest.raises(ValidationFailed):
        services.change_stage(deal.id, "back_to_contacted", world.officer)
    db.session.rollback()
    services.change_stage(deal.id, "back_to_contacted", world.officer, comment="误点了进入洽谈")
    deal = db.session.get(Deal, deal.id)
    assert deal.stage == S.CONTACTED and deal.failure_reason is None
    last = deal.events[-1]
    assert (last.from_stage, last.to_stage, last.comment) == (
        S.NEGOTIATING,
        S.CONTACTED,
        "误点了进入洽谈",
    )
    told = db.session.query(Notification).filter_by(deal_id=deal.id).all()
    assert {n.organization_id for n in told} >= {world.ent_a.id, world.uni_a.id}


def test_university_user_outside_the_patents_scope_cannot_act(world):
    """Same university, another college: neither the college admin nor a stranger inventor
    of that college's patent is a party to the deal."""
    deal = world.own_deal()
    outsider = make_user(Role.COLLEGE_ADMIN, college=world.other_college_a)
    with pytest.raises(NotFoundError):
        services.change_stage(deal.id, "contact", outsider)
    assert db.session.query(DealEvent).filter_by(deal_id=deal.id).count() == 1


def test_the_parties_move_a_deal_only_after_the_university_answers_interested(world):
    """An enterprise could move a deal to 洽谈中 on its own while the university was still
    asked whether it wants to talk at all; now both parties wait for 愿意对接, and after
    暂不对接 only staff move the deal (an answer given to the officer by telephone)."""
    deal = world.own_deal()
    ent, inventor = world.users[Role.ENTERPRISE], world.users[Role.INVENTOR]
    with pytest.raises(InvalidTransition, match="高校尚未答复是否愿意对接"):
        services.change_stage(deal.id, "contact", ent)
    with pytest.raises(InvalidTransition, match="请先答复是否愿意对接"):
        services.change_stage(deal.id, "contact", inventor)
    services.respond(deal.id, "declined", inventor, comment="团队已转向其他方向")
    with pytest.raises(InvalidTransition, match="暂不对接"):
        services.change_stage(deal.id, "contact", ent)
    db.session.rollback()
    assert db.session.get(Deal, deal.id).stage == S.RECOMMENDED

    services.respond(deal.id, "interested", inventor)
    services.change_stage(deal.id, "contact", ent)
    services.change_stage(deal.id, "negotiate", inventor)
    assert db.session.get(Deal, deal.id).stage == S.NEGOTIATING

    by_phone = world.own_deal()  # staff record what they learnt outside the platform
    services.change_stage(by_phone.id, "contact", world.officer)
    assert db.session.get(Deal, by_phone.id).stage == S.CONTACTED


def test_a_declined_deal_can_be_ended_with_the_universitys_answer_as_reason(world):
    deal = world.own_deal(response=UniversityResponse.DECLINED)
    services.change_stage(deal.id, "fail", world.officer, reason="declined")
    deal = db.session.get(Deal, deal.id)
    assert deal.stage == S.FAILED and deal.failure_reason == "declined"
