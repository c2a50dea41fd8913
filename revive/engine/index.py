"""TF-IDF index over stored token lists: build, save/load, score, explain.

The document matrix is kept transposed (terms × docs, CSR, float32, rows of the untransposed
matrix L2-normalised), which is what a query-side product needs: ``q @ XT`` touches only the
rows of the query's terms and yields a sparse score row, so no dense per-document array is
allocated per query. Top-k uses ``argpartition`` on the non-zero scores only. Shards are column
ranges of ``XT``: ``score_block`` scores one, ``merge_topk`` merges per-shard lists, and the
result equals the unsharded one (ties broken by index position in both).

Artifact folder: ``matrix.npz`` (scipy), ``vocab.json`` (terms in column order), ``arrays.npz``
(idf, column weights), ``ids.json``, ``meta.json`` (version, tokenizer version, params). No
pickle: loading rebuilds the transform from plain arrays.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from revive.engine.text import BIGRAM_MARK, TOKENIZER_VERSION
from revive.engine.types import Candidate

FORMAT = 2  # 2: BM25-saturated document tf, avgdl stored
DEFAULT_MIN_SCORE = 0.05


@dataclass(frozen=True)
class Params:
    """Scoring parameters. Documents: tf saturated as in Okapi BM25, tf·(k1+1)/(tf + k1·(1 − b +
    b·dl/avgdl)), times IDF, L2-normalised. Queries: sublinear tf (1 + ln tf) times IDF^
    query_idf_power. Score: the cosine of the two. See eval/dev/RESULTS.md for the measurements
    behind each choice."""

    sublinear_tf: bool = True  # query side: 1 + ln tf (False: raw counts)
    doc_tf: str = "bm25"  # "bm25" (saturated, length-aware) | "log" (1 + ln tf) | "raw"
    k1: float = 2.0
    b: float = 0.5
    query_idf_power: float = 0.5
    bigram_weight: float = 1.0  # weight of the character-bigram block against words
    min_df: int = 1
    max_df: float = 1.0  # drop terms in more than this fraction of docs (1.0 = keep all)
    doc_norm_power: float = 1.0  # doc rows divided by ‖d‖^p (1 = cosine; < 1 favours long docs)
    explain_terms: int = 5

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Params:
        """Params saved with an index; keys of parameters since removed are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------------------- shard pieces


def score_block(
    query_matrix: sp.spmatrix,
    block: sp.spmatrix,
    block_ids: Sequence[Any],
    top_k: int,
    *,
    min_score: float = 0.0,
    allowed: Sequence[Collection[int] | None] | None = None,
    offset: int = 0,
) -> list[list[tuple[Any, float, int]]]:
    """Score query rows against one block of documents.

    ``block`` is terms × docs (the transposed layout; a docs × terms block is transposed).
    ``allowed``: per query, a collection of *global positions* allowed (None = all); ``offset``
    is the block's first global position. Returns per query ``[(doc_id, score, position)]``
    sorted by score desc then position.
    """
    q = sp.csr_matrix(query_matrix, dtype=np.float32)
    if block.shape[0] != q.shape[1]:
        block = block.T
    block = sp.csr_matrix(block)
    scores = (q @ block).tocsr()
    out: list[list[tuple[Any, float, int]]] = []
    for row in range(q.shape[0]):
        start, end = scores.indptr[row], scores.indptr[row + 1]
        cols = scores.indices[start:end]
        vals = scores.data[start:end]
        keep = vals > min_score
        if allowed is not None and allowed[row] is not None:
            pos = np.fromiter(allowed[row], dtype=np.int64) - offset
            keep &= np.isin(cols, pos)
        cols, vals = cols[keep], vals[keep]
        if len(vals) > top_k:
            part = np.argpartition(-vals, top_k - 1)[:top_k]
            threshold = vals[part].min()
            sel = vals >= threshold  # every tie at the boundary, then cut deterministically
            cols, vals = cols[sel], vals[sel]
        order = np.lexsort((cols, -vals))[:top_k]
        out.append(
            [
                (block_ids[c], float(vals[c_i]), int(c) + offset)
                for c_i, c in zip(order, cols[order], strict=True)
            ]
        )
    return out


def merge_topk(
    lists: Iterable[list[list[tuple[Any, float, int]]]], top_k: int
) -> list[list[tuple[Any, float, int]]]:
    """Merge per-shard ``score_block`` outputs (same queries, same order) into one top-k."""
    merged: list[list[tuple[Any, float, int]]] | None = None
    for shard in lists:
        if merged is None:
            merged = [list(rows) for rows in shard]
        else:
            for acc, rows in zip(merged, shard, strict=True):
                acc.extend(rows)
    if merged is None:
        return []
    return [sorted(acc, key=lambda t: (-t[1], t[2]))[:top_k] for acc in merged]


