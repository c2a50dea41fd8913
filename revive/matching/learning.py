"""Learning match strength from officers' decisions (read side; strength.py owns the rows).

Training rows
    Every decided machine proposal (Match.source "machine": the engine ranked it) that still
    has its features at proposal time (score, chars, coverage; rows proposed before strength
    existed have none; ``demand_mass``, added later, is NULL on older rows and takes the
    judged pairs' mean there, which the standardised model reads as no push either way):
    accepted = 1, rejected for a relevance
    reason (reasons.NOT_RELEVANT: 领域不符, 描述不清) = 0; business rejections and "other" are
    left out. Plus the judged pairs the shipped model was fitted on (engine.judged_rows), so a
    refit starts from the same anchor and in-domain decisions shift it as they accumulate.

Second stage
    The posting-level recalibration (engine.calibrate) needs a posting's whole pool, which a
    decision does not store: it is refitted on the judged postings' pools (engine.judged_pools)
    over the refitted first stage, so it follows the new pair logits. Its word rates (which
    shared words led to relevant patents, engine.WordRates) are counted on those pools plus
    the decisions' own shared words (Match.matched): an accept counts as a relevant pair, a
    relevance reject as an irrelevant one. The held-out comparison below scores decisions by
    the first stage (engine.StrengthModel.probability).

Associations
    Which patent words go with a demand word (engine ``Associations``) are counted from the
    judged sets' relevant pairs when the release is fitted, and the release keeps what they
    were counted from (``engine.judged_associations``). An accepted decision is such a pair:
    a refit counts the table again from the judged pairs and each demand's accepted patents
    (its words, ``engine.demand_words``; the patents' words, ``engine.text_words``), and its
    row stores the accepted pairs' words beside a reference to the release, not the table.
    A rejection adds nothing (the judged sets' irrelevant pairs count nothing there either).
    The second stage is refitted on the judged pools' values, as stored with the release.

Position bias
    Officers see a demand's candidates best first and read from the top, so a proposal is
    decided (examined) with a probability that falls with its rank: a label set drawn from
    decisions over-represents the top ranks. Each decision is weighted by the inverse of its
    examination probability (inverse propensity weighting, Joachims et al. 2017, "Unbiased
    learning-to-rank with biased feedback"), with the DCG discount as the propensity:
    P(examined | rank r) = 1 / log2(r + 1) — the weighting ``revive eval --replay`` measured
    (strength AUC 0.807 → 0.821 on the later real demands with 75 % decided). A weight is
    clipped at MAX_WEIGHT so a few decisions deep in a long list cannot dominate (rank 20
    weighs 4.4, the clip only matters past rank 60). Both accepts and rejects are weighted: a
    decision of either kind means the officer examined the pair. ``rank`` is the pair's rank
    by strength when it was decided (rank 1 first). Decision weights are then scaled to
    average 1; judged pairs weigh 1 each.

Honest check
    A model is never scored on decisions it was fitted on. The decisions are replayed in time
    order: a model fitted on the judged pairs plus the first (1 - HELDOUT_SHARE) of the
    decisions scores the later ones, and so does the model serving now; the refit is activated
    only when its held-out ROC AUC is at least the serving model's. The activated model is then
    refitted on every decision (the usual last step; the figures stay those of the replay).
"""

from __future__ import annotations

import math
from collections.abc import Container
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from revive import engine
from revive.extensions import db
from revive.matching.models import Match, MatchSource, MatchState
from revive.matching.reasons import is_relevance_label

MAX_WEIGHT = 6.0  # inverse-propensity weights are clipped here (log2(rank + 1) ≤ 6)
HELDOUT_SHARE = 0.2  # the latest decisions held out to compare models
# Features a decided row may lack (stored from a later release on): the judged pairs' mean.
IMPUTED = ("demand_mass",)
WEIGHTING = "1/P(examined|rank), P = 1/log2(rank+1), clipped at 6, mean 1"


def examination_weight(rank: int | None) -> float:
    """1 / P(an officer examines the pair at this rank), clipped (see the module)."""
    r = max(1, int(rank or 1))
    return min(MAX_WEIGHT, math.log2(r + 1))


