"""A closed demand is neither reviewed nor matched again (explore3 F2, F5, F12, F13): a
decision on its candidates or intents is refused (web, API, one or in bulk, the skip naming
the match), a re-match is refused and not offered, the match page says 需求已关闭 instead of
the form; the queue's header counts only demands with a candidate it lists, and the engine
page's 待审核 counts as the queue does."""

from __future__ import annotations

import html as htmllib

import pytest
import sqlalchemy as sa

from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.demands import services as demand_services
from revive.extensions import db
from revive.matching.models import DemandReading, MatchRun, MatchState, MatchTier
from tests.review.helpers import make_match, state_of

PAIR = "需求“动力电池正极材料” × 专利“甲校高镍正极材料”"


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


@pytest.fixture
def closed(world, auth):
    """The battery demand, closed by the officer, with an enterprise's intent still undecided
    (kept: the enterprise's record) and a machine candidate (dropped by the close)."""
    w = world
    intent = make_match(
        w.demands["battery"], w.patents["a1"], 0.6, intent_at=utcnow(), intent_message="想了解"
    )
    dropped = make_match(w.demands["battery"], w.patents["b1"], 0.5)
    ids = {"intent": intent, "dropped": dropped.id}
    demand_services.close_demand(w.demands["battery"].id, actor=w.officer, reason="企业已解决")
    auth.login(w.officer)
    return ids


def _decisions(match_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity == "match", AuditEvent.entity_id == match_id)
    )


def test_a_closed_demands_intent_is_not_decided_from_a_stale_tab(client, closed):
    intent = closed["intent"]
    page = _text(
        client.post(
            f"/review/matches/{intent.id}/decision",
            data={"decision": "rejected", "reason_code": "vague", "version": intent.version},
            follow_redirects=True,
        )
    )
    assert f"未能处理 {PAIR}：需求已关闭，不能再审核" in page
    assert "已否决" not in page
    # from the match page: the 409 page says why
    response = client.post(
        f"/review/matches/{intent.id}/decision",
        data={"decision": "accepted", "back": "match", "version": intent.version},
    )
    assert response.status_code == 409 and "需求已关闭" in _text(response)
    assert state_of(intent.id) == MatchState.CANDIDATE
    assert _decisions(intent.id) == 0  # nothing for the statistics or the training


def test_the_api_refuses_a_decision_on_a_closed_demand(client, closed):
    intent = closed["intent"]
    response = client.post(
        f"/api/v1/matches/{intent.id}/decision",
        json={"decision": "rejected", "reason_code": "vague"},
    )
    assert response.status_code == 409
    assert "需求已关闭" in response.get_json()["message"]
    response = client.post(
        "/api/v1/review/decisions",
        json={"match_ids": [intent.id], "decision": "rejected", "reason_code": "vague"},
    )
    body = response.get_json()
    assert body["done"] == [] and "需求已关闭" in body["skipped"][0]["message"]
    assert state_of(intent.id) == MatchState.CANDIDATE


def test_bulk_skips_name_the_match_and_say_why(client, closed):
    intent, dropped = closed["intent"], closed["dropped"]
    assert state_of(dropped) is None  # dropped by the close
    page = _text(
        client.post(
            "/review/decisions",
            data={
                "match_ids": [intent.id, dropped],
                "decision": "rejected",
                "reason_code": "vague",
            },
            follow_redirects=True,
        )
    )
    assert f"{PAIR}：需求已关闭，不能再审核" in page
    assert f"匹配 #{dropped}：该候选匹配已不存在（可能已被重新匹配移出前列，或需求已关闭）" in page
    assert "匹配结果不存在" not in page
    assert state_of(intent.id) == MatchState.CANDIDATE


def test_a_closed_demand_is_not_matched_again(client, world, closed):
    demand = world.demands["battery"]
    runs = db.session.scalar(sa.select(sa.func.count()).select_from(MatchRun))
    html = _text(client.get(f"/matching/demands/{demand.id}"))
    assert "matching.rematch" not in html and f"/matching/demands/{demand.id}/runs" not in html
    assert "data-demand-closed" in html
    page = _text(client.post(f"/matching/demands/{demand.id}/runs", follow_redirects=True))
    assert "需求已关闭，不能重新匹配" in page and "已提交重新匹配" not in page
    response = client.post(f"/api/v1/demands/{demand.id}/match-runs")
    assert response.status_code == 409
    assert response.get_json()["message"] == "需求已关闭，不能重新匹配"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MatchRun)) == runs


def test_the_match_page_says_the_demand_is_closed_instead_of_the_form(client, closed):
    html = _text(client.get(f"/matching/matches/{closed['intent'].id}"))
    decision = html.split('id="decision"')[1].split("</section>")[0]
    assert "需求已关闭" in decision and "data-demand-closed" in decision
    assert "采纳并推送给企业" not in decision and "<form" not in decision


def test_the_queue_and_the_engine_page_leave_closed_demands_out(client, world, closed):
    water = world.demands["water"]
    listed = make_match(water, world.patents["a2"], 0.4)
    make_match(water, world.patents["b1"], 0.1, tier=MatchTier.WEAK, strength=0.03)
    html = _text(client.get("/review/"))
    assert f'data-match-id="{closed["intent"].id}"' not in html
    assert f'data-match-id="{listed.id}"' in html
    assert "1 个需求有待审候选" in html
    engine = _text(client.get("/matching/"))
    assert "待审核 1" in engine and "另有较弱候选 1 条未计入" in engine


def test_the_queue_header_counts_only_demands_with_a_listed_candidate(client, world, auth):
    """explore3 F5/F12: 「N 个需求有待审候选」 counted demands whose card read 「待审候选 0 条」,
    and such a card said 「最早已等待 0 天」."""
    w = world
    water, battery = w.demands["water"], w.demands["battery"]
    db.session.add(DemandReading(demand_id=water.id, removed=[], needs=[]))
    db.session.commit()
    make_match(water, w.patents["a2"], 0.1, tier=MatchTier.WEAK, strength=0.03, age_days=5)
    make_match(battery, w.patents["a1"], 0.5, age_days=2)
    auth.login(w.officer)
    html = _text(client.get("/review/"))
    header = html.split('id="queue-total"')[1].split("</p>")[0]
    assert "1 个需求有待审候选" in header and "另有 1 个需求只有较弱候选" in header
    weak_card = html.split(f'id="demand-{water.id}"')[1].split("</section>")[0]
    assert "待审候选 0 条（另有较弱 1 条）" in weak_card and "最早已等待" not in weak_card
    card = html.split(f'id="demand-{battery.id}"')[1].split("</section>")[0]
    assert "最早已等待 2 天" in card
