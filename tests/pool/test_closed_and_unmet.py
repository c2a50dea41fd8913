"""The enterprise's demand page once the demand is closed (explore3 F1, F3), the one rule for
暂无合适专利 and the dashboard's 未满足需求 (F5), and a thin unmet demand's advice given
once (F11)."""

from __future__ import annotations

import sqlalchemy as sa

from revive.dashboard import activity
from revive.db import utcnow
from revive.demands import services as demand_services
from revive.demands.models import Demand
from revive.extensions import db
from revive.matching.models import DemandReading, Match, MatchSource, MatchTier
from tests.matching.helpers import make_demand
from tests.pool.conftest import abstaining_demand


def _candidate(demand: Demand, patent, **kw) -> Match:
    kw.setdefault("tier", MatchTier.STRONG)
    kw.setdefault("strength", 0.6)
    m = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        score=0.5,
        reasons=["硅碳"],
        source=MatchSource.MACHINE,
        **kw,
    )
    db.session.add(m)
    db.session.commit()
    return m


def _closed_demand(world, actor) -> Demand:
    demand = make_demand(world.ent, title="硅碳负极体积膨胀", description="硅碳负极循环寿命短")
    db.session.add(DemandReading(demand_id=demand.id, removed=[], needs=[]))
    db.session.commit()
    _candidate(demand, world.patents["silicon"], intent_at=utcnow(), intent_message="想了解")
    _candidate(demand, world.patents["battery"])
    demand_services.close_demand(demand.id, actor=actor, reason="公司调整方向")
    return demand


def test_a_closed_demands_page_says_it_is_closed_and_promises_no_review(client, auth, world):
    demand = _closed_demand(world, world.enterprise)
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    progress = html.split('id="demand-progress"')[1].split("</section>")[0]
    assert "data-demand-closed" in progress and "需求已关闭" in progress
    assert "公司调整方向" in progress and f"由您（{world.enterprise.name}）" in progress
    for promise in (
        "技术经理人审核中",
        "尚未经技术经理人审核",
        "技术经理人审核后会把合适的推送给您",
    ):
        assert promise not in html
    assert 'id="demand-suggestions"' not in html
    # the record stays: the intent, with its status
    intents = html.split('id="demand-intents"')[1].split("</section>")[0]
    assert "需求已关闭，不再审核" in intents and "想了解" in intents


def test_a_demand_closed_by_an_officer_says_who_and_tells_the_enterprise(client, auth, world):
    """No deals on it: the enterprise still hears of it, once, with who and why."""
    from revive.notifications.models import Notification

    demand = _closed_demand(world, world.officer)
    notes = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "demand_closed")
    ).all()
    assert len(notes) == 1 and notes[0].organization_id == world.ent.id
    assert world.officer.name in notes[0].body and "公司调整方向" in notes[0].body
    assert notes[0].link == f"/demands/{demand.id}"
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert f"技术经理人 {world.officer.name}" in html.split('id="demand-closed-by"')[1]
    progress = html.split('id="demand-progress"')[1].split("</section>")[0]
    assert f"由技术经理人 {world.officer.name}" in progress
    inbox = client.get("/inbox/").get_data(as_text=True)
    assert "已被技术经理人关闭" in inbox


def test_unmet_is_one_rule_on_the_demand_page_and_the_dashboard(client, auth, world):
    """An abstaining demand with weak candidates only reads 暂无合适专利 to the
    enterprise: the dashboard counts it unmet too, saying why."""
    demand = abstaining_demand(world, {world.patents["water"]: 0.03})
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "暂无合适专利" in html
    unmet_ids = set(db.session.scalars(sa.select(Demand.id).where(activity.unmet_clause())))
    assert demand.id in unmet_ids
    items, _ = activity.unmet_demands(None)
    [row] = [d for d in items if d.id == demand.id]
    assert row.reason == "没有达到推荐门槛的匹配（较弱候选 1 条）"
    figs = activity.unmet_figures()
    assert figs.below_bar == 1 and figs.unmet == figs.never_matched + figs.all_rejected + 1
    auth.logout()
    auth.login(world.officer)
    data = client.get("/api/v1/dashboard/unmet").get_json()
    assert data["below_bar"] == 1 and demand.title in [i["title"] for i in data["items"]]
    # a candidate officers review: neither unmet on the page nor on the dashboard
    _candidate(demand, world.patents["silicon"], tier=MatchTier.MEDIUM)
    assert demand.id not in set(
        db.session.scalars(sa.select(Demand.id).where(activity.unmet_clause()))
    )
    auth.logout()
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "暂无合适专利" not in html


def test_a_thin_unmet_demand_is_told_to_add_detail_once(client, auth, world):
    demand = make_demand(world.ent, title="求技术", description="求技术")
    db.session.add(
        DemandReading(demand_id=demand.id, removed=[], needs=[], is_thin=True, is_abstaining=True)
    )
    db.session.commit()
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "data-unmet" in html and "您的需求描述较短" in html
    assert html.count("补充技术细节") == 1
    assert "data-thin" not in html


def test_on_a_platform_with_no_patent_entered_the_demand_is_not_told_to_rewrite(
    client, auth, world
):
    """A new deployment: no patent in the pool yet. An unmet demand is told that, not to add
    detail or change its wording; once a patent is in the pool the usual advice returns."""
    from revive.inventory.models import ImplementationStatus, Patent

    demand = make_demand(world.ent, title="耐高温涂层", description="需要一种耐 800 度的陶瓷涂层")
    db.session.add(
        DemandReading(demand_id=demand.id, removed=[], needs=[], is_thin=False, is_abstaining=True)
    )
    db.session.execute(
        sa.update(Patent).values(implementation_status=ImplementationStatus.TRANSFERRED)
    )
    db.session.commit()
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    unmet = html.split("data-unmet")[1].split("</div>")[0]
    assert "data-pool-empty" in unmet and "平台上还没有入库的专利" in unmet
    assert "补充技术细节" not in unmet and "您的需求描述无需修改" in unmet

    db.session.execute(sa.update(Patent).values(implementation_status=None))
    db.session.commit()
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "data-pool-empty" not in html and "暂无合适专利" in html
