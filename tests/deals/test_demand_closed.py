"""Closing a demand ends its open deals (未成交, 企业已关闭需求) in the same transaction: the other
sides are told, the university is no longer awaited or reminded, signed deals stay, and a
closed demand's match is neither pushed nor its deal reopened."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.dashboard import activity
from revive.db import utcnow
from revive.deals import queries, services
from revive.deals.cli import end_closed_demand_deals_command
from revive.deals.models import Deal, DealEvent, Stage
from revive.deals.reasons import DEMAND_CLOSED, failure_label
from revive.demands import services as demand_services
from revive.demands.models import Demand, DemandStatus
from revive.errors import ConflictError, InvalidTransition, ValidationFailed
from revive.extensions import db
from revive.matching.models import Match, MatchState
from revive.notifications.models import Notification
from revive.review import services as decisions
from tests.audit.helpers import events
from tests.deals.helpers import advance, make_overdue, sign
from tests.matching.helpers import entered, make_demand

REASON = "公司调整方向，暂不引进"


def _deal(deal_id: int) -> Deal:
    db.session.expire_all()
    return db.session.get(Deal, deal_id)


def _notes(deal_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.deal_id == deal_id, Notification.kind == "deal_stage")
            .order_by(Notification.id)
        )
    )


def _by_recipient(notes: list[Notification]) -> dict[tuple[str, int], Notification]:
    return {
        (("org", n.organization_id) if n.organization_id else ("user", n.user_id)): n for n in notes
    }


def _close(world, demand_id: int, actor=None) -> Demand:
    actor = actor or world.users[Role.ENTERPRISE]
    return demand_services.close_demand(demand_id, actor=actor, reason=REASON)


def _second_deal_on(world, demand_id: int) -> Deal:
    """Another patent pushed to the same demand."""
    match = Match(
        demand_id=demand_id,
        patent_id=entered(world.uni_a, college=world.college_a).id,
        score=0.4,
        terms=[],
    )
    db.session.add(match)
    db.session.commit()
    decisions.decide(match.id, "accepted", world.officer)
    return db.session.scalar(sa.select(Deal).where(Deal.match_id == match.id))


# ---------------------------------------------------------------------------- the service


def test_closing_ends_the_open_deals_and_leaves_signed_and_failed_ones(world):
    fresh = world.own_deal()
    demand_id = fresh.demand_id
    talking = advance(_second_deal_on(world, demand_id), Stage.CONTACTED, Stage.NEGOTIATING)
    signed = sign(_second_deal_on(world, demand_id))
    lost = _second_deal_on(world, demand_id)
    services.change_stage(lost.id, "fail", world.officer, reason="price")
    before = {d.id: _deal(d.id).version for d in (signed, lost)}

    _close(world, demand_id)

    for deal_id, source in ((fresh.id, Stage.RECOMMENDED), (talking.id, Stage.NEGOTIATING)):
        deal = _deal(deal_id)
        assert deal.stage == Stage.FAILED
        assert deal.failure_reason == DEMAND_CLOSED
        assert failure_label(deal.failure_reason) == "企业已关闭需求"
        last = db.session.scalars(
            sa.select(DealEvent).where(DealEvent.deal_id == deal_id).order_by(DealEvent.id)
        ).all()[-1]
        assert (last.from_stage, last.to_stage) == (source, Stage.FAILED)
        assert last.actor_id == world.users[Role.ENTERPRISE].id
        assert last.comment == "企业已关闭需求"
        (audit,) = events(entity="deal", entity_id=deal_id, action="fail")
        assert audit.actor_id == world.users[Role.ENTERPRISE].id
        assert audit.data["reason"] == DEMAND_CLOSED
        assert audit.data["demand_id"] == demand_id
        assert audit.data["from_stage"] == source.value
    assert _deal(signed.id).stage == Stage.SIGNED
    assert _deal(lost.id).failure_reason == "price"
    assert {d.id: _deal(d.id).version for d in (signed, lost)} == before
    assert queries.open_deals_of_demand(demand_id) == []


def test_the_university_and_the_officer_are_told_the_enterprise_is_not(world):
    deal = world.own_deal(title="提高电池能量密度")
    _close(world, deal.demand_id)
    told = _by_recipient(_notes(deal.id))
    assert set(told) == {("org", world.uni_a.id), ("user", world.officer.id)}
    university = told[("org", world.uni_a.id)]
    assert "企业已关闭需求“提高电池能量密度”" in university.title
    assert "无需再答复" in university.body and "未成交" in university.body
    # the university never sees a closed demand: nor its close reason
    assert REASON not in university.title + university.body
    officer = told[("user", world.officer.id)]
    assert REASON in officer.body
    assert university.link == officer.link == f"/deals/{deal.id}"


def test_a_deal_already_answered_is_not_told_it_need_not_answer(world):
    deal = world.own_deal()
    services.respond(deal.id, "interested", world.users[Role.UNIVERSITY_ADMIN])
    _close(world, deal.demand_id)
    university = _by_recipient(_notes(deal.id))[("org", world.uni_a.id)]
    assert "无需再答复" not in university.body


def _demand_notes(demand_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(
                Notification.kind == "demand_closed", Notification.link == f"/demands/{demand_id}"
            )
            .order_by(Notification.id)
        )
    )


def test_staff_closing_the_demand_tell_the_enterprise_too(world):
    """The enterprise hears it once for the demand — who, why and the deals it ended — not
    once per deal."""
    deal = world.own_deal(title="提高电池能量密度")
    admin = world.users[Role.PLATFORM_ADMIN]
    _close(world, deal.demand_id, actor=admin)
    told = _by_recipient(_notes(deal.id))
    assert set(told) == {("org", world.uni_a.id), ("user", world.officer.id)}
    [note] = _demand_notes(deal.demand_id)
    assert note.organization_id == world.ent_a.id and note.deal_id is None
    assert "提高电池能量密度" in note.title and "平台管理员" in note.title
    assert admin.name in note.body and REASON in note.body
    assert deal.patent.title in note.body and "原阶段「已推荐」" in note.body
    # the officer who pushed it closes it: not told of their own act
    other = world.own_deal()
    _close(world, other.demand_id, actor=world.officer)
    assert set(_by_recipient(_notes(other.id))) == {("org", world.uni_a.id)}
    assert world.officer.name in _demand_notes(other.demand_id)[0].body


def test_closed_deals_are_no_longer_awaited_overdue_or_reminded(world):
    deal = make_overdue(world.own_deal())
    assert queries.is_overdue(deal)
    deals = sa.true()
    assert activity.overdue_counts(deals) == (1, 1)
    _close(world, deal.demand_id)
    deal = _deal(deal.id)
    assert not queries.is_overdue(deal)
    assert activity.overdue_counts(deals) == (0, 0)
    assert db.session.scalar(sa.select(sa.func.count()).where(queries.overdue_clause())) == 0
    assert services.notify_overdue() == []


def _unread(deal_id: int, organization_id: int) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification.kind)
            .where(
                Notification.deal_id == deal_id,
                Notification.organization_id == organization_id,
                Notification.read_at.is_(None),
            )
            .order_by(Notification.id)
        )
    )


def test_the_universitys_reply_reminders_are_settled_when_the_deal_ends(world):
    """The push (请在 N 天内答复) and the overdue reminder (请尽快答复) no longer sit unread next
    to 对接已结束…无需再答复; the enterprise's own notice and other deals are left alone."""
    deal = make_overdue(world.own_deal())
    services.notify_overdue()
    other = world.own_deal()  # another demand: still open
    assert _unread(deal.id, world.uni_a.id) == ["match_pushed", "response_overdue"]
    _close(world, deal.demand_id)
    assert _unread(deal.id, world.uni_a.id) == ["deal_stage"]
    settled = db.session.scalars(
        sa.select(Notification).where(
            Notification.deal_id == deal.id, Notification.kind == "response_overdue"
        )
    ).all()
    assert all(n.read_at is not None and n.read_by_id is None for n in settled if n.organization_id)
    assert _unread(deal.id, world.ent_a.id) == ["match_pushed"]
    assert _unread(other.id, world.uni_a.id) == ["match_pushed"]


