"""The close page says what closing ends — the demand's open deals, its unreviewed intents — and
warns before it ends them; a list that grew after the page was opened is shown again first."""

from __future__ import annotations

import re

import sqlalchemy as sa

from revive.accounts.models import Role
from revive.db import utcnow
from revive.deals.models import Deal, Stage
from revive.deals.reasons import DEMAND_CLOSED
from revive.demands import services
from revive.demands.models import Demand, DemandStatus
from revive.extensions import db
from revive.matching.models import Match
from revive.review import services as decisions
from tests.deals.helpers import make_deal, sign
from tests.demands.helpers import make_demand
from tests.matching.helpers import entered


def _deal_on(world, demand: Demand | None = None, **kw) -> Deal:
    """A deal pushed to 甲科技's demand (a new one unless given)."""
    if demand is None:
        return make_deal(
            university=world.uni, enterprise=world.ent_a, officer=world.users[Role.OFFICER], **kw
        )
    match = Match(demand_id=demand.id, patent_id=entered(world.uni).id, score=0.5, terms=[])
    db.session.add(match)
    db.session.commit()
    decisions.decide(match.id, "accepted", world.users[Role.OFFICER])
    return db.session.scalar(sa.select(Deal).where(Deal.match_id == match.id))


def _intent_on(world, demand: Demand) -> Match:
    match = Match(
        demand_id=demand.id, patent_id=entered(world.uni, title="一种节水灌溉装置").id, score=0.3
    )
    match.terms, match.intent_message, match.intent_at = [], "想了解灌溉技术", utcnow()
    db.session.add(match)
    db.session.commit()
    return match


def _shown(html: str) -> str:
    m = re.search(r'name="shown" value="([^"]*)"', html)
    assert m, "the form carries the list it showed"
    return m.group(1)


def test_the_close_page_lists_open_deals_and_unreviewed_intents(world, client, auth):
    deal = _deal_on(world)
    demand = deal.demand
    signed = sign(_deal_on(world, demand))
    intent = _intent_on(world, demand)
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/demands/{demand.id}/close").get_data(as_text=True)
    assert 'id="close-deals"' in html
    assert f'data-deal-id="{deal.id}"' in html and deal.patent.title in html
    assert f'data-deal-id="{signed.id}"' not in html  # signed deals are not ended
    assert "高校尚未答复" in html and "记为“未成交”" in html and "已签约的对接不受影响" in html
    assert 'id="close-intents"' in html and f'data-match-id="{intent.id}"' in html
    assert "一种节水灌溉装置" in html and "不再审核" in html
    assert "结束对接并关闭需求" in html and "data-confirm=" in html
    assert set(_shown(html).split(",")) == {f"deal:{deal.id}", f"intent:{intent.id}"}


def test_an_officer_closing_is_addressed_as_staff_and_the_enterprise_is_told(world, client, auth):
    """explore3 F3: the close page spoke to the officer as the enterprise (「您还有…」), and an
    enterprise whose demand staff closed — with no deals on it — heard nothing."""
    from revive.notifications.models import Notification

    demand = make_demand(world.ent_a)
    _intent_on(world, demand)
    officer = world.users[Role.OFFICER]
    auth.login(officer)
    html = client.get(f"/demands/{demand.id}/close").get_data(as_text=True)
    intents = html.split('id="close-intents"')[1].split("</div>")[0]
    assert "企业还有" in intents and "您还有" not in intents
    assert "data-enterprise-told" in html and "甲科技有限公司" in html
    r = client.post(
        f"/demands/{demand.id}/close",
        data={"reason": "企业电话告知已解决", "version": demand.version, "shown": _shown(html)},
    )
    assert r.status_code == 302
    [note] = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "demand_closed")
    ).all()
    assert note.organization_id == world.ent_a.id and note.user_id is None
    assert officer.name in note.body and "企业电话告知已解决" in note.body
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert f"技术经理人 {officer.name}" in html.split('id="demand-closed-by"')[1].split("</dd>")[0]
    # the enterprise's own close: no notice to itself, and its page still names who closed
    own = make_demand(world.ent_a, title="另一条需求")
    auth.logout()
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/demands/{own.id}/close").get_data(as_text=True)
    assert "data-enterprise-told" not in html
    services.close_demand(own.id, actor=world.users[Role.ENTERPRISE], reason="不需要了")
    assert (
        db.session.scalar(sa.select(sa.func.count()).where(Notification.kind == "demand_closed"))
        == 1
    )


