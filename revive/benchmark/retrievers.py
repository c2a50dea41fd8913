"""The retrievers compared by ``revive eval``: the production engine and two baselines.

* ``engine`` — exactly what the platform runs: ``patent_tokens`` per doc, ``build_index``,
  ``demand_tokens`` per query, ``Index.query`` (without the inventory filters).
* ``tfidf`` — plain jieba TF-IDF: ``jieba.lcut``, no stopwords, no user dictionary, scikit-learn's
  default ``TfidfVectorizer``, cosine.
* ``bm25`` — Okapi BM25 over the same ``jieba.lcut`` tokens (punctuation dropped), with k1 and b
  tuned by grid search on the qrels being evaluated (the baseline gets every advantage).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from revive.benchmark.data import Doc
from revive.benchmark.metrics import evaluate
from revive.engine import Params, build_index, demand_tokens, patent_tokens
from revive.engine.text import DEFAULT_OPTIONS, TokenOptions

Runs = dict[str, list[str]]
_PUNCT = re.compile(r"^[\W_]+$")
BM25_GRID = [
    (k1, b)
    for k1 in (0.6, 0.9, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0)
    for b in (0.3, 0.5, 0.6, 0.75, 0.9, 1.0)
]


@lru_cache(maxsize=1)
def _plain_jieba() -> Callable[[str], list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()  # default dictionary only, no user words
        tok.initialize()
    return tok.lcut


def _text(doc: Doc) -> str:
    return f"{doc.title}。{doc.text}" if doc.title else doc.text


def _top(scores: np.ndarray, ids: Sequence[str], k: int) -> list[str]:
    k = min(k, len(ids))
    part = np.argpartition(-scores, k - 1)[:k]
    order = part[np.lexsort((part, -scores[part]))]
    return [ids[i] for i in order if scores[i] > 0]


def _plain_tokens(doc: Doc) -> list[str]:
    """Plain jieba over the lower-cased title and text, punctuation kept (as TF-IDF sees it)."""
    return _plain_jieba()(_text(doc).lower())


class TokenCache:
    """Token lists of one corpus, each computed once per ``revive eval``: the engine's per
    tokenizer option set (ablations) and plain jieba's (shared by both baselines)."""

    def __init__(self) -> None:
        self.tokens: dict[TokenOptions, list[list[str]]] = {}
        self.plain: list[list[str]] | None = None

    def patents(self, docs: Sequence[Doc], options: TokenOptions) -> list[list[str]]:
        if options not in self.tokens:
            self.tokens[options] = [patent_tokens(d.title, d.text, options=options) for d in docs]
        return self.tokens[options]

    def plain_tokens(self, docs: Sequence[Doc]) -> list[list[str]]:
        if self.plain is None:
            self.plain = [_plain_tokens(d) for d in docs]
        return self.plain


def run_engine(
    docs: Sequence[Doc],
    queries: Sequence[Doc],
    k: int,
    *,
    params: Params | None = None,
    options: TokenOptions = DEFAULT_OPTIONS,
    cache: TokenCache | None = None,
) -> Runs:
    cache = cache or TokenCache()
    index = build_index(
        cache.patents(docs, options), [d.id for d in docs], version="eval", params=params
    )
    qtokens = [demand_tokens(q.title, q.text, options=options) for q in queries]
    results = index.query(qtokens, top_k=k, min_score=0.0, query_ids=[q.id for q in queries])
    return {q.id: [c.right_id for c in rows] for q, rows in zip(queries, results, strict=True)}


def run_tfidf(
    docs: Sequence[Doc], queries: Sequence[Doc], k: int, *, cache: TokenCache | None = None
) -> Runs:
    from sklearn.feature_extraction.text import TfidfVectorizer

    cache = cache or TokenCache()
    vec = TfidfVectorizer(analyzer=_as_is, lowercase=False, token_pattern=None)
    x = vec.fit_transform(cache.plain_tokens(docs))
    q = vec.transform([_plain_tokens(d) for d in queries])
    scores = (q @ x.T).toarray()
    ids = [d.id for d in docs]
    return {qd.id: _top(scores[i], ids, k) for i, qd in enumerate(queries)}