def test_the_close_is_one_transaction_with_the_deals(world):
    """A deal saved elsewhere meanwhile (its version bumped after we read it): nothing of the
    close stays — the demand is open, the deal untouched — and the user is told to refresh."""
    deal = world.own_deal()
    db.session.get(Deal, deal.id)  # held in this session at version n
    db.session.execute(
        sa.text("UPDATE deals SET version = version + 1 WHERE id = :id"), {"id": deal.id}
    )
    with pytest.raises(ConflictError, match="请刷新页面"):
        _close(world, deal.demand_id)
    db.session.expire_all()
    assert db.session.get(Demand, deal.demand_id).status == DemandStatus.OPEN
    assert _deal(deal.id).stage == Stage.RECOMMENDED
    assert _notes(deal.id) == []
    assert events(entity="demand", entity_id=deal.demand_id, action="close") == []


def test_the_api_close_ends_the_deals_too(world, client, auth):
    deal = world.own_deal()
    auth.login(world.users[Role.ENTERPRISE])
    r = client.post(f"/api/v1/demands/{deal.demand_id}/close", json={"reason": REASON})
    assert r.status_code == 200 and r.get_json()["status"] == "closed"
    deal = _deal(deal.id)
    assert deal.stage == Stage.FAILED and deal.failure_reason == DEMAND_CLOSED
    body = client.get(f"/api/v1/deals/{deal.id}").get_json()
    assert body["failure_reason_label"] == "企业已关闭需求"
    assert body["days_in_stage"] is None  # a final stage has no running stay