def test_a_demand_with_nothing_going_closes_without_a_warning(world, client, auth):
    demand = make_demand(world.ent_a)
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/demands/{demand.id}/close").get_data(as_text=True)
    assert 'id="close-deals"' not in html and 'id="close-intents"' not in html
    assert "确认关闭" in html and _shown(html) == ""
    r = client.post(
        f"/demands/{demand.id}/close", data={"reason": "已解决", "version": 1, "shown": ""}
    )
    assert r.status_code == 302


def test_closing_through_the_page_ends_the_deals_and_the_university_sees_why(world, client, auth):
    deal = _deal_on(world)
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get(f"/demands/{deal.demand_id}/close").get_data(as_text=True)
    r = client.post(
        f"/demands/{deal.demand_id}/close",
        data={"reason": "公司调整方向", "version": deal.demand.version, "shown": _shown(html)},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Demand, deal.demand_id).status == DemandStatus.CLOSED
    ended = db.session.get(Deal, deal.id)
    assert ended.stage == Stage.FAILED and ended.failure_reason == DEMAND_CLOSED
    # the form sent twice lands on the closed demand
    again = client.post(
        f"/demands/{deal.demand_id}/close", data={"reason": "x"}, follow_redirects=True
    )
    assert again.request.path == f"/demands/{deal.demand_id}"
    assert "需求已关闭" in again.get_data(as_text=True)
    auth.logout()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "未成交" in page and "企业已关闭需求" in page
    assert "公司调整方向" not in page  # the close reason is the enterprise's
    assert 'id="respond"' not in page


def test_a_deal_pushed_after_the_page_was_opened_is_shown_before_closing(world, client, auth):
    first = _deal_on(world)
    demand = first.demand
    auth.login(world.users[Role.ENTERPRISE])
    shown = _shown(client.get(f"/demands/{demand.id}/close").get_data(as_text=True))
    late = _deal_on(world, demand)  # pushed while the page was open
    r = client.post(
        f"/demands/{demand.id}/close",
        data={"reason": "公司调整方向", "version": demand.version, "shown": shown},
    )
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "又有了新的对接" in html and f'data-deal-id="{late.id}"' in html
    assert "公司调整方向" in html  # what was typed is kept
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).status == DemandStatus.OPEN
    assert db.session.get(Deal, late.id).stage == Stage.RECOMMENDED
    r = client.post(
        f"/demands/{demand.id}/close",
        data={"reason": "公司调整方向", "version": demand.version, "shown": _shown(html)},
    )
    assert r.status_code == 302
    db.session.expire_all()
    assert {db.session.get(Deal, i).stage for i in (first.id, late.id)} == {Stage.FAILED}


def test_a_stale_close_form_is_shown_again_with_the_reason_kept(world, client, auth):
    demand = make_demand(world.ent_a)
    seen = demand.version
    # saved meanwhile (another window, a colleague)
    services.update_demand(demand.id, {"title": "改过的标题"}, actor=world.users[Role.OFFICER])
    auth.login(world.users[Role.ENTERPRISE])
    r = client.post(
        f"/demands/{demand.id}/close", data={"reason": "不需要了", "version": seen, "shown": ""}
    )
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "需求未关闭" in html and "不需要了" in html
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).status == DemandStatus.OPEN
