"""The strength model: probability, tiers, re-ranking, abstention, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from revive.engine import build_index, demand_tokens, patent_tokens
from revive.engine.strength import (
    CharProfile,
    StrengthModel,
    abstains,
    assess,
    content_chars,
    fit,
    shipped_model,
)

DOCS = {
    "p1": (
        "锂离子电池正极材料包覆",
        "一种三元正极材料的包覆改性方法，提高循环寿命，抑制容量衰减。",
    ),
    "p2": ("污水处理装置", "一种去除养殖废水氨氮的污水处理装置，投资小运行费用低。"),
    "p3": ("人脸识别门禁", "基于深度学习的活体检测方法，防止照片欺骗。"),
    "p4": ("正极材料回收", "从废旧电池中回收正极材料中的锂钴镍。"),
}


def _candidates(demand_title: str, demand_text: str, k: int = 4):
    ids = list(DOCS)
    index = build_index([patent_tokens(*DOCS[i]) for i in ids], ids, version=1)
    (rows,) = index.query([demand_tokens(demand_title, demand_text)], top_k=k, min_score=0.0)
    return rows


def test_candidates_carry_coverage_of_the_demands_specific_words():
    rows = _candidates("三元正极材料循环寿命", "想提高三元正极材料的循环寿命")
    by_id = {c.right_id: c for c in rows}
    assert by_id["p1"].coverage > by_id["p4"].coverage > 0
    assert {"正极", "循环寿命"} <= set(by_id["p1"].matched) or "正极材料" in by_id["p1"].matched
    assert all(0.0 <= c.coverage <= 1.0 for c in rows)


def test_content_chars_drop_function_characters_latin_digits_and_punctuation():
    out = content_chars("本发明公开了一种LED的手电筒，所述亮度123")
    assert "手电筒" in out and "亮度" in out
    assert not any(c in out for c in "的了LED，123")


def test_char_cosine_sees_shared_characters_across_different_words():
    profile = CharProfile.build(f"{t}。{x}" for t, x in DOCS.values())
    a = profile.vector("涂料附着力")
    b = profile.vector("涂层附着")
    c = profile.vector("人脸识别")
    assert CharProfile.cosine(a, b) > 0.5 > CharProfile.cosine(a, c) == 0.0


def test_probability_rises_with_each_feature():
    model = shipped_model()
    base = np.array([[0.1, 0.2, 0.1, 4.5]])
    p0 = model.probability(base)[0]
    for i in range(4):
        up = base.copy()
        up[0, i] += 0.1
        assert model.probability(up)[0] > p0
    assert 0.0 < p0 < 1.0


def test_tiers_and_abstention_follow_the_bar():
    model = StrengthModel(("score",), (0.0,), (1.0,), (10.0,), -1.0, bar=0.2, strong=0.6)
    assert model.tier(0.7) == "strong" and model.tier(0.3) == "medium" and model.tier(0.1) == "weak"
    assert model.tier(0.3, bar=0.5) == "weak"


def test_assess_reranks_by_probability_and_abstains_below_the_bar():
    rows = _candidates("正极材料", "三元正极材料包覆，提高循环寿命")
    texts = {k: f"{t}。{x}" for k, (t, x) in DOCS.items()}
    profile = CharProfile.build(texts.values())
    model = StrengthModel(
        ("score", "chars", "coverage"), (0.0,) * 3, (1.0,) * 3, (1.0, 5.0, 1.0), -3.0
    )
    out = assess("正极材料包覆循环寿命", rows, texts, profile, model)
    assert [a.doc_id for a in out][0] == "p1"
    assert [a.strength for a in out] == sorted((a.strength for a in out), reverse=True)
    assert not abstains(out, bar=0.01)
    assert abstains(out, bar=0.999)


def test_model_survives_json_and_fit_learns_a_separable_signal(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(int)
    model = fit(x, y, bar=0.3, version="t")
    path = tmp_path / "m.json"
    model.save(path)
    again = StrengthModel.load(path)
    assert again == model
    p = again.probability(x)
    assert p[y == 1].mean() > 0.8 > 0.2 > p[y == 0].mean()


def test_shipped_model_is_fitted_on_both_judged_sets():
    """The shipped model was refitted (``revive fit-strength``) after the last judging round:
    it has seen every judged posting of both sets."""
    import csv
    from pathlib import Path

    eval_dir = Path(__file__).resolve().parents[2] / "eval"
    postings = 0
    for name in ("dev", "real"):
        with open(eval_dir / name / "queries.csv", encoding="utf-8-sig", newline="") as fh:
            postings += sum(1 for _ in csv.DictReader(fh))
    model = shipped_model()
    assert model.features == ("score", "chars", "coverage", "demand_mass")
    assert model.trained["sets"] == ["dev", "real"] and model.trained["demands"] == postings
    assert 0 < model.bar < model.strong < 1


def test_shipped_model_version_names_its_numbers():
    """Matches record the version of the model that assessed them; two fits on one day (a new
    judging round) differ in their numbers, so the version ends with a digest of them."""
    import hashlib
    import json
    import re

    model = shipped_model()
    found = re.fullmatch(r"(judged-\d{8})-([0-9a-f]{8})", model.version)
    assert found, model.version
    data = {**model.to_json(), "version": found.group(1)}
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()[:8]
    assert found.group(2) == digest


def test_demand_mass_sums_the_specific_weight_of_known_words_once():
    from revive.engine.strength import demand_mass
    from revive.engine.text import demand_specificity

    ids = list(DOCS)
    index = build_index([patent_tokens(*DOCS[i]) for i in ids], ids, version=1)
    tokens = demand_tokens("三元正极材料循环寿命", "想提高三元正极材料的循环寿命")
    words = {t for t in tokens if t in index.term_index and not t.startswith("~")}
    assert words
    want = sum(float(index.idf[index.term_index[w]]) * demand_specificity(w) for w in words)
    got = demand_mass(index.term_index, index.idf, tokens)
    assert got == pytest.approx(np.log1p(want), rel=1e-6)
    assert got == demand_mass(index.term_index, index.idf, tokens + tokens)  # once each
    assert demand_mass(index.term_index, index.idf, ["未知词语"]) == 0.0
    short = demand_mass(index.term_index, index.idf, demand_tokens("正极材料", ""))
    assert 0 < short < got  # a shorter posting carries less


def test_a_stored_three_feature_model_still_assesses():
    rows = _candidates("正极材料", "三元正极材料包覆，提高循环寿命")
    texts = {k: f"{t}。{x}" for k, (t, x) in DOCS.items()}
    old = StrengthModel(("score", "chars", "coverage"), (0.0,) * 3, (1.0,) * 3, (1.0,) * 3, -1.0)
    out = assess("正极材料包覆循环寿命", rows, texts, None, old, mass=5.0)
    assert out and all(0 < a.strength < 1 for a in out)
    assert {a.demand_mass for a in out} == {5.0}


@pytest.mark.parametrize("text", ["", None, "123 abc"])
def test_empty_texts_give_empty_vectors(text):
    profile = CharProfile(np.ones(65536, np.float32))
    chars, weights = profile.vector(text)
    assert len(chars) == len(weights) == 0


def test_judged_rows_refit_to_the_shipped_model():
    from revive.engine.strength import judged_rows

    x, y, groups = judged_rows()
    assert len(x) == len(y) == len(groups) == shipped_model().trained["pairs"]
    again = fit(x, y)
    assert np.allclose(again.coef, shipped_model().coef, atol=1e-6)


def test_judged_pools_refit_to_the_shipped_second_stage():
    from revive.engine.strength import calibrate, judged_pools, judged_rows

    model = shipped_model()
    assert model.calibration is not None and model.trained["stages"] == 2
    pools = judged_pools()
    assert len(pools) == model.trained["demands"]
    assert sum(int((p.labels >= 0).sum()) for p in pools) == model.trained["pairs"]
    assert any((p.labels < 0).any() for p in pools)  # unjudged candidates are in the pools
    x, y, _ = judged_rows()
    again = calibrate(fit(x, y), pools, associations=model.associations)
    assert again.calibration.features == model.calibration.features
    assert np.allclose(again.calibration.coef, model.calibration.coef, atol=1e-6)


def _a_pool():
    from revive.engine.strength import judged_pools

    pool = judged_pools()[0]
    return pool.rows, pool.words, pool.thin


def test_the_second_stage_keeps_a_postings_order_without_associates_in_the_texts():
    model = shipped_model()
    rows, words, thin = _a_pool()
    served = model.strengths(rows, words=words, thin=thin)
    pair = model.logit(rows)
    assert np.array_equal(np.argsort(-served, kind="stable"), np.argsort(-pair, kind="stable"))
    assert not np.allclose(served, model.probability(rows))  # it does recalibrate


def test_the_second_stage_lowers_a_wordy_posting_with_the_same_specific_weight():
    # Many content words for the same specific weight: a vague posting (RESULTS.md).
    model = shipped_model()
    rows, _, _ = _a_pool()
    terse = model.strengths(rows, words=15)
    wordy = model.strengths(rows, words=80)
    assert (wordy < terse).all()


def test_a_one_stage_model_file_still_loads_and_serves_its_pair_probability(tmp_path):
    data = shipped_model().to_json()
    del data["calibration"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data), "utf-8")
    old = StrengthModel.load(path)
    assert old.calibration is None
    rows, words, thin = _a_pool()
    served = old.strengths(rows, words=words, thin=thin)
    assert np.allclose(served, old.probability(rows))
    assert StrengthModel.load(_saved(tmp_path, shipped_model())) == shipped_model()


def _saved(tmp_path, model):
    path = tmp_path / "two.json"
    model.save(path)
    return path


def test_calibrate_learns_what_the_posting_says():
    from revive.engine.strength import FEATURES, PoolRows, calibrate

    rng = np.random.default_rng(1)
    pools = []
    for i in range(120):
        rows = rng.normal(size=(10, len(FEATURES)))
        rows[:, 3] = 4.5  # one demand_mass per posting
        wordy = i % 2 == 1
        # relevance follows the score, but a wordy posting is rarely answered
        p = 1 / (1 + np.exp(-(2 * rows[:, 0] - (3 if wordy else 0))))
        labels = (rng.random(10) < p).astype(int)
        pools.append(PoolRows(f"d{i}", rows, labels, 60 if wordy else 10, False))
    x = np.vstack([p.rows for p in pools])
    y = np.concatenate([p.labels for p in pools])
    model = calibrate(fit(x, y), pools)
    assert model.calibration is not None
    rows = pools[0].rows
    terse = model.strengths(rows, words=10)
    wordy = model.strengths(rows, words=60)
    assert (wordy < terse / 2).all()


def _rated_pool(name, words, labels, rows=None):
    from revive.engine.strength import FEATURES, PoolRows

    rows = np.zeros((len(labels), len(FEATURES))) if rows is None else rows
    return PoolRows(name, rows, np.asarray(labels), 20, False, matched=tuple(words))


def test_word_rates_say_which_shared_words_led_to_relevant_patents():
    from revive.engine.strength import WordRates

    pools = [
        _rated_pool("a", [("锂电池", "隔膜"), ("智能",), ("智能",)], [1, 0, -1]),
        _rated_pool("b", [("锂电池",), ("智能", "控制"), ("控制",)], [1, 0, 0]),
    ]
    rates = WordRates.count(pools, smooth=2.0)
    # unjudged candidates (-1) count for nothing
    assert rates.counts == {"锂电池": (2, 2), "隔膜": (1, 1), "智能": (0, 2), "控制": (0, 2)}
    assert rates.base == pytest.approx(3 / 7)
    assert rates.value(["锂电池"]) > rates.value(["隔膜"]) > 0 > rates.value(["智能"])
    assert rates.value([]) == 0.0 and rates.value(["没见过"]) == 0.0
    assert rates.value(["锂电池", "智能"]) == pytest.approx(
        (rates.value(["锂电池"]) + rates.value(["智能"])) / 2
    )
    # a posting's own judgements taken out: as if counted without it (same base and smoothing)
    alone = WordRates.count(pools[1:], smooth=2.0)
    alone = WordRates(rates.base, 2.0, alone.counts)
    for words in (["锂电池"], ["隔膜"], ["智能", "控制"]):
        assert rates.value(words, WordRates.tally(pools[0])) == pytest.approx(alone.value(words))


def _synthetic_posting(rng, name, shift, *, any_relevant=True, **words):
    """A pool of 10 candidates with random features (one demand_mass), relevant with
    probability sigmoid(2 × score − ``shift``) (none when not ``any_relevant``), and the
    given words (``matched`` / ``asked`` …)."""
    from dataclasses import replace

    from revive.engine.strength import FEATURES

    rows = rng.normal(size=(10, len(FEATURES)))
    rows[:, 3] = 4.5
    p = 1 / (1 + np.exp(-(2 * rows[:, 0] - shift)))
    labels = (rng.random(10) < p).astype(int) if any_relevant else np.zeros(10, int)
    pool = _rated_pool(name, words.pop("matched", [()] * 10), labels, rows)
    return replace(pool, **words)


def _calibrated_on(pools):
    from revive.engine.strength import calibrate

    x = np.vstack([p.rows for p in pools])
    y = np.concatenate([p.labels for p in pools])
    return calibrate(fit(x, y), pools)


def _same_order(a, b) -> bool:
    return np.array_equal(np.argsort(-a, kind="stable"), np.argsort(-b, kind="stable"))


def test_calibrate_reads_whether_a_postings_words_led_anywhere():
    """Postings whose shared words were seldom relevant elsewhere are seldom answered: the
    second stage learns it from the word rates (each posting's own judgements left out) and
    moves such a posting's whole list down, leaving its order alone."""
    rng = np.random.default_rng(3)
    pools = []
    for i in range(200):
        fruitful = i % 2 == 0
        vocab = ["电池", "隔膜", "电解液"] if fruitful else ["智能", "系统", "平台"]
        words = [tuple(rng.choice(vocab, 2, replace=False)) for _ in range(10)]
        pools.append(_synthetic_posting(rng, f"d{i}", 0 if fruitful else 3, matched=words))
    model = _calibrated_on(pools)
    assert model.calibration is not None and "rate_max" in model.calibration.features
    assert model.rates is not None and model.rates.value(["电池"]) > 0 > model.rates.value(["智能"])
    rows = pools[0].rows
    good = model.strengths(rows, words=20, matched=[("电池", "隔膜")] * 10)
    poor = model.strengths(rows, words=20, matched=[("智能", "系统")] * 10)
    assert (poor < good).all() and poor.mean() < good.mean() / 2
    assert _same_order(good, poor)


def test_pools_without_words_calibrate_and_serve_without_word_rates():
    # A training file written before the word rates (no matched column): the second stage as
    # before, and its model serves without being given any shared words.
    from dataclasses import replace

    from revive.engine.strength import calibrate, judged_pools, judged_rows

    pools = [replace(p, matched=(), asked=(), answered=None) for p in judged_pools()]
    x, y, _ = judged_rows()
    model = calibrate(fit(x, y), pools)
    assert model.calibration is not None and model.rates is None and model.answers is None
    assert "rate_max" not in model.calibration.features
    assert "answers" not in model.calibration.features
    rows, words, thin = _a_pool()
    served = model.strengths(rows, words=words, thin=thin, matched=[("设备",)] * len(rows))
    assert np.all(served > 0)
    # as stored by a refit before the word rates existed (no "rates" / "answers" keys)
    data = model.to_json()
    del data["rates"], data["answers"]
    again = StrengthModel.from_json(json.loads(json.dumps(data)))
    assert np.allclose(again.strengths(rows, words=words, thin=thin), served)


def test_the_shipped_model_reads_the_shared_words_of_its_training_pools():
    from revive.engine.strength import WordRates, judged_pools

    model = shipped_model()
    assert model.rates is not None and "rate_max" in model.calibration.features
    assert model.answers is not None and "answers" in model.calibration.features
    pools = judged_pools()
    assert all(len(p.matched) == len(p.rows) for p in pools)
    assert all(p.answered is not None for p in pools)
    assert sum(1 for p in pools if p.asked) > 0.99 * len(pools)  # a posting may have no words
    assert model.answers == WordRates.count(
        pools, model.answers.smooth, by=WordRates.answered
    )  # every judged posting's words, answered or not
    # every judged pair's shared words are counted
    judged = sum(
        len(w) for p in pools for w, lab in zip(p.matched, p.labels, strict=True) if lab >= 0
    )
    assert sum(s for _, s in model.rates.counts.values()) == judged
    # the served probability follows the rates of the candidates' shared words
    often = [w for w, (_, s) in model.rates.counts.items() if s >= 20]
    barren = min(often, key=lambda w: model.rates.value([w]))
    fruitful = max(often, key=lambda w: model.rates.value([w]))
    pool = next(p for p in pools if len(p.rows) > 5)
    n, kw = len(pool.rows), {"words": pool.words, "thin": pool.thin}
    high = model.strengths(pool.rows, matched=[(fruitful,)] * n, **kw)
    low = model.strengths(pool.rows, matched=[(barren,)] * n, **kw)
    assert (high > low).all()


def test_answers_count_each_postings_words_once_as_answered_or_not():
    from dataclasses import replace

    from revive.engine.strength import WordRates

    a = replace(_rated_pool("a", [(), ()], [0, 0]), asked=("电池", "隔膜", "电池"), answered=True)
    b = replace(_rated_pool("b", [(), ()], [0, 0]), asked=("平台", "电池"), answered=False)
    # no flag (a file written before it): answered when its pool holds a relevant candidate
    c = replace(_rated_pool("c", [(), ()], [1, 0]), asked=("平台",))
    answers = WordRates.count([a, b, c], smooth=1.0, by=WordRates.answered)
    assert answers.counts == {"电池": (1, 2), "隔膜": (1, 1), "平台": (1, 2)}
    assert answers.base == pytest.approx(3 / 5)
    assert answers.value(["隔膜"]) > answers.value(["电池"]) > answers.value(["未见"]) - 1
    # leaving a posting out is counting without it
    alone = WordRates.count([b, c], smooth=1.0, by=WordRates.answered)
    alone = WordRates(answers.base, 1.0, alone.counts)
    assert answers.value(["电池", "隔膜"], WordRates.answered(a)) == pytest.approx(
        alone.value(["电池", "隔膜"])
    )


def test_calibrate_reads_whether_postings_using_these_words_were_answered():
    """Postings about some topics had nothing relevant in the corpus: the second stage learns
    it from their words (each posting's own answer left out) and moves a new posting using
    those words down as a whole."""
    from dataclasses import replace

    rng = np.random.default_rng(5)
    pools = []
    for i in range(200):
        covered = i % 2 == 0
        vocab = ["电池", "隔膜", "电解液", "正极"] if covered else ["稀土", "回收", "永磁", "冶炼"]
        asked = tuple(rng.choice(vocab, 3, replace=False))
        pool = _synthetic_posting(rng, f"d{i}", 1, any_relevant=covered, asked=asked)
        pools.append(replace(pool, answered=bool(pool.labels.any())))
    model = _calibrated_on(pools)
    assert model.answers is not None and "answers" in model.calibration.features
    rows = pools[0].rows
    covered = model.strengths(rows, words=20, asked=["电池", "隔膜"])
    uncovered = model.strengths(rows, words=20, asked=["稀土", "永磁"])
    assert (uncovered < covered).all() and uncovered.mean() < covered.mean() / 2
    assert _same_order(covered, uncovered)


def test_the_shipped_model_moves_a_candidate_holding_a_learned_associate_up():
    """The associations learned from the judged sets (``Associations``) are in the shipped
    model, every judged pool carries its values (its own judgements out), and a candidate
    whose text holds an associate of the posting's word is served higher than its twin."""
    from revive.engine.strength import judged_pools

    model = shipped_model()
    table = model.associations
    assert table is not None and "translated" in model.calibration.features
    at = model.calibration.features.index("translated")
    assert model.calibration.coef[at] > 0
    assert all(
        p.translated is not None and len(p.translated) == len(p.rows) for p in judged_pools()
    )
    associates = dict(table.associates("污水"))
    assert any("废水" in v for v in associates)  # e.g. 工业废水
    word = max(associates, key=associates.get)
    rows, words, thin = _a_pool()
    twin = np.vstack([rows[0], rows[0]])
    served = model.strengths(
        twin,
        words=words,
        thin=thin,
        texts=["一种装置的外壳", f"一种{word}的处理装置"],
        weights={"污水": 5.0, "设备": 1.0},
    )
    assert served[1] > served[0]
