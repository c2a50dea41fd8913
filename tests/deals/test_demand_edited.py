"""Editing what a demand asks after patents were pushed for it: its open deals say so, and
their other parties are asked to check the patent still fits."""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role
from revive.deals.models import Deal, DealEvent, Stage
from revive.demands import services as demand_services
from revive.extensions import db
from revive.notifications.models import Notification
from tests.deals.helpers import sign


def _edit(deal: Deal, actor, **record) -> None:
    demand_services.update_demand(deal.demand_id, record, actor=actor)
    db.session.expire_all()


def _notices(deal: Deal) -> list[Notification]:
    return list(
        db.session.scalars(
            sa.select(Notification).where(
                Notification.deal_id == deal.id, Notification.kind == "deal_demand_edited"
            )
        )
    )


def test_a_changed_description_is_noted_on_open_deals_and_told(world):
    deal = world.own_deal()
    enterprise = world.users[Role.ENTERPRISE]
    _edit(deal, enterprise, description="寻求一种蛋鸡养殖舍的智能集蛋装置")
    (event,) = db.session.scalars(
        sa.select(DealEvent).where(DealEvent.deal_id == deal.id, DealEvent.kind == "demand_edit")
    )
    assert "需求描述" in event.comment and event.to_stage == Stage.RECOMMENDED
    assert event.actor_id == enterprise.id
    told = {(n.organization_id, n.user_id) for n in _notices(deal)}
    assert told == {(world.uni_a.id, None), (None, world.officer.id)}  # not the editor's side
    assert all("请核对所推荐的专利是否仍切合" in n.body for n in _notices(deal))


def test_edits_that_leave_the_text_alone_tell_nobody(world):
    deal = world.own_deal()
    _edit(deal, world.users[Role.ENTERPRISE], deadline="2099-12-31")
    assert _notices(deal) == []


def test_signed_deals_are_not_asked_again(world):
    deal = sign(world.own_deal())
    _edit(deal, world.users[Role.ENTERPRISE], title="换一个题目的需求")
    assert _notices(deal) == []


def test_the_deal_page_shows_the_entry(world, client, auth):
    deal = world.own_deal()
    _edit(deal, world.users[Role.ENTERPRISE], title="改过的需求名称")
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert 'data-event-kind="demand_edit"' in page and "需求已修改" in page
    assert "需求内容已修改（需求名称）" in page