def relevance_label(state: MatchState, reason_code: str | None) -> int | None:
    """1 accepted, 0 rejected as not relevant, None: not a relevance label."""
    if state == MatchState.ACCEPTED:
        return 1
    if state == MatchState.REJECTED and is_relevance_label(reason_code):
        return 0
    return None


@dataclass
class Decisions:
    """Usable decisions in time order: feature rows (engine.FEATURES), labels, weights, and
    each pair's shared specific words (empty where the row predates them)."""

    rows: np.ndarray
    labels: np.ndarray
    weights: np.ndarray
    match_ids: list[int] = field(default_factory=list)
    matched: list[tuple[str, ...]] = field(default_factory=list)
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (demand id, patent id)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def positives(self) -> int:
        return int(self.labels.sum()) if len(self) else 0

    def part(self, sl: slice) -> Decisions:
        return Decisions(
            self.rows[sl],
            self.labels[sl],
            self.weights[sl],
            self.match_ids[sl],
            self.matched[sl],
            self.pairs[sl],
        )

    def tally(self) -> engine.Tally:
        """Relevant and decided pairs per shared word: what the decisions add to the word
        rates (engine.WordRates), one count per decision as a judged pair counts."""
        return engine.WordRates.tally_pairs(self.matched, self.labels.tolist())

    def accepted(self) -> dict[int, list[int]]:
        """The accepted patents of each demand (ids, in decision order); none for rows built
        without their pairs."""
        out: dict[int, list[int]] = {}
        if not self.pairs:
            return out
        for (demand, patent), label in zip(self.pairs, self.labels.tolist(), strict=True):
            if label == 1 and patent not in out.setdefault(demand, []):
                out[demand].append(patent)
        return out


def accepted_words(
    accepted: dict[int, list[int]], known: Container[str] | None = None
) -> engine.Accepted:
    """What the associations count of the accepted pairs: per demand its words and its
    accepted patents' words (the texts matching reads, ``tokens``), a batch per query; a
    demand or patent deleted since is left out. ``known``: the only patent words that can
    count (``JudgedPairs.docs``), the rest not kept (a refit's row stores these words)."""
    from revive.demands.models import Demand
    from revive.matching import tokens

    out = []
    ids = sorted(accepted)
    for start in range(0, len(ids), tokens.TEXT_BATCH):
        demands = db.session.scalars(
            sa.select(Demand).where(Demand.id.in_(ids[start : start + tokens.TEXT_BATCH]))
        ).all()
        wanted = {p for d in demands for p in accepted[d.id]}
        texts = tokens.texts_of(sorted(wanted))
        for d in sorted(demands, key=lambda d: d.id):
            held = {
                p: frozenset(v for v in engine.text_words(texts[p]) if known is None or v in known)
                for p in accepted[d.id]
                if p in texts
            }
            if held:
                out.append((engine.demand_words(d.title, tokens.demand_text(d)), held))
    return engine.Accepted(tuple(out))


def decisions() -> Decisions:
    """Every decision that is a relevance label and has its features, oldest first."""
    features = [getattr(Match, f) for f in engine.FEATURES]
    required = [getattr(Match, f) for f in engine.FEATURES if f not in IMPUTED]
    fill = _judged_means()
    stmt = (
        sa.select(
            Match.id,
            Match.demand_id,
            Match.patent_id,
            Match.state,
            Match.reason_code,
            Match.rank,
            Match.matched,
            *features,
        )
        .where(
            Match.state.in_((MatchState.ACCEPTED, MatchState.REJECTED)),
            # Only pairs the engine ranked: the position weighting models an officer reading
            # the engine's list; an intent or an officer's pick came from elsewhere.
            Match.source == MatchSource.MACHINE,
            *(col.is_not(None) for col in required),
        )
        .order_by(Match.decided_at, Match.id)
    )
    rows, labels, weights, ids, words, pairs = [], [], [], [], [], []
    for r in db.session.execute(stmt):
        label = relevance_label(r.state, r.reason_code)
        if label is None:
            continue
        values = {f: getattr(r, f) for f in engine.FEATURES}
        rows.append([fill[f] if v is None else float(v) for f, v in values.items()])
        labels.append(label)
        weights.append(examination_weight(r.rank))
        ids.append(r.id)
        words.append(tuple(r.matched or ()))
        pairs.append((r.demand_id, r.patent_id))
    w = np.asarray(weights, np.float64)
    if len(w):
        w = w * (len(w) / w.sum())  # mean 1
    return Decisions(
        np.asarray(rows, np.float64).reshape(-1, len(engine.FEATURES)),
        np.asarray(labels, int),
        w,
        ids,
        words,
        pairs,
    )


