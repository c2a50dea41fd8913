"""Deciding from the queue: accept pushes (deal + both sides notified), reject needs a reason,
stale and repeated decisions are refused in Chinese, bulk skips what was already decided, and
a rejected pair is never proposed again after a re-match."""

from __future__ import annotations

import html as htmllib

import pytest
import sqlalchemy as sa

from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.deals.models import Deal, Stage
from revive.extensions import db
from revive.matching import jobs
from revive.matching.models import Match, MatchState, RunScope
from revive.notifications.models import Notification
from tests.matching.helpers import BATTERY_DEMAND, drain, make_demand, pool
from tests.review.helpers import make_match, state_of


def _text(response) -> str:
    return htmllib.unescape(response.get_data(as_text=True))


def _decide(client, match, **data):
    data.setdefault("version", match.version)
    return client.post(f"/review/matches/{match.id}/decision", data=data, follow_redirects=True)


@pytest.fixture
def cands(world, auth):
    w = world
    auth.login(w.officer)
    return {
        "a1": make_match(w.demands["battery"], w.patents["a1"], 0.6),
        "b1": make_match(w.demands["battery"], w.patents["b1"], 0.5),
        "a2": make_match(w.demands["water"], w.patents["a2"], 0.4),
    }


# ---------------------------------------------------------------------------- one by one


def test_accept_pushes_a_deal_and_notifies_enterprise_and_university(client, world, cands):
    m = cands["a1"]
    page = _text(_decide(client, m, decision="accepted"))
    assert "已采纳并推送给企业和高校：需求“动力电池正极材料” × 专利“甲校高镍正极材料”" in page
    assert state_of(m.id) == MatchState.ACCEPTED
    deal = db.session.scalar(sa.select(Deal).where(Deal.match_id == m.id))
    assert deal is not None
    assert (deal.stage, deal.enterprise_id, deal.university_id) == (
        Stage.RECOMMENDED,
        world.ent_a.id,
        world.uni_a.id,
    )
    assert deal.officer_id == world.officer.id
    notified = set(
        db.session.scalars(
            sa.select(Notification.organization_id).where(Notification.deal_id == deal.id)
        )
    )
    assert notified == {world.ent_a.id, world.uni_a.id}
    # the accepted candidate left the queue; the other one of the demand stays
    assert f'data-match-id="{m.id}"' not in page
    assert f'data-match-id="{cands["b1"].id}"' in page


def test_reject_records_reason_and_comment(client, world, cands):
    m = cands["b1"]
    page = _text(
        _decide(client, m, decision="rejected", reason_code="too_early", comment="仅实验室阶段")
    )
    assert "已否决（技术太早期）" in page
    db.session.expire_all()
    match = db.session.get(Match, m.id)
    assert (match.state, match.reason_code, match.comment) == (
        MatchState.REJECTED,
        "too_early",
        "仅实验室阶段",
    )
    assert match.decided_by_id == world.officer.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deal)) == 0
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.entity == "match", AuditEvent.entity_id == m.id)
    )
    assert event.action == "rejected" and event.data["reason"] == "too_early"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "rejected"}, "否决时请选择原因"),
        ({"decision": "rejected", "reason_code": "bogus"}, "否决时请选择原因"),
        ({"decision": "rejected", "reason_code": "other"}, "选择“其他”原因时请填写说明"),
        # a "reason" of invisible characters only (zero-width space, BOM, word joiner)
        (
            {"decision": "rejected", "reason_code": "other", "comment": "\u200b\ufeff \u2060"},
            "选择“其他”原因时请填写说明",
        ),
        ({"decision": "maybe"}, "请选择“采纳”或“否决”"),
    ],
)
def test_reject_needs_a_reason(client, cands, data, message):
    m = cands["a1"]
    page = _text(_decide(client, m, **data))
    assert message in page
    assert "未能处理 需求“动力电池正极材料” × 专利“甲校高镍正极材料”" in page
    assert state_of(m.id) == MatchState.CANDIDATE