# ---------------------------------------------------------------------------- afterwards


def test_a_closed_demands_match_is_not_pushed(world):
    """An intent (or any candidate) still undecided when the demand closed: accepting it
    creates no deal on the dead demand."""
    demand = make_demand(world.ent_a)
    match = Match(demand_id=demand.id, patent_id=entered(world.uni_a).id, score=0.5, terms=[])
    match.intent_message, match.intent_at = "想了解", utcnow()
    db.session.add(match)
    db.session.commit()
    _close(world, demand.id)
    with pytest.raises(InvalidTransition, match="需求已关闭"):
        decisions.decide(match.id, "accepted", world.officer)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deal)) == 0
    result = decisions.decide_selected([match.id], "accepted", world.officer)
    assert result["done"] == [] and "需求已关闭" in result["skipped"][0][1]
    assert db.session.get(Match, match.id).state == MatchState.CANDIDATE


def test_a_deal_of_a_closed_demand_is_not_reopened(world, client, auth):
    deal = world.own_deal()
    _close(world, deal.demand_id)
    with pytest.raises(InvalidTransition, match="企业已关闭需求"):
        services.change_stage(deal.id, "reopen", world.officer, comment="再试试")
    assert _deal(deal.id).stage == Stage.FAILED
    auth.login(world.officer)
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'data-action="reopen"' not in html
    assert "data-demand-closed" in html and "企业已关闭需求" in html


def test_the_platforms_reason_is_not_chosen_by_people(world, client, auth):
    deal = world.own_deal()
    with pytest.raises(ValidationFailed, match="请选择未成交原因"):
        services.change_stage(deal.id, "fail", world.officer, reason=DEMAND_CLOSED)
    auth.login(world.officer)
    html = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f'value="{DEMAND_CLOSED}"' not in html and 'value="price"' in html


def test_deals_left_open_on_demands_closed_earlier_are_ended_by_the_command(world, runner):
    """Demands closed before closing ended their deals: ``revive end-closed-demand-deals``."""
    stuck = world.own_deal()
    still_open = world.own_deal()
    db.session.execute(
        sa.update(Demand)
        .where(Demand.id == stuck.demand_id)
        .values(status=DemandStatus.CLOSED, closed_at=utcnow(), close_reason=REASON)
    )
    db.session.commit()
    result = runner.invoke(end_closed_demand_deals_command)
    assert result.exit_code == 0, result.output
    assert "已结束 1 条" in result.output
    deal = _deal(stuck.id)
    assert deal.stage == Stage.FAILED and deal.failure_reason == DEMAND_CLOSED
    assert (
        db.session.scalars(
            sa.select(DealEvent.actor_id)
            .where(DealEvent.deal_id == stuck.id)
            .order_by(DealEvent.id)
        ).all()[-1]
        is None
    )  # the platform
    assert set(_by_recipient(_notes(stuck.id))) == {
        ("org", world.uni_a.id),
        ("user", world.officer.id),
    }
    assert _deal(still_open.id).stage == Stage.RECOMMENDED
    assert "已结束 0 条" in runner.invoke(end_closed_demand_deals_command).output
