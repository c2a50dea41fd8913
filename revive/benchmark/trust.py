"""Match strength, re-ranking and abstention measured on judged demands.

The production pipeline per demand: read the posting (``engine.understand``), query the index
for its top ``POOL`` on the cleaned text, assess every candidate (``engine.strength``) and
keep the best ``k`` by probability. Figures:

* ranking — nDCG/recall/MRR@k of the re-ranked lists over the demands with a relevant patent;
* ``strength_auc`` — ROC AUC of the probability on the judged top-k pairs (all demands);
* ``abstained_unanswerable`` — the share of demands with no relevant patent whose best
  candidate is below the bar (they show 暂无合适专利);
* ``relevant_shown`` — the share of relevant top-k pairs that stay shown: those of demands
  that do not abstain (candidates of an abstaining demand are shown only on request);
* a reliability table (predicted vs observed relevance by probability bin).

``cross_validated`` refits the model per fold, both stages (GroupKFold by demand), so no demand
is scored by a model that saw its own judgements; ``shipped`` uses the model the product ships with.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from revive.benchmark.data import Doc
from revive.benchmark.metrics import evaluate
from revive.engine import Index, build_index, demand_tokens, patent_tokens
from revive.engine import reliability as meaning
from revive.engine.reasons import _meaningful, generic_cutoff
from revive.engine.strength import (
    ASSOCIATION_LIFT,
    ASSOCIATION_PRIOR,
    ASSOCIATION_SUPPORT,
    FEATURES,
    POOL,
    Accepted,
    Assessed,
    Associations,
    CharProfile,
    JudgedPairs,
    OwnPairs,
    PoolRows,
    StrengthModel,
    asked_weights,
    asked_words,
    assess,
    calibrate,
    demand_mass,
    fit,
    judged_pairs,
)
from revive.engine.text import normalize, text_words
from revive.engine.understand import read_demand

Runs = dict[str, list[str]]
Qrels = Mapping[str, Mapping[str, int]]


@dataclass
class Pools:
    """Per demand: the index's top POOL candidates, with the texts the assessment reads."""

    index: Index
    chars: CharProfile
    demand_text: dict[str, str]
    candidates: dict[str, list[Any]]
    texts: dict[str, str]
    mass: dict[str, float]  # each demand's ``demand_mass``
    words: dict[str, int]  # each demand's content words (``DemandReading``)
    asked: dict[str, tuple[str, ...]]  # its words the index knows (``asked_words``)
    thin: dict[str, bool]  # and its thin flag
    patent_words: dict[Any, frozenset[str]] = field(default_factory=dict)  # ``words_of``
    asked_weight: dict[str, dict[str, float]] = field(default_factory=dict)  # ``weights``

    def weights(self, q: str) -> dict[str, float]:
        """The demand's specific words weighed (``asked_weights``), for the associations;
        computed once (every fold's counting and scoring asks)."""
        if q not in self.asked_weight:
            self.asked_weight[q] = asked_weights(
                self.index.term_index, self.index.idf, self.asked[q]
            )
        return self.asked_weight[q]

    def words_of(self, ids: Any) -> dict[Any, frozenset[str]]:
        """The words of these patents' texts (``text_words``), each tokenized once."""
        for d in ids:
            if d not in self.patent_words:
                self.patent_words[d] = text_words(self.texts[d])
        return {d: self.patent_words[d] for d in ids}


def doc_text(doc: Doc) -> str:
    return f"{doc.title}。{doc.text}" if doc.title else doc.text


def demand_query(title: str, text: str) -> tuple[list[str], str]:
    """The tokens the index is queried with, and the text the assessment reads: the posting
    with its boilerplate removed (``read_demand``)."""
    reading = read_demand(title, text)
    return demand_tokens(reading.title, reading.text), f"{reading.title}。{reading.text}"


def _reading(q: Doc) -> tuple[int, bool]:
    reading = read_demand(q.title, q.text)
    return reading.content_words, reading.thin


