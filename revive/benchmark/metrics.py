"""Ranking metrics: nDCG (gain 2^grade − 1), recall and MRR (grade ≥ 1 is relevant); and the
percentile the benchmarks report timings by."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(grades: Sequence[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades))


def ndcg_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """``judged``: doc → grade for one query; the ideal DCG uses all judged grades."""
    ideal = dcg(sorted(judged.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judged.get(d, 0) for d in ranked[:k]]) / ideal


def recall_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    relevant = {d for d, g in judged.items() if g >= 1}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    for i, d in enumerate(ranked[:k]):
        if judged.get(d, 0) >= 1:
            return 1.0 / (i + 1)
    return 0.0


def evaluate(
    runs: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], k: int
) -> dict[str, float | int]:
    """Mean metrics over the queries that have at least one relevant (grade ≥ 1) doc."""
    qids = [q for q in runs if any(g >= 1 for g in qrels.get(q, {}).values())]
    n = len(qids)

    def mean(fn) -> float:
        return round(sum(fn(runs[q], qrels[q], k) for q in qids) / n, 4) if n else 0.0

    return {
        f"ndcg@{k}": mean(ndcg_at_k),
        f"recall@{k}": mean(recall_at_k),
        f"mrr@{k}": mean(mrr_at_k),
        "queries": n,
    }


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0–100) by nearest rank: a value that was measured, never an
    interpolation between two."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]