# ---------------------------------------------------------------------------- the index


class Index:
    """Vocabulary, IDF, the transposed document matrix and the document ids."""

    def __init__(
        self,
        *,
        vocabulary: list[str],
        idf: np.ndarray,
        matrix_t: sp.csr_matrix,
        ids: list[Any],
        version: Any,
        params: Params,
        tokenizer_version: str = TOKENIZER_VERSION,
        avgdl: float = 1.0,
    ) -> None:
        self.vocabulary = vocabulary
        self.avgdl = float(avgdl)
        self.term_index = {t: i for i, t in enumerate(vocabulary)}
        self.idf = idf.astype(np.float32)
        self.column_weight = _column_weight(vocabulary, params)
        self.matrix_t = matrix_t
        self.ids = ids
        self.position = {doc_id: i for i, doc_id in enumerate(ids)}
        self.version = version
        self.params = params
        self.tokenizer_version = tokenizer_version

    def __len__(self) -> int:
        return len(self.ids)

    # -- vectors -----------------------------------------------------------------------------

    def vectorize(
        self, token_lists: Iterable[Sequence[str]], *, query: bool = False
    ) -> sp.csr_matrix:
        """Rows in the index's space (unknown terms dropped), L2-normalised, float32: weighted
        as queries (``query=True``) or as documents (the reverse direction scores a patent
        text against demand texts)."""
        p = self.params
        if query:
            weight = self.idf**p.query_idf_power * self.column_weight
            return _vectorize(token_lists, self.term_index, weight, p)
        weight = self.idf * self.column_weight
        return _vectorize(token_lists, self.term_index, weight, p, avgdl=self.avgdl)

    # -- querying ----------------------------------------------------------------------------

    def query(
        self,
        query_token_lists: Sequence[Sequence[str]],
        *,
        top_k: int = 20,
        min_score: float = DEFAULT_MIN_SCORE,
        allowed: Sequence[Collection[Any] | None] | None = None,
        query_ids: Sequence[Any] | None = None,
        shard_size: int | None = None,
    ) -> list[list[Candidate]]:
        """Top-k patents per query; ``allowed`` (per query, doc ids or None) filters."""
        qm = self.vectorize(query_token_lists, query=True)
        qids = list(query_ids) if query_ids is not None else list(range(qm.shape[0]))
        allowed_pos = None
        if allowed is not None:
            allowed_pos = [
                None if a is None else [self.position[d] for d in a if d in self.position]
                for a in allowed
            ]
        n = len(self.ids)
        step = shard_size or max(n, 1)
        shards = []
        for start in range(0, max(n, 1), step):
            stop = min(start + step, n)
            block = self.matrix_t if (start, stop) == (0, n) else self.matrix_t[:, start:stop]
            shards.append(
                score_block(
                    qm,
                    block,
                    self.ids[start:stop],
                    top_k,
                    min_score=min_score,
                    allowed=allowed_pos,
                    offset=start,
                )
            )
        merged = merge_topk(shards, top_k)
        out = []
        for row, (qid, rows) in enumerate(zip(qids, merged, strict=True)):
            terms = self.explain(qm, row, [pos for _, _, pos in rows])
            out.append(
                [
                    Candidate(qid, doc_id, round(score, 6), t)
                    for (doc_id, score, _), t in zip(rows, terms, strict=True)
                ]
            )
        return out

    def explain(
        self, qm: sp.csr_matrix, row: int, positions: Sequence[int]
    ) -> list[tuple[tuple[str, float], ...]]:
        """Per candidate position: shared terms with their contribution (query weight × doc
        weight), largest first; words are preferred, bigrams only fill in when fewer words are
        shared (and are not part of a word already shown)."""
        if not positions:
            return []
        start, end = qm.indptr[row], qm.indptr[row + 1]
        terms, qw = qm.indices[start:end], qm.data[start:end]
        # terms × candidates, one sparse slice per query
        sub = self.matrix_t[terms][:, list(positions)].toarray() * qw[:, None]
        return [
            pick_terms(
                [(self.vocabulary[terms[i]], float(sub[i, j])) for i in np.flatnonzero(sub[:, j])],
                self.params.explain_terms,
            )
            for j in range(len(positions))
        ]

    def block(self, start: int, stop: int) -> tuple[sp.csr_matrix, list[Any]]:
        """Documents ``start:stop`` as a terms × docs block with their ids (one shard)."""
        return sp.csr_matrix(self.matrix_t[:, start:stop]), self.ids[start:stop]

    # -- persistence -------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        sp.save_npz(folder / "matrix.npz", self.matrix_t, compressed=False)
        np.savez(folder / "arrays.npz", idf=self.idf)
        (folder / "vocab.json").write_text(json.dumps(self.vocabulary, ensure_ascii=False), "utf-8")
        (folder / "ids.json").write_text(json.dumps(self.ids, ensure_ascii=False), "utf-8")
        meta = {
            "format": FORMAT,
            "version": self.version,
            "tokenizer_version": self.tokenizer_version,
            "params": self.params.to_json(),
            "docs": len(self.ids),
            "terms": len(self.vocabulary),
            "avgdl": self.avgdl,
        }
        (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Index:
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"unsupported index format: {meta.get('format')!r}")
        arrays = np.load(folder / "arrays.npz", allow_pickle=False)
        return cls(
            vocabulary=json.loads((folder / "vocab.json").read_text("utf-8")),
            idf=arrays["idf"],
            matrix_t=sp.csr_matrix(sp.load_npz(folder / "matrix.npz")),
            ids=json.loads((folder / "ids.json").read_text("utf-8")),
            version=meta["version"],
            params=Params.from_json(meta["params"]),
            tokenizer_version=meta["tokenizer_version"],
            avgdl=meta["avgdl"],
        )


