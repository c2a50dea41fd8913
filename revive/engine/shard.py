"""One shard of the index: a column range of documents, stored term-major (CSR, terms × docs),
and the exact top-k search over it.

Search is term-at-a-time with a MaxScore-style split, and exact: the query's terms are split
into *essential* ones (short posting lists, plus any long list that could still lift a
document into the top k) and *non-essential* ones (the longest lists, whose summed upper bound
``Σ weight × max posting weight`` is below the bar a document must reach). Essential lists are
accumulated over all documents; non-essential ones are looked up only for the candidates that
could still make the top k (binary search in the sorted posting list). A document that contains
only non-essential terms scores below the bar, so skipping it changes nothing. Finally the top
candidates are re-scored term by term in one fixed order (float64), which makes scores
independent of how the index is cut into shards, and yields each candidate's shared terms for
the explanation at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

# Posting lists up to this length (and at least this fraction of the shard) are always
# accumulated; longer ones are candidates for the non-essential set.
SHORT_POSTINGS = 20_000
SHORT_FRACTION = 1 / 64
# Candidates re-scored exactly beyond top_k, to settle ties and near-ties at the cut.
RESCORE_EXTRA = 16


class Shard:
    """Documents ``ids`` as a terms × docs CSR block (rows: the terms known when the shard was
    built, a prefix of the index vocabulary) with per-term maximum weights."""

    def __init__(self, matrix_t: sp.csr_matrix, ids: Any, name: str) -> None:
        matrix_t = sp.csr_matrix(matrix_t)
        matrix_t.sort_indices()
        if matrix_t.indices.dtype != np.int32:
            matrix_t.indices = matrix_t.indices.astype(np.int32)
        self.matrix_t = matrix_t
        self.ids = ids  # np.ndarray (int64) or list
        self.name = name
        self.offset = 0  # global position of the first document, set by the index
        self.source: Path | None = None  # folder it was loaded from
        self.file_id: tuple[int, ...] | None = None  # its postings file, as loaded
        self.term_max = row_max(matrix_t)
        self._acc: np.ndarray | None = None

    @property
    def n_docs(self) -> int:
        return self.matrix_t.shape[1]

    @property
    def n_terms(self) -> int:
        return self.matrix_t.shape[0]

    @property
    def nnz(self) -> int:
        return int(self.matrix_t.nnz)

    @property
    def nbytes(self) -> int:
        m = self.matrix_t
        ids = self.ids.nbytes if isinstance(self.ids, np.ndarray) else 8 * len(self.ids)
        return m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + self.term_max.nbytes + ids

    # -- search -------------------------------------------------------------------------------

    def lookup(self, term: int, positions: np.ndarray) -> np.ndarray:
        """Weights of ``term`` in the documents at local ``positions`` (sorted), 0 if absent."""
        m = self.matrix_t
        s, e = m.indptr[term], m.indptr[term + 1]
        out = np.zeros(len(positions), np.float64)
        if s == e or not len(positions):
            return out
        seg = m.indices[s:e]
        at = np.searchsorted(seg, positions)
        ok = at < len(seg)
        ok[ok] = seg[at[ok]] == positions[ok]
        out[ok] = m.data[s + at[ok]]
        return out

    def search(
        self,
        terms: np.ndarray,
        weights: np.ndarray,
        top_k: int,
        min_score: float,
        keep: np.ndarray | None = None,
        drop: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top ``top_k`` local positions with score > ``min_score`` for one query (``terms``
        sorted ascending, with ``weights``), best first, ties by position. ``keep``: bool per
        local position (None = all); ``drop``: local positions excluded. Returns (positions,
        scores, per-candidate doc weights of every query term: len(terms) × len(positions))."""
        n_query_terms = len(terms)
        empty = np.zeros(0, np.int64), np.zeros(0), np.zeros((n_query_terms, 0))
        inside = terms < self.n_terms  # terms added after this shard was built: not in it
        if not inside.all():
            terms, weights = terms[inside], weights[inside]
        m = self.matrix_t
        if not len(terms) or top_k <= 0:
            return empty
        starts, ends = m.indptr[terms], m.indptr[terms + 1]
        lengths = ends - starts
        bounds = weights * self.term_max[terms]

        if self._acc is None:
            self._acc = np.zeros(self.n_docs, np.float32)
        acc = self._acc
        short = max(SHORT_POSTINGS, int(self.n_docs * SHORT_FRACTION))
        essential = np.zeros(len(terms), bool)
        essential[(lengths > 0) & (lengths <= short)] = True

        def accumulate(which: np.ndarray) -> None:
            for i in np.flatnonzero(which):
                s, e = starts[i], ends[i]
                idx = m.indices[s:e]
                acc[idx] += m.data[s:e] * np.float32(weights[i])

        accumulate(essential)
        touched = np.flatnonzero(acc)
        theta = self._kth(acc, touched, top_k, keep, drop)
        bar = max(theta, min_score)
        # Long lists from the longest down stay non-essential while their bounds sum below the
        # bar; the rest are accumulated too.
        rest = np.flatnonzero(~essential & (lengths > 0))
        rest = rest[np.argsort(-lengths[rest], kind="stable")]
        cum = np.cumsum(bounds[rest])
        lazy = rest[cum < bar] if bar > 0 else rest[:0]
        eager = np.zeros(len(terms), bool)
        eager[np.setdiff1d(rest, lazy)] = True
        if eager.any():
            accumulate(eager)
            touched = np.flatnonzero(acc)
            theta = max(theta, self._kth(acc, touched, top_k, keep, drop))
        slack = float(bounds[lazy].sum()) if len(lazy) else 0.0

        cands = self._filter(touched, keep, drop)
        partial = acc[cands].astype(np.float64)
        acc[touched] = 0.0  # reset the scratch array for the next query
        # A document whose upper bound is below the k-th lower bound cannot make the top k.
        upper = partial + slack
        sel = (upper >= theta) & (upper > min_score)
        cands, partial = cands[sel], partial[sel]
        for i in lazy:
            partial += weights[i] * self.lookup(int(terms[i]), cands)
        # Exact scores in one fixed order for the best few, then the cut.
        n_best = min(len(cands), top_k + RESCORE_EXTRA)
        if not n_best:
            return empty
        best = np.argpartition(-partial, n_best - 1)[:n_best] if len(cands) > n_best else None
        picked = np.sort(cands if best is None else cands[best])
        doc_w = np.vstack([self.lookup(int(t), picked) for t in terms])
        scores = (doc_w * weights[:, None]).sum(axis=0)
        ok = scores > min_score
        picked, scores, doc_w = picked[ok], scores[ok], doc_w[:, ok]
        order = np.lexsort((picked, -scores))[:top_k]
        if len(terms) < n_query_terms:
            full = np.zeros((n_query_terms, len(order)))
            full[inside] = doc_w[:, order]
            return picked[order], scores[order], full
        return picked[order], scores[order], doc_w[:, order]

    @staticmethod
    def _filter(
        positions: np.ndarray, keep: np.ndarray | None, drop: np.ndarray | None
    ) -> np.ndarray:
        if keep is not None and len(positions):
            positions = positions[keep[positions]]
        if drop is not None and len(drop) and len(positions):
            positions = positions[~np.isin(positions, drop)]
        return positions

    def _kth(
        self,
        acc: np.ndarray,
        touched: np.ndarray,
        top_k: int,
        keep: np.ndarray | None,
        drop: np.ndarray | None,
    ) -> float:
        """The k-th largest accumulated score among eligible documents (0 if fewer): a lower
        bound of the k-th final score, since scores only grow as terms are added."""
        eligible = self._filter(touched, keep, drop)
        if len(eligible) < top_k:
            return 0.0
        vals = acc[eligible]
        return float(np.partition(vals, len(vals) - top_k)[len(vals) - top_k])


def row_max(m: sp.csr_matrix) -> np.ndarray:
    """Largest stored value per row (0 for empty rows), float32."""
    out = np.zeros(m.shape[0], np.float32)
    nonempty = np.flatnonzero(np.diff(m.indptr))
    if len(nonempty):
        out[nonempty] = np.maximum.reduceat(m.data, m.indptr[nonempty]).astype(np.float32)
    return out


def id_array(ids: Sequence[Any]) -> Any:
    """Integer ids as an int64 array (compact, vectorised lookups); anything else as a list."""
    if isinstance(ids, np.ndarray) and ids.dtype.kind in "iu":
        return ids.astype(np.int64)
    ids = list(ids)
    if ids and all(isinstance(i, int | np.integer) and not isinstance(i, bool) for i in ids):
        return np.asarray(ids, dtype=np.int64)
    if not ids:
        return np.zeros(0, np.int64)
    return ids