def _judged_means() -> dict[str, float]:
    """Each feature's mean over the judged pairs (engine.judged_rows)."""
    x, _, _ = engine.judged_rows()
    return {f: float(x[:, i].mean()) for i, f in enumerate(engine.FEATURES)}


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC, None when the labels hold one class only (no ranking to judge)."""
    if len(set(labels.tolist())) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


@dataclass
class Refit:
    """The outcome of fitting: the model to activate (or None), figures and a note."""

    model: engine.StrengthModel | None
    metrics: dict[str, Any]
    note: str
    n_decisions: int
    n_positive: int
    n_judged: int


def refit(
    data: Decisions, current: engine.StrengthModel, *, version: str, min_decisions: int
) -> Refit:
    """Fit a strength model on judged pairs + decisions and decide whether it may serve."""
    judged_rows, judged_labels, _ = engine.judged_rows()
    n, n_judged = len(data), len(judged_labels)
    base = {"n_decisions": n, "n_positive": data.positives, "n_judged": n_judged}
    shipped = engine.shipped_model()
    if n < min_decisions:
        note = (
            f"可用于学习的审核决定 {n} 条（采纳，及因“领域不符”“描述不清”否决），"
            f"少于 {min_decisions} 条，继续使用当前模型（{current.version}）"
        )
        return Refit(None, {"weighting": WEIGHTING}, note, **base)
    n_test = max(1, math.ceil(n * HELDOUT_SHARE))
    train, test = data.part(slice(0, n - n_test)), data.part(slice(n - n_test, None))

    def fit(part: Decisions) -> engine.StrengthModel:
        # The first stage on judged pairs + decisions; the second (posting-level
        # recalibration) on the judged pools over that first stage: a decision stores its
        # pair's features, not its posting's pool.
        first = engine.fit(
            np.vstack([judged_rows, part.rows]),
            np.concatenate([judged_labels, part.labels]),
            weights=np.concatenate([np.ones(n_judged), part.weights]),
            bar=shipped.bar,
            strong=shipped.strong,
            version=version,
            trained={
                "judged_pairs": n_judged,
                "decisions": len(part),
                "accepted": part.positives,
                "weighting": WEIGHTING,
                "stages": 2,
            },
        )
        # The associations (which patent words go with a posting word): counted again from
        # the judged pairs and the accepted ones; the judged pools carry their values.
        table, judged = shipped.associations, engine.judged_associations()
        if table is not None and judged is not None:
            accepted = accepted_words(part.accepted(), judged.docs)
            if accepted.demands:
                table = judged.table(accepted)
        return engine.calibrate(
            first, engine.judged_pools(), extra=part.tally(), associations=table
        )

    candidate = fit(train)
    new_auc = auc(test.labels, candidate.probability(test.rows))
    # The serving model may read fewer features (one fitted before demand_mass existed).
    cols = [engine.FEATURES.index(f) for f in current.features]
    old_auc = auc(test.labels, current.probability(test.rows[:, cols]))
    metrics = {
        "split": f"按审核时间：前 {n - n_test} 条训练，后 {n_test} 条留出",
        "n_train_decisions": n - n_test,
        "n_heldout": n_test,
        "heldout_positive": test.positives,
        "auc_heldout": _round(new_auc),
        "auc_heldout_current": _round(old_auc),
        "current_version": current.version,
        "weighting": WEIGHTING,
        # demands whose accepted patents were counted into the associations
        "accepted_demands": len(data.accepted()),
    }
    if new_auc is None or old_auc is None:
        note = "留出的较新决定只有一类（全部采纳或全部否决），无法比较模型，未启用"
        return Refit(None, metrics, note, **base)
    if new_auc < old_auc:
        note = f"留出的较新决定上 AUC {new_auc:.3f} 低于当前模型的 {old_auc:.3f}，未启用"
        return Refit(None, metrics, note, **base)
    note = f"留出的较新决定上 AUC {new_auc:.3f}（当前模型 {old_auc:.3f}），已启用"
    return Refit(fit(data), metrics, note, **base)


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None