def build_pools(
    docs: Sequence[Doc],
    queries: Sequence[Doc],
    *,
    pool: int = POOL,
    index: Index | None = None,
    doc_tokens: Sequence[Sequence[str]] | None = None,
) -> Pools:
    if index is None:
        tokens = doc_tokens or [patent_tokens(d.title, d.text) for d in docs]
        index = build_index(tokens, [d.id for d in docs], version="eval")
    texts = {d.id: doc_text(d) for d in docs}
    chars = CharProfile.build(texts.values())
    asked = [demand_query(q.title, q.text) for q in queries]
    readings = {q.id: _reading(q) for q in queries}
    found = index.query(
        [tokens for tokens, _ in asked],
        top_k=pool,
        min_score=0.0,
        query_ids=[q.id for q in queries],
    )
    return Pools(
        index=index,
        chars=chars,
        demand_text={q.id: text for q, (_, text) in zip(queries, asked, strict=True)},
        candidates={q.id: rows for q, rows in zip(queries, found, strict=True)},
        texts=texts,
        mass={
            q.id: demand_mass(index.term_index, index.idf, tokens)
            for q, (tokens, _) in zip(queries, asked, strict=True)
        },
        words={q: words for q, (words, _) in readings.items()},
        asked={
            q.id: asked_words(index.term_index, tokens)
            for q, (tokens, _) in zip(queries, asked, strict=True)
        },
        thin={q: thin for q, (_, thin) in readings.items()},
    )


def assessed_pools(
    pools: Pools,
    model: StrengthModel,
    qids: Sequence[str],
    own: Qrels | None = None,
    users: Users | None = None,
) -> dict[str, list]:
    """Each demand's candidates assessed by ``model``. ``own``: the judgements of a set the
    model was fitted on; each posting's own judged pool is then taken out of the model's
    word rates (``WordRates``), as it was when its second stage was fitted, so the
    in-sample figures do not read a posting's answers from its own words; ``users``: the
    judged demands the model's associations counted (``relevant_users``; None: ``own``'s)."""
    if own is not None and users is None:
        users = relevant_users([(pools, own, list(pools.candidates))])
    left = {} if own is None else {str(q): _judged_words(pools, own, q, users) for q in qids}
    return {
        q: assess(
            pools.demand_text[q],
            pools.candidates[q],
            pools.texts,
            pools.chars,
            model,
            mass=pools.mass[q],
            words=pools.words[q],
            thin=pools.thin[q],
            asked=pools.asked[q],
            leave_out=left.get(str(q)),
            weights=pools.weights(q),
        )
        for q in qids
    }


def training_rows(
    pools: Pools, qrels: Qrels, qids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, labels (grade ≥ 1) and demand ids of the judged pairs in the pools: the
    judged part of ``pool_rows``."""
    rows, labels, groups = judged_pairs(pool_rows(pools, qrels, qids))
    return rows, labels, np.asarray(groups)


def _judged_words(pools: Pools, qrels: Qrels, q: str, users: Users | None = None) -> PoolRows:
    """What the word rates count of one demand's judged pool (``WordRates.tally`` /
    ``answered``): each candidate's shared words and label, the posting's words and whether it
    is answered; no feature rows, so the pool need not be assessed again (``pool_rows``)."""
    judged = qrels.get(q, {})
    candidates = pools.candidates[q]
    return PoolRows(
        str(q),
        np.zeros((0, len(FEATURES))),
        np.asarray(
            [int(judged[c.right_id] >= 1) if c.right_id in judged else -1 for c in candidates], int
        ),
        pools.words[q],
        pools.thin[q],
        matched=tuple(tuple(sorted(c.matched)) for c in candidates),
        asked=pools.asked[q],
        answered=any(g >= 1 for g in judged.values()),
        own=own_pairs(pools, qrels, q, users),
    )


# Per patent: the judged demands it is relevant to ((their set's pools, id), their words).
Users = dict[Any, list[tuple[tuple[int, str], frozenset[str]]]]


def relevant_users(parts: Sequence[tuple[Pools, Qrels, Sequence[str]]]) -> Users:
    """Which judged demands (and their specific words) each patent is relevant to: what
    ``own_pairs`` needs to take a demand's distinct patents out exactly."""
    users: Users = {}
    for pools, qrels, qids in parts:
        for q in qids:
            asked = frozenset(pools.weights(q))
            for d, g in qrels.get(q, {}).items():
                if g >= 1 and d in pools.texts:
                    users.setdefault(d, []).append(((id(pools), q), asked))
    return users


