"""A re-run of a demand gives one coherent ranking: decided pairs keep their decision and are
shown apart (with the rank they were decided at), the new candidates are ranked 1…n, and a
weak candidate below the engine's minimum similarity is not stored.

A tester rejected all 19 candidates of a demand and re-matched it: the list went to 39, twenty
new weak candidates (similarity down to 0.006) and ranks 1–20 twice; rank 6 had been missing
before (its patent was assigned after the run)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive import engine
from revive.accounts.models import Role
from revive.extensions import db
from revive.matching import indexes, jobs, tokens
from revive.matching import runs as matching_runs
from revive.matching.models import Match, MatchState, MatchTier, RunScope
from tests.factories import make_org, make_user
from tests.matching.helpers import BATTERY, decide_match, drain, entered, make_demand

# Patents that share a word or two with the demand, some more than others.
SUBJECTS = [
    ("一种高镍三元正极材料的包覆方法", "包覆改性正极材料，提高锂离子电池循环寿命。"),
    ("一种锂离子电池电解液添加剂", "提高锂离子电池高温循环寿命的电解液添加剂。"),
    ("一种动力电池模组的热管理系统", "动力电池模组的液冷热管理，提高安全性。"),
    ("一种钠离子电池负极材料", "硬碳负极材料，提高钠离子电池首次效率。"),
    ("一种电池回收中的镍钴分离方法", "从废旧电池浸出液中分离镍和钴。"),
    ("一种光伏组件清洗机器人", "光伏电站组件表面自动清洗，提高发电效率。"),
    ("一种污水处理用复合絮凝剂", "提高污水处理中悬浮物的去除效率。"),
    ("一种小麦抗倒伏栽培方法", "通过密度和肥料调控提高小麦产量。"),
    ("一种建筑外墙保温材料", "保温材料导热系数低，提高建筑节能效果。"),
    ("一种茶叶揉捻机", "揉捻均匀，提高茶叶品质和生产效率。"),
    ("一种钢渣微粉的制备方法", "钢渣微粉用于混凝土掺合料，提高利用率。"),
    ("一种海参养殖池底增氧装置", "提高海参养殖池溶氧，降低病害。"),
    ("一种无人机植保喷头", "雾化均匀，提高农药利用率。"),
    ("一种中药材烘干设备", "热风循环烘干，提高药材品质。"),
    ("一种锂电池隔膜涂覆浆料", "陶瓷涂覆隔膜提高锂电池安全性和能量密度。"),
    ("一种能量回收型电梯", "电梯制动时回收能量，降低能耗。"),
    ("一种循环水养殖系统", "循环水处理，提高养殖密度。"),
    ("一种高密度纤维板及其制备方法", "提高纤维板密度和强度。"),
]


@pytest.fixture
def scene(app, enqueued):
    uni = make_org("甲大学")
    patents = [entered(uni, **BATTERY)] + [entered(uni, title=t, abstract=a) for t, a in SUBJECTS]
    demand = make_demand()
    jobs.request_index_build()
    drain(enqueued)
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    return patents, demand


def _rows(demand_id: int) -> list[Match]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Match).where(Match.demand_id == demand_id)))


def _check_coherent(demand_id: int) -> None:
    undecided = [m for m in _rows(demand_id) if m.state == MatchState.CANDIDATE]
    ranks = sorted(m.rank for m in undecided if m.rank is not None)
    assert ranks == list(range(1, len(ranks) + 1))
    for m in undecided:
        assert m.score >= engine.DEFAULT_MIN_SCORE or m.tier != MatchTier.WEAK


def test_a_rerun_after_rejecting_everything_ranks_only_what_is_left(scene, enqueued):
    patents, demand = scene
    first = _rows(demand.id)
    assert first
    _check_coherent(demand.id)
    officer = make_user(Role.OFFICER)
    for m in first:
        decide_match(m.id, "rejected", officer, reason_code="wrong_field")
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    after = _rows(demand.id)
    rejected = [m for m in after if m.state == MatchState.REJECTED]
    assert {(m.id, m.rank) for m in rejected} == {(m.id, m.rank) for m in first}
    _check_coherent(demand.id)
    new = [m for m in after if m.state == MatchState.CANDIDATE]
    assert not {m.patent_id for m in new} & {m.patent_id for m in first}


def test_weak_proposals_below_the_minimum_similarity_are_not_stored(scene, enqueued):
    patents, demand = scene
    build, index = indexes.load_active_index()
    assessor = matching_runs.assessor_for(build, index)
    result = engine.match_demands(  # what the run got from the engine (all patents eligible)
        index,
        demands=[(demand.id, demand.title, tokens.demand_text(demand))],
        min_score=matching_runs.POOL_MIN_SCORE,
        chars=assessor.chars,
        model=assessor.model,
        texts_of=tokens.texts_of,
        top_k=matching_runs.TOP_K,
        bar=assessor.bar,
        strong=assessor.strong,
    )[0]
    junk = [p for p in result.proposals if not matching_runs.worth_storing(p)]
    assert junk, "the corpus should give the engine weak proposals below the minimum"
    stored = {m.patent_id for m in _rows(demand.id)}
    assert not stored & {int(p.doc_id) for p in junk}
    assert stored == {int(p.doc_id) for p in result.proposals} - {int(p.doc_id) for p in junk}


def test_the_demand_page_shows_decided_pairs_apart(scene, enqueued, client, auth):
    patents, demand = scene
    officer = make_user(Role.OFFICER)
    first = sorted(_rows(demand.id), key=lambda m: m.rank)
    for m in first[:2]:
        decide_match(m.id, "rejected", officer, reason_code="wrong_field")
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    auth.login(officer)
    html = client.get(f"/matching/demands/{demand.id}").get_data(as_text=True)
    listed, decided = html.split('id="decided-matches"')
    for m in first[:2]:
        assert f'data-match-id="{m.id}"' in decided and f'data-match-id="{m.id}"' not in listed
    assert f"审核时第 {first[0].rank} 名" in decided
    undecided = [m for m in _rows(demand.id) if m.state == MatchState.CANDIDATE]
    assert f"共 {len(undecided)}" in listed


def test_a_dropped_candidate_leaves_no_gap_in_the_ranks(scene, enqueued):
    patents, demand = scene
    rows = sorted(_rows(demand.id), key=lambda m: m.rank)
    assert len(rows) >= 3
    matching_runs.drop_patent_candidates(rows[1].patent_id)  # e.g. its patent was assigned
    db.session.commit()
    _check_coherent(demand.id)