def pick_terms(pairs: Iterable[tuple[str, float]], n: int) -> tuple[tuple[str, float], ...]:
    """Top ``n`` (term, weight) by weight, words first; bigrams (mark stripped) fill in."""
    words: list[tuple[str, float]] = []
    grams: list[tuple[str, float]] = []
    for term, weight in pairs:
        if term.startswith(BIGRAM_MARK):
            grams.append((term[len(BIGRAM_MARK) :], weight))
        else:
            words.append((term, weight))
    words.sort(key=lambda t: (-t[1], t[0]))
    grams.sort(key=lambda t: (-t[1], t[0]))
    picked = words[:n]
    seen = " ".join(w for w, _ in picked)
    for gram, weight in grams:
        if len(picked) >= n:
            break
        if gram not in seen:
            picked.append((gram, weight))
            seen += " " + gram
    return tuple((t, round(w, 4)) for t, w in sorted(picked, key=lambda t: (-t[1], t[0])))


def _column_weight(vocabulary: Sequence[str], params: Params) -> np.ndarray:
    """Per term: ``params.bigram_weight`` for a character bigram, 1 for a word."""
    return np.array(
        [params.bigram_weight if t.startswith(BIGRAM_MARK) else 1.0 for t in vocabulary],
        dtype=np.float32,
    )


def _weigh(
    row: np.ndarray,
    col: np.ndarray,
    counts: np.ndarray,
    n_rows: int,
    term_weight: np.ndarray,
    params: Params,
    avgdl: float | None = None,
) -> np.ndarray:
    """Weights of the entries (``row``, ``col``) with term counts ``counts``: tf times
    ``term_weight[col]``, rows L2-normalised. Query rows (``avgdl`` None): tf = 1 + ln tf (or
    raw); document rows: tf per ``params.doc_tf``, rows divided by ‖d‖^doc_norm_power. The one
    weighting of both ``build_index`` and ``Index.vectorize``."""
    counts = counts.astype(np.float64)
    if avgdl is None:
        tf = 1.0 + np.log(counts) if params.sublinear_tf else counts
        norm_power = 1.0
    else:
        dl = np.bincount(row, weights=counts, minlength=n_rows)
        tf = doc_tf(counts, dl[row], avgdl, params)
        norm_power = params.doc_norm_power
    data = tf.astype(np.float32) * term_weight[col]
    norms = np.sqrt(np.bincount(row, weights=data.astype(np.float64) ** 2, minlength=n_rows))
    norms[norms == 0] = 1.0
    return (data / (norms**norm_power)[row]).astype(np.float32)


def _vectorize(
    token_lists: Iterable[Sequence[str]],
    term_index: dict[str, int],
    term_weight: np.ndarray,
    params: Params,
    avgdl: float | None = None,
) -> sp.csr_matrix:
    """Query rows (``avgdl`` None) or document rows (docs × terms, CSR, float32); terms
    outside ``term_index`` are dropped."""
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    n = 0
    for n, tokens in enumerate(token_lists, start=1):
        c = Counter(t for t in tokens if t in term_index)
        rows.extend([n - 1] * len(c))
        cols.extend(term_index[t] for t in c)
        counts.extend(c.values())
    row = np.asarray(rows, dtype=np.int64)
    col = np.asarray(cols, dtype=np.int64)
    data = _weigh(row, col, np.asarray(counts), n, term_weight, params, avgdl)
    m = sp.csr_matrix((data, (row, col)), shape=(n, len(term_index)), dtype=np.float32)
    m.sort_indices()
    return m


