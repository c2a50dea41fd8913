"""``revive eval`` scores a set the shipped model was fitted on without reading a posting's
answers from its own words: each posting's judged pool is taken out of the word rates (the
shared words of its judged pairs, and its own words as answered or not)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from revive.benchmark import trust
from revive.benchmark.data import Doc
from revive.engine.strength import WordRates

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