def test_a_refused_decision_returns_to_the_demands_candidates(client, cands):
    """A tester's 其他 without a comment came back at the top of the queue, their place lost."""
    m = cands["a1"]
    response = client.post(
        f"/review/matches/{m.id}/decision",
        data={"decision": "rejected", "reason_code": "other", "version": m.version},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#demand-{m.demand_id}")
    page = client.get("/review/").get_data(as_text=True)
    # the browser asks for the comment before sending (app.js makes it required for 其他)
    assert f'data-require-when="other" data-require-target="comment-{m.id}"' in page


def test_stale_version_is_refused_in_chinese(client, cands):
    m = cands["a1"]
    page = _text(_decide(client, m, decision="accepted", version=m.version + 1))
    # still undecided: nobody handled it (the enterprise applied, or a run re-scored it)
    assert "该候选在您打开页面后有了更新" in page and "该匹配结果已被他人处理" not in page
    assert state_of(m.id) == MatchState.CANDIDATE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deal)) == 0


def test_a_stale_form_says_who_decided_when_and_how(client, cands, world):
    """A double submit, or a second window: the officer learns the outcome (and that it was
    them), not "已被他人处理"."""
    m = cands["a1"]
    version = m.version
    _decide(client, m, decision="rejected", reason_code="vague", version=version)
    page = _text(_decide(client, m, decision="rejected", reason_code="vague", version=version))
    assert "该匹配已由您于" in page and " 否决（" in page and "无需重复审核" in page
    assert "已否决（" not in page  # "已由您于 … 否决", not "已由您于 … 已否决"
    assert "已被他人处理，请刷新" not in page


@pytest.mark.parametrize("version", ["99999999999999999999", "1.0", "abc"])
def test_a_version_that_is_no_version_is_refused_not_ignored(client, cands, version):
    """A tampered or broken form cannot switch the stale-form check off."""
    m = cands["a1"]
    page = _text(_decide(client, m, decision="accepted", version=version))
    assert "版本号无效" in page
    assert state_of(m.id) == MatchState.CANDIDATE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deal)) == 0


def test_deciding_twice_is_refused_in_chinese(client, cands):
    m = cands["a1"]
    version = m.version
    _decide(client, m, decision="rejected", reason_code="vague", version=version)
    page = _text(_decide(client, m, decision="accepted", version=""))
    assert "该匹配结果已否决，不能重复审核" in page
    assert "已已" not in page
    assert state_of(m.id) == MatchState.REJECTED


def test_candidate_gone_after_rematch_is_explained(client, cands):
    m = cands["a1"]
    db.session.delete(db.session.get(Match, m.id))
    db.session.commit()
    page = _text(
        client.post(
            f"/review/matches/{m.id}/decision",
            data={"decision": "accepted"},
            follow_redirects=True,
        )
    )
    assert "该候选匹配已不存在" in page


# ---------------------------------------------------------------------------- bulk


def test_bulk_accept_reports_done_and_skipped(client, world, cands):
    decided = make_match(world.demands["water"], world.patents["b1"], 0.3)
    # someone else rejects it after the page was loaded
    decided.state, decided.reason_code = MatchState.REJECTED, "wrong_field"
    decided.decided_at = utcnow()
    db.session.commit()
    ids = [cands["a1"].id, decided.id, cands["a2"].id]
    page = _text(
        client.post(
            "/review/decisions",
            data={"decision": "accepted", "match_ids": [str(i) for i in ids]},
            follow_redirects=True,
        )
    )
    assert "已采纳并推送 2 条候选匹配。" in page
    assert (
        "跳过 1 条：需求“工业污水深度处理” × 专利“乙校锂电隔膜”：该匹配结果已否决，不能重复审核"
        in page
    )
    assert state_of(cands["a1"].id) == state_of(cands["a2"].id) == MatchState.ACCEPTED
    assert state_of(decided.id) == MatchState.REJECTED
    deals = set(db.session.scalars(sa.select(Deal.match_id)))
    assert deals == {cands["a1"].id, cands["a2"].id}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 4


def test_bulk_reject_with_reason(client, cands):
    ids = [cands["a1"].id, cands["b1"].id]
    page = _text(
        client.post(
            "/review/decisions",
            data={"decision": "rejected", "reason_code": "no_business_path", "match_ids": ids},
            follow_redirects=True,
        )
    )
    assert "已否决 2 条候选匹配。" in page
    db.session.expire_all()
    for i in ids:
        m = db.session.get(Match, i)
        assert (m.state, m.reason_code) == (MatchState.REJECTED, "no_business_path")
    assert state_of(cands["a2"].id) == MatchState.CANDIDATE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "rejected", "match_ids": ["A", "B"]}, "否决时请选择原因"),
        ({"decision": "accepted"}, "请先勾选要处理的候选匹配"),
        ({"decision": "accepted", "match_ids": ["x"]}, "无效的匹配编号"),
    ],
)
def test_bulk_refusals_change_nothing(client, cands, data, message):
    data = {**data}
    if data.get("match_ids") == ["A", "B"]:
        data["match_ids"] = [str(cands["a1"].id), str(cands["b1"].id)]
    page = _text(client.post("/review/decisions", data=data, follow_redirects=True))
    assert f"批量处理未执行：{message}" in page
    assert {state_of(m.id) for m in cands.values()} == {MatchState.CANDIDATE}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Deal)) == 0