def own_pairs(pools: Pools, qrels: Qrels, q: str, users: Users | None = None) -> OwnPairs:
    """What one judged demand put into the associations' counts (``count_associations``):
    its words, whether it was answered, its relevant patents' words, and per word of its own
    the words of those of its relevant patents no other demand using that word shares
    (``users``: the demands counted; None: its own set's)."""
    if users is None:
        users = relevant_users([(pools, qrels, list(pools.candidates))])
    relevant = [d for d, g in qrels.get(q, {}).items() if g >= 1 and d in pools.texts]
    asked = frozenset(pools.weights(q))
    words_of = pools.words_of(relevant)
    held: dict[str, int] = {}
    exclusive: dict[str, dict[str, int]] = {}
    for d, words in words_of.items():
        for v in words:
            held[v] = held.get(v, 0) + 1
        others = [a for key, a in users.get(d, ()) if key != (id(pools), q)]
        for u in asked:
            if not any(u in a for a in others):  # d counts for u through this demand alone
                mine = exclusive.setdefault(u, {})
                for v in words:
                    mine[v] = mine.get(v, 0) + 1
    return OwnPairs(asked, bool(relevant), held, exclusive)


def count_associations(
    parts: Sequence[tuple[Pools, Qrels, Sequence[str]]],
) -> Associations:
    """The associations learned from judged demands (``Associations.count``): each demand's
    specific words and its relevant patents, against the words of every judged or pooled
    patent; associates are words a reason may show (two characters, no filler, number or
    unit, not generic in the first part's index)."""
    return judged_pairs_of(parts).table()


def judged_pairs_of(parts: Sequence[tuple[Pools, Qrels, Sequence[str]]]) -> JudgedPairs:
    """What ``count_associations`` counts, kept (``JudgedPairs``; the release stores it so a
    refit can count officers' accepted pairs beside it): the answered demands' words and
    relevant patents, those patents' words that may be associates, and the judged or pooled
    patents' counts of such words."""
    postings, patents = [], {}
    for pools, qrels, qids in parts:
        for q in qids:
            judged = [d for d in qrels.get(q, {}) if d in pools.texts]
            pooled = [c.right_id for c in pools.candidates[q]]
            patents.update(pools.words_of([*judged, *pooled]))
            relevant = [d for d in judged if qrels[q][d] >= 1]
            if relevant:
                postings.append((tuple(sorted(pools.weights(q))), tuple(relevant)))
    index = parts[0][0].index
    cut = generic_cutoff(index.n_docs)

    def idf_of(word: str) -> float | None:
        col = index.term_index.get(word)
        return None if col is None else float(index.idf[col])

    may: dict[str, bool] = {}

    def keep(v: str) -> bool:
        if v not in may:  # stored space-separated: a word holding a space cannot be one
            may[v] = _meaningful(v, idf_of, cut) and not any(ch.isspace() for ch in v)
        return may[v]

    kept = {d: frozenset(v for v in words if keep(v)) for d, words in patents.items()}
    relevant = {d for _, ids in postings for d in ids}
    return JudgedPairs(
        ASSOCIATION_SUPPORT,
        ASSOCIATION_LIFT,
        ASSOCIATION_PRIOR,
        tuple(postings),
        {str(d): kept[d] for d in sorted(relevant, key=str)},
        dict(Counter(v for words in kept.values() for v in words)),
        len(patents),
    )


def with_translated(
    pooled: Sequence[PoolRows],
    pools: Pools,
    qrels: Qrels,
    associations: Associations,
    users: Users | None = None,
) -> list[PoolRows]:
    """``pooled`` (one set's ``pool_rows``) with each candidate's ``Associations.value``, the
    demand's own counts taken out (``own_pairs``), for the second stage to be fitted on."""
    out = []
    for pr in pooled:
        own = own_pairs(pools, qrels, pr.demand, users)
        texts = [normalize(pools.texts[d]) for d in pr.ids]
        value = associations.value(pools.weights(pr.demand), texts, own)
        out.append(replace(pr, translated=value, own=own))
    return out


