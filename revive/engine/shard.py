"""One shard of the index: a range of at most 65,536 documents, stored term-major, and the
exact top-k search over it.

Storage: per term a posting list (``indptr`` into ``indices`` / ``data``) of local document
numbers, sorted, as ``uint16`` (a shard holds ≤ 65,536 documents), with weights as ``float16``
(the default ``Params.weight_dtype``): 4 bytes a posting, so a million patents (~173 million
postings) fit in about 0.7 GB.

Search is exact and compiled (``kernels.py``): every posting of the query's terms is added
into a per-document float32 accumulator, term by term in one fixed order (so a score does
not depend on how the index is cut into shards), and one pass keeps the k best. At about a
nanosecond a posting this is faster than MaxScore-style pruning was, in numpy or compiled.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from revive.engine import kernels

MAX_SHARD_DOCS = 65_536  # local document numbers fit in uint16
_NO_KEEP = np.zeros(0, np.bool_)
_NO_DROP = np.zeros(0, np.int64)


class Shard:
    """Documents ``ids`` (≤ 65,536) as term-major posting lists over the terms known when the
    shard was built (a prefix of the index vocabulary)."""

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
        # np.asarray keeps a memory map a view (no copy) when the dtype already matches
        self.indptr = np.asarray(indptr, np.int64)
        self.indices = np.asarray(indices, np.uint16)
        self.data = np.asarray(data)
        self.n_docs = int(n_docs)
        self.ids = ids  # np.ndarray (int64) or list
        self.name = name
        self.offset = 0  # global position of the first document, set by the index
        self.source: Path | None = None  # folder it was loaded from
        self.file_id: tuple[int, ...] | None = None  # its postings file, as loaded
        # The weights as the kernels read them: float16 as bit patterns through a table.
        if self.data.dtype == np.float16:
            self._bits, self._table = self.data.view(np.uint16), kernels.HALF_TABLE
        else:
            self._bits, self._table = self.data, kernels.NO_TABLE

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
        arrays = (self.indptr, self.indices, self.data)
        return sum(a.nbytes for a in arrays) + ids

    @property
    def matrix_t(self) -> sp.csr_matrix:
        """The postings as a scipy terms × docs matrix (float32; tests and small indexes)."""
        return sp.csr_matrix(
            (self.data.astype(np.float32), self.indices.astype(np.int32), self.indptr),
            shape=(self.n_terms, self.n_docs),
        )

    # -- search -------------------------------------------------------------------------------

    def weights_at(self, terms: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """Stored weight of each of ``terms`` in each local position (0 where absent, and
        for a term added after this shard was built): len(terms) × len(positions), float64."""
        return kernels.weights_at(
            self.indptr, self.indices, self._bits, self._table, terms, positions
        )

    def search(
        self,
        terms: np.ndarray,
        weights: np.ndarray,
        top_k: int,
        min_score: float,
        keep: np.ndarray | None = None,
        drop: np.ndarray | None = None,
        bar: float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``top_k`` local positions with score > ``min_score`` for one query (``terms``
        with ``weights``), best first, ties by position. ``keep``: bool per local position
        (None = all); ``drop``: local positions excluded; ``bar``: a score the result must
        reach to matter (the k-th best from shards already searched). Returns (positions,
        scores)."""
        inside = terms < self.n_terms  # terms added after this shard was built: not in it
        if not inside.all():
            terms, weights = terms[inside], weights[inside]
        if not len(terms) or top_k <= 0 or not self.n_docs:
            return np.zeros(0, np.int64), np.zeros(0)
        return kernels.top_k(
            self.indptr,
            self.indices,
            self._bits,
            self._table,
            np.ascontiguousarray(terms, np.int64),
            np.ascontiguousarray(weights, np.float64),
            self.n_docs,
            int(top_k),
            float(min_score),
            float(bar),
            _NO_KEEP if keep is None else np.ascontiguousarray(keep, np.bool_),
            _NO_DROP if drop is None else np.ascontiguousarray(drop, np.int64),
        )


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