def _as_is(tokens: list[str]) -> list[str]:
    return tokens


def _words(tokens: Sequence[str]) -> list[str]:
    """Plain jieba tokens without whitespace and punctuation (what BM25 counts)."""
    return [w for w in tokens if w.strip() and not _PUNCT.match(w)]


class BM25:
    def __init__(self, doc_tokens: Sequence[Sequence[str]]) -> None:
        from sklearn.feature_extraction.text import CountVectorizer

        self.vec = CountVectorizer(analyzer=_as_is, lowercase=False, token_pattern=None)
        self.tf = sp.csr_matrix(self.vec.fit_transform(doc_tokens), dtype=np.float32)
        n = self.tf.shape[0]
        df = np.bincount(self.tf.indices, minlength=self.tf.shape[1])
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.dl = np.asarray(self.tf.sum(axis=1)).ravel()
        self.avgdl = float(self.dl.mean()) if n else 1.0

    def scores(self, query_tokens: Sequence[Sequence[str]], k1: float, b: float) -> np.ndarray:
        tf = self.tf.tocoo()
        norm = k1 * (1 - b + b * self.dl[tf.row] / self.avgdl)
        w = sp.csr_matrix(
            (tf.data * (k1 + 1) / (tf.data + norm), (tf.row, tf.col)), shape=self.tf.shape
        )
        q = self.vec.transform(query_tokens).astype(np.float32)
        q = sp.csr_matrix(q @ sp.diags(self.idf))
        return (q @ w.T).toarray()


def run_bm25(
    docs: Sequence[Doc],
    queries: Sequence[Doc],
    k: int,
    qrels: Mapping[str, Mapping[str, int]] | None = None,
    *,
    cache: TokenCache | None = None,
) -> tuple[Runs, dict[str, Any]]:
    """BM25 over plain jieba words, tuned as in ``_tuned_bm25``."""
    cache = cache or TokenCache()
    doc_tokens = [_words(t) for t in cache.plain_tokens(docs)]
    query_tokens = [_words(_plain_tokens(q)) for q in queries]
    return _tuned_bm25(docs, queries, k, qrels, doc_tokens, query_tokens)


def run_bm25_engine_tokens(
    docs: Sequence[Doc],
    queries: Sequence[Doc],
    k: int,
    qrels: Mapping[str, Mapping[str, int]] | None = None,
    *,
    cache: TokenCache | None = None,
) -> tuple[Runs, dict[str, Any]]:
    """Tuned BM25 over exactly the engine's tokens (dictionary, stopwords, bigrams): the
    difference to the engine is then the scoring alone."""
    cache = cache or TokenCache()
    query_tokens = [demand_tokens(q.title, q.text) for q in queries]
    return _tuned_bm25(docs, queries, k, qrels, cache.patents(docs, DEFAULT_OPTIONS), query_tokens)


def _tuned_bm25(
    docs: Sequence[Doc],
    queries: Sequence[Doc],
    k: int,
    qrels: Mapping[str, Mapping[str, int]] | None,
    doc_tokens: Sequence[Sequence[str]],
    query_tokens: Sequence[Sequence[str]],
) -> tuple[Runs, dict[str, Any]]:
    """Best (k1, b) on ``qrels`` by nDCG@k (or k1=1.2, b=0.75 without qrels)."""
    model = BM25(doc_tokens)
    ids = [d.id for d in docs]
    best: tuple[float, Runs, dict[str, Any]] | None = None
    for k1, b in BM25_GRID if qrels else [(1.2, 0.75)]:
        scores = model.scores(query_tokens, k1, b)
        runs = {qd.id: _top(scores[i], ids, k) for i, qd in enumerate(queries)}
        score = evaluate(runs, qrels, k)[f"ndcg@{k}"] if qrels else 0.0
        if best is None or score > best[0]:
            best = (score, runs, {"k1": k1, "b": b})
    assert best is not None
    return best[1], best[2]