def pool_rows(pools: Pools, qrels: Qrels, qids: Sequence[str]) -> list[PoolRows]:
    """Each demand's whole pool (every candidate, unjudged ones labelled -1), the rows the
    second stage is fitted on (``strength.calibrate``)."""
    n = len(FEATURES)
    neutral = StrengthModel(FEATURES, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0)
    out = []
    for q in qids:
        judged = qrels.get(q, {})
        assessed = assess(
            pools.demand_text[q],
            pools.candidates[q],
            pools.texts,
            pools.chars,
            neutral,
            mass=pools.mass[q],
        )
        out.append(
            PoolRows(
                str(q),
                np.asarray([a.row() for a in assessed], np.float64).reshape(-1, n),
                np.asarray(
                    [int(judged[a.doc_id] >= 1) if a.doc_id in judged else -1 for a in assessed],
                    int,
                ),
                pools.words[q],
                pools.thin[q],
                tuple(a.doc_id for a in assessed),
                tuple(tuple(sorted(a.matched)) for a in assessed),
                pools.asked[q],
                any(g >= 1 for g in judged.values()),
            )
        )
    return out


def fit_on(
    pools_and_qrels: Sequence[tuple[Pools, Qrels, Sequence[str]]],
    *,
    stages: int = 2,
    **meta: Any,
) -> StrengthModel:
    """The strength model fitted on judged demands: the first stage on their judged pairs,
    then (``stages`` 2) the second on their whole pools (``strength.calibrate``)."""
    if stages != 2:
        pooled = [pr for p, qr, q in pools_and_qrels for pr in pool_rows(p, qr, q)]
        return fit_pools(pooled, stages=stages, **meta)
    associations, parts = translated_pools(pools_and_qrels)
    pooled = [pr for part in parts for pr in part]
    return fit_pools(pooled, stages=stages, associations=associations, **meta)


def translated_pools(
    parts: Sequence[tuple[Pools, Qrels, Sequence[str]]],
) -> tuple[Associations, list[list[PoolRows]]]:
    """The associations counted from judged demands and each part's ``pool_rows`` with their
    values, each demand's own counts out: what the second stage is fitted on."""
    associations = count_associations(parts)
    users = relevant_users(parts)
    return associations, [
        with_translated(pool_rows(p, qr, q), p, qr, associations, users) for p, qr, q in parts
    ]


def fit_pools(
    pooled: Sequence[PoolRows],
    *,
    stages: int = 2,
    associations: Associations | None = None,
    **meta: Any,
) -> StrengthModel:
    """``fit_on`` over pools already assessed (``pool_rows``; with their ``translated``
    values when ``associations`` is given)."""
    rows, labels, _ = judged_pairs(pooled)
    model = fit(rows, labels, **meta)
    return calibrate(model, pooled, associations=associations) if stages == 2 else model


def cross_validated(
    pools: Pools,
    qrels: Qrels,
    *,
    folds: int = 5,
    extra: Sequence[tuple[Pools, Qrels, Sequence[str]]] = (),
    seed: int | None = None,
    stages: int = 2,
) -> dict[str, list[Assessed]]:
    """Assessed lists per demand, each fold scored by a model fitted on the other folds (and
    on ``extra`` judged sets, whole). Folds group by demand: ``GroupKFold`` (``seed`` None,
    the reported split), or demands shuffled with ``seed`` and dealt into ``folds`` (another
    draw of the split, to see how much a figure moves with it)."""
    from sklearn.model_selection import GroupKFold

    qids = np.asarray(sorted(pools.candidates))
    if seed is None:
        splits = list(GroupKFold(folds).split(qids, groups=qids))
    else:
        fold = np.empty(len(qids), int)
        fold[np.random.default_rng(seed).permutation(len(qids))] = np.arange(len(qids)) % folds
        splits = [(np.flatnonzero(fold != f), np.flatnonzero(fold == f)) for f in range(folds)]
    out: dict[str, list[Assessed]] = {}
    for train, test in splits:
        model = fit_on([(pools, qrels, qids[train]), *extra], stages=stages)
        out.update(assessed_pools(pools, model, list(qids[test])))
    return out


def measured_reliability(
    pools: Pools, qrels: Qrels, model_version: str, k: int = 10
) -> meaning.Reliability:
    """What the strength meant on this set: out-of-fold probabilities of the judged top-``k``
    pairs against their labels, short postings and the rest apart (engine/reliability.py)."""
    probs, labels, short = [], [], []
    for q, rows in cross_validated(pools, qrels).items():
        judged = qrels.get(q, {})
        brief = meaning.is_short(pools.words[q], pools.thin[q])
        for a in rows[:k]:
            if a.doc_id in judged:
                probs.append(a.strength)
                labels.append(int(judged[a.doc_id] >= 1))
                short.append(brief)
    return meaning.fit(probs, labels, short, model_version)