def doc_tf(counts: np.ndarray, dl: np.ndarray, avgdl: float, params: Params) -> np.ndarray:
    """Document-side tf weight: BM25 saturation (default), 1 + ln tf, or raw counts."""
    if params.doc_tf == "bm25":
        k1, b = params.k1, params.b
        return counts * (k1 + 1.0) / (counts + k1 * (1.0 - b + b * dl / max(avgdl, 1e-9)))
    if params.doc_tf == "log":
        return 1.0 + np.log(counts)
    return counts


def build_index(
    token_lists: Sequence[Sequence[str]],
    ids: Sequence[Any],
    *,
    version: Any,
    params: Params | None = None,
    tokenizer_version: str = TOKENIZER_VERSION,
) -> Index:
    """Vocabulary/IDF (smooth: ln((1+n)/(1+df)) + 1) and the transposed normalised matrix."""
    params = params or Params()
    if len(token_lists) != len(ids):
        raise ValueError("token_lists and ids differ in length")
    n = len(token_lists)
    # one pass: term ids and per-doc counts, all further work vectorised in numpy/scipy
    term_ids: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for r, tokens in enumerate(token_lists):
        c = Counter(tokens)
        cols.append(np.fromiter((term_ids.setdefault(t, len(term_ids)) for t in c), np.int32))
        counts.append(np.fromiter(c.values(), np.float32, count=len(c)))
        rows.append(np.full(len(c), r, np.int32))
    names = np.array(list(term_ids), dtype=object)
    del term_ids
    col = np.concatenate(cols) if cols else np.zeros(0, np.int32)
    cnt = np.concatenate(counts) if counts else np.zeros(0, np.float32)
    row = np.concatenate(rows) if rows else np.zeros(0, np.int32)
    del cols, counts, rows
    df = np.bincount(col, minlength=len(names))
    keep = (df >= params.min_df) & (df <= params.max_df * n)
    order = np.argsort(names[keep].astype(str), kind="stable")  # vocabulary in sorted order
    vocabulary = [str(t) for t in names[keep][order]]
    new_id = np.full(len(names), -1, np.int64)
    new_id[np.flatnonzero(keep)[order]] = np.arange(len(vocabulary))
    col = new_id[col]
    sel = col >= 0
    row, col, cnt = row[sel], col[sel].astype(np.int32), cnt[sel]
    dfs = df[keep][order].astype(np.float64)
    idf = (np.log((1.0 + n) / (1.0 + dfs)) + 1.0).astype(np.float32)
    avgdl = float(cnt.sum(dtype=np.float64) / n) if n else 1.0  # mean kept-token count
    data = _weigh(row, col, cnt, n, idf * _column_weight(vocabulary, params), params, avgdl)
    # terms × docs directly (CSR of the transpose), indices sorted within each term
    matrix_t = sp.csr_matrix((data, (col, row)), shape=(len(vocabulary), n), dtype=np.float32)
    matrix_t.sort_indices()
    return Index(
        vocabulary=vocabulary,
        idf=idf,
        matrix_t=matrix_t,
        ids=list(ids),
        version=version,
        params=params,
        tokenizer_version=tokenizer_version,
        avgdl=avgdl,
    )


def rank_against(
    query_tokens: Sequence[str],
    doc_token_lists: Sequence[Sequence[str]],
    doc_ids: Sequence[Any],
    index: Index,
    top_k: int = 20,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    query_id: Any = None,
) -> list[Candidate]:
    """Reverse direction (patent → open demands): score one token list against a small set of
    texts in the index's IDF space. ``left_id`` = ``query_id``, ``right_id`` = a doc id."""
    if not doc_ids:
        return []
    qm = index.vectorize([query_tokens])
    docs = index.vectorize(doc_token_lists, query=True)
    rows = score_block(qm, docs.T, list(doc_ids), top_k, min_score=min_score)[0]
    out = []
    for doc_id, score, pos in rows:
        shared = qm.multiply(docs[pos]).tocsr()
        pairs = [
            (index.vocabulary[t], float(w))
            for t, w in zip(shared.indices, shared.data, strict=True)
        ]
        terms = pick_terms(pairs, index.params.explain_terms)
        out.append(Candidate(query_id, doc_id, round(score, 6), terms))
    return out
