"""One shard of the index: a range of at most 65,536 documents, stored term-major, and the
exact top-k search over it.

Storage: per term a posting list (``indptr`` into ``indices`` / ``data``) of local document
numbers, sorted, as ``uint16`` (a shard holds ≤ 65,536 documents), with weights as ``float16``
(the default ``Params.weight_dtype``): 4 bytes a posting, so a million patents (~173 million
postings) fit in about 0.7 GB.

Search is exact, MaxScore-style. The query's terms with short posting lists are accumulated
over all documents (one ``bincount``); terms with long lists are *non-essential* while the sum
of their upper bounds (query weight × the term's largest weight in the shard) stays below the
bar a document must reach — the k-th best score known so far (from this shard or from shards
searched before it) or ``min_score``. A document with only non-essential terms cannot reach
the bar, so non-essential lists are only looked up (binary search) for the candidates that
can. The best candidates are then re-scored term by term in one fixed order (float64), which
makes scores independent of how the index is cut into shards, and yields the shared terms for
the explanation at the same time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

MAX_SHARD_DOCS = 65_536  # local document numbers fit in uint16
SHORT_FRACTION = 1 / 64  # posting lists up to this share of the shard are always accumulated
RESCORE_EXTRA = 16  # candidates re-scored beyond top_k, to settle near-ties at the cut


class Shard:
    """Documents ``ids`` (≤ 65,536) as term-major posting lists over the terms known when the
    shard was built (a prefix of the index vocabulary), with per-term maximum weights."""

    def __init__(
        self,
        indptr: np.ndarray,
        indices: np.ndarray,
        data: np.ndarray,
        n_docs: int,
        ids: Any,
        name: str,
    ) -> None:
        if n_docs > MAX_SHARD_DOCS:
            raise ValueError(f"a shard holds at most {MAX_SHARD_DOCS} documents")
        self.indptr = np.asarray(indptr, np.int64)
        self.indices = np.asarray(indices, np.uint16)
        self.data = np.asarray(data)
        self.n_docs = int(n_docs)
        self.ids = ids  # np.ndarray (int64) or list
        self.name = name
        self.offset = 0  # global position of the first document, set by the index
        self.source: Path | None = None  # folder it was loaded from
        self.file_id: tuple[int, ...] | None = None  # its postings file, as loaded
        self.term_max = row_max(self.indptr, self.data)

    @classmethod
    def from_matrix(cls, matrix_t: sp.spmatrix, ids: Any, name: str, dtype: Any) -> Shard:
        m = sp.csr_matrix(matrix_t)
        m.sort_indices()
        return cls(m.indptr, m.indices, m.data.astype(dtype), m.shape[1], ids, name)

    @property
    def n_terms(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return len(self.indices)

    @property
    def nbytes(self) -> int:
        ids = self.ids.nbytes if isinstance(self.ids, np.ndarray) else 8 * len(self.ids)
        arrays = (self.indptr, self.indices, self.data, self.term_max)
        return sum(a.nbytes for a in arrays) + ids

    @property
    def matrix_t(self) -> sp.csr_matrix:
        """The postings as a scipy terms × docs matrix (float32; tests and small indexes)."""
        return sp.csr_matrix(
            (self.data.astype(np.float32), self.indices.astype(np.int32), self.indptr),
            shape=(self.n_terms, self.n_docs),
        )

    # -- search -------------------------------------------------------------------------------

    def lookup(self, term: int, positions: np.ndarray) -> np.ndarray:
        """Weights of ``term`` in the documents at local ``positions`` (sorted), 0 if absent."""
        s, e = self.indptr[term], self.indptr[term + 1]
        out = np.zeros(len(positions), np.float64)
        if s == e or not len(positions):
            return out
        seg = self.indices[s:e]
        positions = positions.astype(seg.dtype, copy=False)  # same dtype: no copy of seg
        at = np.searchsorted(seg, positions)
        ok = at < len(seg)
        ok[ok] = seg[at[ok]] == positions[ok]
        out[ok] = self.data[s + at[ok]]
        return out

    def _gather(self, which: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple:
        """The postings of the query terms ``which``: (local docs, stored weights, the query
        term index of each posting), concatenated."""
        if not len(which):
            return np.zeros(0, np.uint16), np.zeros(0, self.data.dtype), np.zeros(0, np.int64)
        s, e = starts[which], ends[which]
        idx = np.concatenate([self.indices[a:b] for a, b in zip(s, e, strict=True)])
        raw = np.concatenate([self.data[a:b] for a, b in zip(s, e, strict=True)])
        return idx, raw, np.repeat(which, e - s)

    def _accumulate(self, postings: tuple, weights: np.ndarray) -> np.ndarray:
        """Σ query weight × stored weight per local document (float64)."""
        idx, raw, term = postings
        if not len(idx):
            return np.zeros(self.n_docs)
        vals = raw.astype(np.float32) * weights[term].astype(np.float32)
        return np.bincount(idx, weights=vals, minlength=self.n_docs)

    def search(
        self,
        terms: np.ndarray,
        weights: np.ndarray,
        top_k: int,
        min_score: float,
        keep: np.ndarray | None = None,
        drop: np.ndarray | None = None,
        bar: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top ``top_k`` local positions with score > ``min_score`` for one query (``terms``
        with ``weights``), best first, ties by position. ``keep``: bool per local position
        (None = all); ``drop``: local positions excluded; ``bar``: a score the result must
        reach to matter (the k-th best from shards already searched; documents below it are
        skipped). Returns (positions, scores, doc weights of every query term for each:
        len(terms) × len(positions))."""
        n_query_terms = len(terms)
        empty = np.zeros(0, np.int64), np.zeros(0), np.zeros((n_query_terms, 0))
        inside = terms < self.n_terms  # terms added after this shard was built: not in it
        if not inside.all():
            terms, weights = terms[inside], weights[inside]
        if not len(terms) or top_k <= 0 or not self.n_docs:
            return empty
        starts, ends = self.indptr[terms], self.indptr[terms + 1]
        lengths = ends - starts
        bounds = weights * self.term_max[terms]
        present = lengths > 0
        longest_first = np.flatnonzero(present)
        longest_first = longest_first[np.argsort(-lengths[longest_first], kind="stable")]
        # With a bar known already (earlier shards), the longest lists whose bounds sum below
        # it are left out from the start; of the others the short ones are accumulated first.
        skip = np.zeros(len(terms), bool)
        pre_floor = max(bar, min_score)
        if pre_floor > 0:
            skip[longest_first[np.cumsum(bounds[longest_first]) < pre_floor]] = True
        short = present & ~skip & (lengths <= max(1, int(self.n_docs * SHORT_FRACTION)))

        gathered = [self._gather(np.flatnonzero(short), starts, ends)]
        acc = self._accumulate(gathered[0], weights)
        cands = self._filter(np.flatnonzero(acc), keep, drop)
        theta = _kth(acc[cands], top_k)
        floor = max(theta, pre_floor)
        # Of the lists not accumulated, the longest stay non-essential while their bounds sum
        # below the floor; the rest are accumulated too.
        rest = longest_first[~short[longest_first]]
        cum = np.cumsum(bounds[rest])
        lazy = rest[cum < floor] if floor > 0 else rest[:0]
        eager = np.setdiff1d(rest, lazy)
        if len(eager):
            gathered.append(self._gather(eager, starts, ends))
            acc += self._accumulate(gathered[-1], weights)
            cands = self._filter(np.flatnonzero(acc), keep, drop)
            theta = max(theta, _kth(acc[cands], top_k))
        slack = float(bounds[lazy].sum()) if len(lazy) else 0.0

        partial = acc[cands]
        # A document whose upper bound is below the k-th lower bound cannot make the top k.
        upper = partial + slack
        sel = (upper >= max(theta, bar)) & (upper > min_score)
        cands, partial = cands[sel], partial[sel]
        # Non-essential lists, largest bound first; after each, drop the candidates that can
        # no longer reach the k-th score even with every remaining bound (MaxScore).
        lazy = lazy[np.argsort(-bounds[lazy], kind="stable")]
        remaining = slack
        for i in lazy:
            if not len(cands):
                break
            s, e = starts[i], ends[i]
            if len(cands) * 16 < e - s:  # few candidates: binary search in the list
                partial += weights[i] * self.lookup(int(terms[i]), cands)
            else:  # many: one pass over the list
                flag = np.zeros(self.n_docs, bool)
                flag[cands] = True
                seg = self.indices[s:e]
                hit = flag[seg]
                at = np.searchsorted(cands, seg[hit])
                partial[at] += weights[i] * self.data[s:e][hit].astype(np.float64)
            remaining -= bounds[i]
            if len(cands) > top_k:
                theta = max(theta, float(np.partition(partial, len(partial) - top_k)[-top_k]))
            alive = (partial + remaining >= max(theta, bar) - 1e-9) & (
                partial + remaining > min_score
            )
            cands, partial = cands[alive], partial[alive]
        # Now exact but for float32 rounding: drop what cannot beat the bar or min_score.
        sel = (partial >= bar - 1e-5) & (partial > min_score - 1e-5)
        cands, partial = cands[sel], partial[sel]
        # Exact scores in one fixed order for the best few, then the cut.
        n_best = min(len(cands), top_k + RESCORE_EXTRA)
        if not n_best:
            return empty
        best = np.argpartition(-partial, n_best - 1)[:n_best] if len(cands) > n_best else None
        picked = np.sort(cands if best is None else cands[best])
        # Stored weights of every query term in the picked documents: the accumulated lists
        # from the gathered postings (one pass), the non-essential ones by lookup.
        doc_w = np.zeros((len(terms), len(picked)))
        flag = np.zeros(self.n_docs, bool)
        flag[picked] = True
        for idx, raw, term in gathered:
            hit = flag[idx]
            doc_w[term[hit], np.searchsorted(picked, idx[hit])] = raw[hit]
        for i in lazy:
            doc_w[i] = self.lookup(int(terms[i]), picked)
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


def _kth(values: np.ndarray, top_k: int) -> float:
    """The k-th largest of ``values`` (0 if fewer): accumulated scores only grow as terms are
    added, so this is a lower bound of the k-th final score."""
    if len(values) < top_k:
        return 0.0
    return float(np.partition(values, len(values) - top_k)[len(values) - top_k])


def row_max(indptr: np.ndarray, data: np.ndarray) -> np.ndarray:
    """Largest stored value per posting list (0 for empty lists), float32."""
    out = np.zeros(len(indptr) - 1, np.float32)
    nonempty = np.flatnonzero(np.diff(indptr))
    if len(nonempty):
        out[nonempty] = np.maximum.reduceat(data, indptr[nonempty]).astype(np.float32)
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