DRAWN = ("ndcg@10", "mrr@10", "strength_auc", "abstained_unanswerable", "relevant_shown")


def cv_draws(
    pools: Pools, qrels: Qrels, bar: float, draws: int, k: int = 10, *, stages: int = 2
) -> dict[str, Any]:
    """Mean and standard deviation of the cross-validated figures over ``draws`` shuffled
    splits (seeds 0 … draws − 1): one split of 200 demands moves nDCG@10 by about ±0.005."""
    per = [
        trust_figures(cross_validated(pools, qrels, seed=seed, stages=stages), qrels, bar, k)
        for seed in range(draws)
    ]
    keys = [key.replace("@10", f"@{k}") for key in DRAWN]
    out: dict[str, Any] = {"draws": draws}
    for key in keys:
        values = np.asarray([f[key] for f in per if f.get(key) is not None], float)
        if len(values):
            out[key] = round(float(values.mean()), 4)
            out[f"{key}_sd"] = round(float(values.std()), 4)
    return out


def auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if len(set(labels)) == 2 else float("nan")


def trust_figures(
    assessed: Mapping[str, Sequence[Assessed]], qrels: Qrels, bar: float, k: int = 10
) -> dict[str, Any]:
    """Ranking, strength AUC, abstention and shown share of assessed lists (see the module)."""
    runs = {q: [a.doc_id for a in rows[:k]] for q, rows in assessed.items()}
    ranking = evaluate(runs, qrels, k)
    labels, probs, shown, abstained_unans, unanswerable, unjudged, total = [], [], 0, 0, 0, 0, 0
    relevant = 0
    for q, rows in assessed.items():
        judged = qrels.get(q, {})
        top = list(rows[:k])
        abstain = not any(a.strength >= bar for a in top)
        answerable = any(g >= 1 for g in judged.values())
        if not answerable:
            unanswerable += 1
            abstained_unans += abstain
        for a in top:
            total += 1
            if a.doc_id not in judged:
                unjudged += 1
                continue
            rel = judged[a.doc_id] >= 1
            labels.append(int(rel))
            probs.append(a.strength)
            if rel:
                relevant += 1
                shown += not abstain
    return {
        **ranking,
        "strength_auc": round(auc(labels, probs), 4),
        "abstained_unanswerable": round(abstained_unans / unanswerable, 4)
        if unanswerable
        else None,
        "relevant_shown": round(shown / relevant, 4) if relevant else None,
        "unanswerable": unanswerable,
        "unjudged_top_k": round(unjudged / total, 4) if total else 0.0,
        "bar": bar,
    }


def reliability(
    assessed: Mapping[str, Sequence[Assessed]], qrels: Qrels, k: int = 10, bins: int = 5
):
    """[(bin low, bin high, pairs, mean probability, observed share relevant)] on judged top-k."""
    pairs = [
        (a.strength, int(qrels[q][a.doc_id] >= 1))
        for q, rows in assessed.items()
        for a in rows[:k]
        if a.doc_id in qrels.get(q, {})
    ]
    if not pairs:
        return []
    probs = np.asarray([p for p, _ in pairs])
    edges = np.quantile(probs, np.linspace(0, 1, bins + 1))
    out = []
    for i in range(bins):
        lo, hi = edges[i], edges[i + 1]
        sel = (probs >= lo) & ((probs <= hi) if i == bins - 1 else (probs < hi))
        if sel.any():
            ys = np.asarray([y for (_, y), s in zip(pairs, sel, strict=True) if s])
            out.append(
                (float(lo), float(hi), int(sel.sum()), float(probs[sel].mean()), float(ys.mean()))
            )
    return out


def first_stage(pools: Pools, k: int = 10) -> Runs:
    return {q: [c.right_id for c in rows[:k]] for q, rows in pools.candidates.items()}


