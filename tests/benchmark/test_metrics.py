"""Ranking metrics on hand-computed examples."""

from __future__ import annotations

import math

import pytest

from revive.benchmark.metrics import evaluate, mrr_at_k, ndcg_at_k, recall_at_k

JUDGED = {"a": 2, "b": 0, "c": 1, "d": 1}  # b judged irrelevant


def test_ndcg_uses_graded_gains_and_the_ideal_from_all_judged_grades():
    ranked = ["x", "c", "a"]
    dcg = 1 / math.log2(3) + 3 / math.log2(4)
    ideal = 3 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, JUDGED, 10) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a", "c", "d"], JUDGED, 10) == pytest.approx(1.0)
    # cut at k: only the first two count, ideal truncated at two too
    assert ndcg_at_k(ranked, JUDGED, 2) == pytest.approx(
        (1 / math.log2(3)) / (3 + 1 / math.log2(3))
    )


def test_recall_and_mrr_count_grade_one_and_up():
    assert recall_at_k(["b", "x", "c"], JUDGED, 10) == pytest.approx(1 / 3)
    assert recall_at_k(["b", "x", "c"], JUDGED, 2) == 0.0
    assert mrr_at_k(["b", "x", "c"], JUDGED, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["b", "x"], JUDGED, 10) == 0.0


def test_queries_without_relevant_docs_are_excluded():
    qrels = {"q1": {"a": 1}, "q2": {"z": 0}, "q3": {}}
    runs = {"q1": ["a"], "q2": ["z"], "q3": ["a"]}
    m = evaluate(runs, qrels, 10)
    assert m == {"ndcg@10": 1.0, "recall@10": 1.0, "mrr@10": 1.0, "queries": 1}
    assert set(evaluate(runs, qrels, 20)) == {"ndcg@20", "recall@20", "mrr@20", "queries"}
