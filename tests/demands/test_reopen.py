"""重新开放: a closed demand can be opened again — by its enterprise when it closed it itself,
by staff always — and is matched again; a passed deadline must be replaced or cleared; the
deals its closing ended stay 未成交 and their officers hear of the reopening."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.clock import local_today
from revive.deals import services as deal_services
from revive.deals.models import Deal, Stage
from revive.deals.reasons import DEMAND_CLOSED
from revive.demands import services
from revive.demands.models import Demand, DemandStatus
from revive.errors import InvalidTransition
from revive.extensions import db
from revive.matching.models import MatchRun, RunScope, RunStatus
from revive.notifications.models import Notification
from tests.demands.helpers import make_demand
from tests.demands.test_close import _deal_on


def _demand(demand_id: int) -> Demand:
    db.session.expire_all()
    return db.session.get(Demand, demand_id)


def _queued_runs(demand_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            MatchRun.scope == RunScope.DEMAND,
            MatchRun.demand_id == demand_id,
            MatchRun.status == RunStatus.QUEUED,
        )
    )


def test_the_enterprise_reopens_what_it_closed_and_it_is_matched_again(world, client, auth):
    owner = world.users[Role.ENTERPRISE]
    demand = make_demand(world.ent_a, deadline=local_today() + timedelta(days=30))
    services.close_demand(demand.id, actor=owner, reason="已找到合作方")
    before = _queued_runs(demand.id)
    auth.login(owner)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert 'id="demand-reopen"' in html
    page = client.get(f"/demands/{demand.id}/reopen").get_data(as_text=True)
    assert "已找到合作方" in page and (local_today() + timedelta(days=30)).isoformat() in page
    r = client.post(
        f"/demands/{demand.id}/reopen",
        data={"deadline": (local_today() + timedelta(days=60)).isoformat(), "version": 2},
    )
    assert r.status_code == 302
    reopened = _demand(demand.id)
    assert reopened.status == DemandStatus.OPEN
    assert reopened.closed_at is None and reopened.close_reason is None
    assert reopened.deadline == local_today() + timedelta(days=60)
    assert _queued_runs(demand.id) == before + 1
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(
            AuditEvent.entity_id == demand.id, AuditEvent.action == "reopen"
        )
    ).all()
    assert event.actor_id == owner.id and event.data["reason"] == "已找到合作方"
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "征集中" in html and "关闭需求" in html and 'id="demand-reopen"' not in html
    # the enterprise reopening its own demand is not told about it
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Notification.kind == "demand_reopened"))
        == 0
    )
    # and it can be closed again, and its page names the latest closer
    services.close_demand(demand.id, actor=owner, reason="第二次关闭")
    assert _demand(demand.id).close_reason == "第二次关闭"


def test_what_staff_closed_only_staff_reopen_and_the_enterprise_is_told(world, client, auth):
    officer = world.users[Role.OFFICER]
    demand = make_demand(world.ent_a)
    services.close_demand(demand.id, actor=officer, reason="重复发布")
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert 'id="demand-reopen"' not in html
    page = client.get(f"/demands/{demand.id}/reopen").get_data(as_text=True)
    assert 'id="reopen-refused"' in page and "只能由技术经理人或平台管理员重新开放" in page
    r = client.post(f"/demands/{demand.id}/reopen", data={"deadline": "", "version": 2})
    assert r.status_code == 403
    r = client.post(f"/api/v1/demands/{demand.id}/reopen", json={})
    assert r.status_code == 403 and "技术经理人" in r.get_json()["message"]
    assert _demand(demand.id).status == DemandStatus.CLOSED
    auth.logout()
    auth.login(officer)
    r = client.post(f"/api/v1/demands/{demand.id}/reopen", json={})
    assert r.status_code == 200 and r.get_json()["status"] == "open"
    [note] = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "demand_reopened")
    ).all()
    assert note.organization_id == world.ent_a.id and officer.name in note.body


def test_a_passed_deadline_must_be_replaced_or_cleared(world, client, auth):
    owner = world.users[Role.ENTERPRISE]
    demand = make_demand(world.ent_a, status=DemandStatus.CLOSED)
    passed = local_today() - timedelta(days=3)
    demand.deadline = passed
    db.session.commit()
    auth.login(owner)
    r = client.post(
        f"/demands/{demand.id}/reopen", data={"deadline": passed.isoformat(), "version": 2}
    )
    assert r.status_code == 422
    assert "已过" in r.get_data(as_text=True) and passed.isoformat() in r.get_data(as_text=True)
    r = client.post(f"/api/v1/demands/{demand.id}/reopen", json={})  # keeps the passed one
    assert r.status_code == 422 and "已过" in r.get_json()["message"]
    r = client.post(f"/api/v1/demands/{demand.id}/reopen", json={"deadline": "明天"})
    assert r.status_code == 422
    assert _demand(demand.id).status == DemandStatus.CLOSED
    r = client.post(f"/api/v1/demands/{demand.id}/reopen", json={"deadline": None})
    assert r.status_code == 200
    assert _demand(demand.id).deadline is None


def test_an_open_demand_or_a_stale_form_is_not_reopened(world, client, auth):
    owner = world.users[Role.ENTERPRISE]
    demand = make_demand(world.ent_a)
    auth.login(owner)
    r = client.post(f"/demands/{demand.id}/reopen", data={"deadline": ""}, follow_redirects=True)
    assert r.request.path == f"/demands/{demand.id}" and "需求已在征集中" in r.get_data(
        as_text=True
    )
    assert client.post(f"/api/v1/demands/{demand.id}/reopen", json={}).status_code == 409
    services.close_demand(demand.id, actor=owner, reason="不需要了")
    r = client.post(f"/demands/{demand.id}/reopen", data={"deadline": "", "version": 1})
    assert r.status_code == 409 and "刷新" in r.get_data(as_text=True)
    assert _demand(demand.id).status == DemandStatus.CLOSED


def test_deals_ended_by_closing_stay_ended_and_their_officer_may_reopen_them(world):
    deal = _deal_on(world)
    owner, officer = world.users[Role.ENTERPRISE], world.users[Role.OFFICER]
    services.close_demand(deal.demand_id, actor=owner, reason="公司调整方向")
    with pytest.raises(InvalidTransition):  # no deal of a closed demand comes back
        deal_services.change_stage(deal.id, "reopen", officer, comment="试试")
    services.reopen_demand(deal.demand_id, actor=owner, deadline=None)
    db.session.expire_all()
    ended = db.session.get(Deal, deal.id)
    assert ended.stage == Stage.FAILED and ended.failure_reason == DEMAND_CLOSED
    [note] = db.session.scalars(
        sa.select(Notification).where(
            Notification.user_id == officer.id, Notification.title.like("需求已重新开放%")
        )
    ).all()
    assert note.link.endswith(f"/deals/{deal.id}") and "重新开启" in note.body
    # the officer can now bring the deal back (refused while the demand was closed)
    back = deal_services.change_stage(deal.id, "reopen", officer, comment="企业重新开放了需求")
    assert back.stage == Stage.RECOMMENDED
