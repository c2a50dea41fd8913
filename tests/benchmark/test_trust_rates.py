"""``revive eval`` scores a set the shipped model was fitted on without reading a posting's
answers from its own words: each posting's judged pool is taken out of the word rates (the
shared words of its judged pairs, and its own words as answered or not)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from revive.benchmark import trust
from revive.benchmark.data import Doc
from revive.engine.strength import Accepted, WordRates
from revive.engine.text import normalize

TOPICS = [
    ("锂电池隔膜", "一种锂电池隔膜的制备方法，提高隔膜的耐热性与电解液浸润性。"),
    ("锂电池正极材料", "三元正极材料表面包覆，提高锂电池循环寿命。"),
    ("污水处理", "一种印染污水的深度处理工艺，降低出水化学需氧量。"),
    ("污泥脱水", "市政污泥调理脱水方法，降低污泥含水率。"),
    ("智能控制系统", "基于物联网的智能控制系统，远程监控设备运行状态。"),
    ("智能停车", "智能停车场管理系统，车位识别与引导。"),
]


def _world():
    docs = [Doc(f"p{i}", t, x) for i, (t, x) in enumerate(TOPICS)]
    asks = [
        Doc("q1", "锂电池隔膜耐热", "需要提高锂电池隔膜的耐热性"),
        Doc("q2", "污水深度处理", "印染污水处理后化学需氧量超标"),
        Doc("q3", "智能控制", "需要一套智能控制系统远程监控"),
        Doc("q4", "锂电池循环寿命", "正极材料包覆提高锂电池寿命"),
    ]
    qrels = {"q1": {"p0": 2, "p1": 0}, "q2": {"p2": 2, "p3": 0}, "q3": {"p4": 0, "p5": 0},
             "q4": {"p1": 2, "p0": 0}}  # fmt: skip
    return trust.build_pools(docs, asks), qrels


def test_a_fitted_set_is_scored_with_each_postings_judgements_out_of_the_word_rates():
    pools, qrels = _world()
    qids = sorted(pools.candidates)
    model = trust.fit_on([(pools, qrels, qids)])
    assert model.rates is not None and model.rates.counts
    rows = {pr.demand: pr for pr in trust.pool_rows(pools, qrels, qids)}
    plain = trust.assessed_pools(pools, model, qids)
    honest = trust.assessed_pools(pools, model, qids, own=qrels)
    assert model.answers is not None and model.answers.counts
    for q in qids:
        # the same as a model whose rates never counted this posting (same base and smoothing)
        others = [pr for d, pr in rows.items() if d != q]
        pairs = WordRates.count(others)
        asked = WordRates.count(others, by=WordRates.answered)
        blind_model = replace(
            model,
            rates=WordRates(model.rates.base, model.rates.smooth, pairs.counts),
            answers=WordRates(model.answers.base, model.answers.smooth, asked.counts),
        )
        blind = trust.assessed_pools(pools, blind_model, [q])[q]
        got = {a.doc_id: a.strength for a in honest[q]}
        assert got == {a.doc_id: a.strength for a in blind}
    # and it differs from reading the posting's own judgements where they were counted
    assert any(
        not np.isclose(a.strength, b.strength)
        for q in qids
        for a, b in zip(plain[q], honest[q], strict=True)
    )


def _sewage_world():
    """Three postings say 达标, their relevant patents (three distinct ones) say 生化: an
    association; other patents fill the background."""
    topics = [
        ("养殖废水处理装置", "一种养殖废水的生化处理装置，去除氨氮。"),
        ("印染废水深度处理", "一种印染废水的生化深度处理方法，降低色度。"),
        ("焦化废水处理", "焦化废水的生化处理工艺，降低酚类。"),
        ("锂电池隔膜", "一种锂电池隔膜的制备方法，提高耐热性。"),
        ("锂电池正极", "三元正极材料表面包覆，提高循环寿命。"),
        ("智能停车", "智能停车场管理系统，车位识别与引导。"),
        ("门禁系统", "基于人脸识别的门禁系统，防止照片欺骗。"),
        ("焊接机器人", "一种焊接机器人的焊缝跟踪方法。"),
        ("涂料配方", "一种水性涂料及其制备方法，耐候性好。"),
        ("轴承检测", "滚动轴承故障的振动检测方法。"),
        ("电机定子", "一种电机定子绕组的绝缘处理方法。"),
        ("果蔬保鲜", "鲜切果蔬的褐变抑制与保鲜方法。"),
        ("饲料发酵", "一种生物饲料的发酵工艺，提高蛋白含量。"),
        ("光伏组件", "光伏组件的清洗机器人，提高发电效率。"),
        ("混凝土外加剂", "一种混凝土减水剂及其制备方法。"),
        ("稀土回收", "从废旧永磁体中回收稀土元素的方法。"),
        ("LED散热", "一种LED灯具的散热结构。"),
        ("阀门密封", "一种气动阀门的密封结构。"),
        ("纺织抗紫外", "抗紫外纺织面料的整理工艺。"),
        ("土壤修复", "重金属污染土壤的微生物修复方法，修复后达标。"),
    ]
    docs = [Doc(f"p{i}", t, x) for i, (t, x) in enumerate(topics)]
    asks = [
        Doc("q1", "养殖场污水处理", "养殖场污水氨氮不达标，需要处理技术"),
        Doc("q2", "印染污水", "印染厂污水色度不达标，寻求处理方法"),
        Doc("q3", "焦化污水治理", "焦化厂污水含酚不达标，需要治理工艺"),
        Doc("q4", "锂电池隔膜耐热", "需要提高锂电池隔膜的耐热性"),
    ]
    # every other patent judged (not relevant) for q4: the background is all 20
    rest = {f"p{i}": 0 for i in range(4, len(topics))}
    qrels = {"q1": {"p0": 2}, "q2": {"p1": 2}, "q3": {"p2": 2}, "q4": {"p3": 2, **rest}}
    return trust.build_pools(docs, asks), qrels


@pytest.fixture
def few_postings(monkeypatch):
    """One pseudo-posting at the background share: the shipped prior (50) would shrink the
    lifts of a world of three postings under the bar."""
    monkeypatch.setattr(trust, "ASSOCIATION_PRIOR", 1.0)


@pytest.mark.usefixtures("few_postings")
def test_a_fitted_set_is_scored_with_each_postings_own_counts_out_of_the_associations():
    pools, qrels = _sewage_world()
    qids = sorted(pools.candidates)
    table = trust.count_associations([(pools, qrels, qids)])
    assert "生化" in dict(table.associates("达标"))
    users = trust.relevant_users([(pools, qrels, qids)])
    for q in ("q1", "q2", "q3"):
        # a posting's value with its own counts out is its value from a table that never
        # counted it (same pools, so the same background)
        others = [d for d in qids if d != q]
        without = trust.count_associations([(pools, qrels, others)])
        own = trust.own_pairs(pools, qrels, q, users)
        texts = [normalize(pools.texts[c.right_id]) for c in pools.candidates[q]]
        left_out = table.value(pools.weights(q), texts, own)
        never = without.value(pools.weights(q), texts)
        assert np.allclose(left_out, never)
        assert left_out.any()  # the two other 达标 postings still make 生化 an associate
        # read with its own counts, its relevant patent would score higher than it should
        assert table.value(pools.weights(q), texts).max() >= left_out.max()


@pytest.mark.usefixtures("few_postings")
def test_an_accepted_pair_counts_as_a_judged_relevant_pair():
    """A refit counts officers' accepted pairs beside the judged ones the release kept
    (``JudgedPairs.table``): q1's relevant pair accepted instead of judged gives the table
    judging it gave."""
    pools, qrels = _sewage_world()
    qids = sorted(pools.candidates)
    judged = trust.judged_pairs_of([(pools, qrels, qids)])
    assert judged.table() == trust.count_associations([(pools, qrels, qids)])
    others = trust.judged_pairs_of([(pools, qrels, [q for q in qids if q != "q1"])])
    assert others.total == judged.total  # the same patents judged or pooled
    accepted = Accepted(((frozenset(pools.weights("q1")), pools.words_of(["p0"])),))
    # two postings behind 达标 → 生化 without q1, three with it
    assert others.table().pairs["达标"]["生化"] == (2, 2)
    assert judged.table().pairs["达标"]["生化"] == (3, 3)
    again = others.table(accepted)
    assert again == judged.table()
    assert dict(again.associates("达标")) == dict(judged.table().associates("达标"))