def test_api_bulk_decisions(client, world, cands):
    cands["b1"].state, cands["b1"].reason_code = MatchState.REJECTED, "vague"
    cands["b1"].decided_at = utcnow()
    db.session.commit()
    response = client.post(
        "/api/v1/review/decisions",
        json={
            "match_ids": [cands["a1"].id, cands["b1"].id, 999999],
            "decision": "rejected",
            "reason_code": "other",
            "comment": "企业已有方案",
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["done"] == [cands["a1"].id]
    assert [s["id"] for s in body["skipped"]] == [cands["b1"].id, 999999]
    assert body["skipped"][1]["message"].startswith("该候选匹配已不存在")
    assert state_of(cands["a1"].id) == MatchState.REJECTED


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"match_ids": "1", "decision": "accepted"}, 422),
        ({"match_ids": [True], "decision": "accepted"}, 422),
        ({"match_ids": [], "decision": "accepted"}, 422),
        ({"decision": "accepted"}, 422),
    ],
)
def test_api_bulk_rejects_malformed_bodies(client, cands, body, status):
    response = client.post("/api/v1/review/decisions", json=body)
    assert response.status_code == status
    assert response.get_json()["error"] == "validation_failed"


def test_api_bulk_reject_without_reason_is_422(client, cands):
    response = client.post(
        "/api/v1/review/decisions", json={"match_ids": [cands["a1"].id], "decision": "reject"}
    )
    assert response.status_code == 422
    assert response.get_json()["message"] == "否决时请选择原因"
    assert state_of(cands["a1"].id) == MatchState.CANDIDATE


# ---------------------------------------------------------------------------- re-match


def test_rejected_pair_is_never_proposed_again_after_rematch(client, auth, world, enqueued):
    patents = pool(world.uni_a)
    demand = make_demand(world.ent_a, **BATTERY_DEMAND)
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    battery = db.session.scalar(
        sa.select(Match).where(
            Match.demand_id == demand.id, Match.patent_id == patents["battery"].id
        )
    )
    assert battery is not None and battery.state == MatchState.CANDIDATE
    auth.login(world.officer)
    client.post(
        f"/review/matches/{battery.id}/decision",
        data={
            "decision": "rejected",
            "reason_code": "alternative_exists",
            "version": battery.version,
        },
    )
    assert state_of(battery.id) == MatchState.REJECTED

    run = jobs.request_match_run(RunScope.DEMAND, demand.id)
    assert drain(enqueued) == ["matching.match_run"]
    db.session.refresh(run)
    assert (run.status.value, run.processed) == ("succeeded", 1)
    db.session.expire_all()
    pairs = db.session.scalars(
        sa.select(Match).where(
            Match.demand_id == demand.id, Match.patent_id == patents["battery"].id
        )
    ).all()
    assert [(m.id, m.state, m.reason_code) for m in pairs] == [
        (battery.id, MatchState.REJECTED, "alternative_exists")
    ]
    queued = client.get("/api/v1/review/queue").get_json()["items"]
    assert battery.id not in [c["id"] for g in queued for c in g["candidates"]]


def test_the_message_shows_beside_the_group_the_page_lands_on(client, world, cands):
    """UX review (o-push-after-d): after a single 采纳 the page lands on the demand's group
    (#demand-N), far below the top where the success message was. The message now shows in
    that group, and only there."""
    m = cands["a1"]
    page = _text(_decide(client, m, decision="accepted"))
    group = page.split(f'id="demand-{m.demand_id}"')[1].split("</section>")[0]
    assert "data-flash-here" in group and "已采纳并推送给企业和高校" in group
    assert page.count("已采纳并推送给企业和高校") == 1
    # the last candidate of a demand decided: its group is gone, the message stays at the top
    last = cands["a2"]
    page = _text(_decide(client, last, decision="accepted"))
    assert f'id="demand-{last.demand_id}"' not in page
    assert "已采纳并推送给企业和高校" in page and "data-flash-here" not in page