def replay(
    pools: Pools,
    qrels: Qrels,
    base: Sequence[tuple[Pools, Qrels, Sequence[str]]],
    *,
    steps: Sequence[float] = (0.0, 0.25, 0.5, 0.75),
    examined: int = 10,
    bar: float | None = None,
    k: int = 10,
) -> list[dict[str, Any]]:
    """Learning from officers, replayed in time order on judged demands.

    Demands are taken in id order (the order they were posted). For a share ``s`` of them,
    the candidates an officer would have examined (the top ``examined`` the then-current
    model showed) become decisions: a judged relevant pair is accepted, any other judged pair
    rejected as 领域不符. A model is fitted on the ``base`` judged sets plus those decisions,
    each weighted by 1 / examination probability at its rank (officers read from the top:
    p(rank) = 1 / log2(rank + 1)), and scores the *later* demands (the last quarter, never
    decided). ``s = 0`` is the judged-set model alone."""
    qids = sorted(pools.candidates)
    test = qids[int(len(qids) * 0.75) :]
    base_parts = [training_rows(p, qr, q) for p, qr, q in base]
    x0 = np.vstack([x for x, _, _ in base_parts])
    y0 = np.concatenate([y for _, y, _ in base_parts])
    out = []
    model = fit(x0, y0)
    for share in steps:
        seen = qids[: int(len(qids) * share)]
        rows, labels, weights = [x0], [y0], [np.ones(len(y0))]
        if seen:
            shown = assessed_pools(pools, model, seen)  # what the current model showed
            for q in seen:
                judged = qrels.get(q, {})
                for rank, a in enumerate(shown[q][:examined], 1):
                    if a.doc_id not in judged:
                        continue  # an officer skipped it: no decision
                    rows.append(np.asarray([a.row()]))
                    labels.append(np.asarray([int(judged[a.doc_id] >= 1)]))
                    weights.append(np.asarray([np.log2(rank + 1)]))
        fitted = fit(np.vstack(rows), np.concatenate(labels), weights=np.concatenate(weights))
        later = assessed_pools(pools, fitted, test)
        figures = trust_figures(later, qrels, fitted.bar if bar is None else bar, k)
        out.append(
            {
                "decided_share": share,
                "decided_demands": len(seen),
                "decisions": int(sum(len(y) for y in labels[1:])),
                "later_demands": len(test),
                **{key: figures[key] for key in (f"ndcg@{k}", f"mrr@{k}", "strength_auc")},
            }
        )
    return out


def replay_associations(
    pools: Pools,
    qrels: Qrels,
    extra: Sequence[tuple[Pools, Qrels, Sequence[str]]] = (),
    *,
    judged_share: float = 0.5,
    steps: Sequence[float] = (0.0, 0.25, 0.5, 1.0),
    examined: int = 10,
    bar: float | None = None,
    k: int = 10,
) -> list[dict[str, Any]]:
    """Officers' accepted pairs counted into the associations, replayed in time order on
    judged demands, as a refit counts them (``Associations.accepted`` / ``merged``).

    Demands in id order (the order they were posted): the first ``judged_share`` (with
    ``extra``) are the release's judged sets — the model, both stages and its table, is
    fitted on them; the next ones up to the last quarter are decided: of the top ``examined``
    the release model shows, a judged relevant pair is accepted. For a share ``s`` of those
    demands their accepted pairs are counted into the release's table, the rest of the model
    kept, and the last quarter (never judged or decided) is scored. ``s = 0`` is the release."""
    qids = sorted(pools.candidates)
    judged = qids[: int(len(qids) * judged_share)]
    decided = qids[len(judged) : int(len(qids) * 0.75)]
    test = qids[int(len(qids) * 0.75) :]
    parts = [(pools, qrels, judged), *extra]
    release = fit_on(parts)
    counted = judged_pairs_of(parts)
    shown = assessed_pools(pools, release, decided)
    out = []
    for share in steps:
        seen = decided[: int(len(decided) * share)]
        accepted = []
        for q in seen:
            judged_q = qrels.get(q, {})
            relevant = [a.doc_id for a in shown[q][:examined] if judged_q.get(a.doc_id, 0) >= 1]
            if relevant:
                accepted.append((frozenset(pools.weights(q)), pools.words_of(relevant)))
        table = counted.table(Accepted(tuple(accepted))) if accepted else release.associations
        model = replace(release, associations=table)
        later = assessed_pools(pools, model, test)
        figures = trust_figures(later, qrels, model.bar if bar is None else bar, k)
        out.append(
            {
                "decided_share": share,
                "decided_demands": len(seen),
                "accepting_demands": len(accepted),
                "accepted_pairs": sum(len(words) for _, words in accepted),
                "later_demands": len(test),
                **{key: figures[key] for key in (f"ndcg@{k}", f"mrr@{k}", "strength_auc")},
            }
        )
    return out
