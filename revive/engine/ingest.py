"""Bulk ingest: tokenize and count many documents in parallel processes.

Forked processes read their chunks from the parent's memory (only the chunk bounds are sent)
and count each against a vocabulary of their own that lives across chunks, returning a
compact docs × terms count matrix and the terms they met first (no token strings cross the
process boundary); the parent maps each process's term ids to global ids and stacks the
chunks. ``build_from_counts`` then weighs and shards them, vectorised. Pure Python +
numpy/scipy.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from itertools import islice
from multiprocessing import get_context

import numpy as np
import scipy.sparse as sp

from revive.engine.kernels import warm_count
from revive.engine.text import TermCounter, segmenter

Pair = tuple[str | None, str | None]
Chunk = tuple[int, list[str], np.ndarray, np.ndarray, np.ndarray, int]


# While tokenize_and_count runs: the documents (forked processes read their chunks from this
# copy of the parent's memory) and this process's counter, which lives across chunks so each
# distinct segment and term is worked out once per process; a chunk sends back only the terms
# it added.
_PAIRS: Sequence[Pair] = ()
_COUNTER: TermCounter | None = None


def _count_range(bounds: tuple[int, int]) -> Chunk:
    """(pid, terms this process met first in this chunk, indptr, term indices, counts, docs)
    of the patents ``_PAIRS[start:end]``: the tokens of ``patent_tokens``, counted as ids into
    this process's vocabulary without a string per token."""
    global _COUNTER
    if _COUNTER is None:
        _COUNTER = TermCounter()
    known = len(_COUNTER.terms)
    m = _COUNTER.count(_PAIRS[bounds[0] : bounds[1]])
    new = list(islice(_COUNTER.terms, known, None))
    return os.getpid(), new, m.indptr, m.indices, m.data, m.shape[0]


def tokenize_and_count(
    pairs: Sequence[Pair],
    *,
    processes: int = 1,
    chunk_size: int = 20_000,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[str], sp.csr_matrix]:
    """(terms, docs × terms counts) of ``pairs``, in document order. ``processes`` > 1 forks
    a pool (each child loads the dictionary once); ``progress`` gets the documents done."""
    terms: dict[str, int] = {}
    remaps: dict[int, np.ndarray] = {}  # per process: its term ids → global ids
    # the rows, appended as the chunks come back (in document order) to arrays sized from
    # the first chunk and grown when needed: no stacking of every chunk once all are done
    indptr_all = np.zeros(len(pairs) + 1, np.int64)
    indices_all = np.zeros(0, np.int32)
    data_all = np.zeros(0, np.float32)
    done = filled = 0

    def add(chunk: Chunk) -> None:
        nonlocal done, filled, indices_all, data_all
        pid, new, indptr, indices, data, n_docs = chunk
        added = np.fromiter((terms.setdefault(t, len(terms)) for t in new), np.int32, len(new))
        remap = remaps[pid] = np.concatenate((remaps.get(pid, np.zeros(0, np.int32)), added))
        end = filled + len(indices)
        if end > len(indices_all):
            per_doc = end / max(done + n_docs, 1)
            size = max(end, int(1.05 * per_doc * len(pairs)) + 1024, 2 * len(indices_all))
            indices_all = np.concatenate((indices_all[:filled], np.empty(size - filled, np.int32)))
            data_all = np.concatenate((data_all[:filled], np.empty(size - filled, np.float32)))
        if len(indices):
            np.take(remap, indices, out=indices_all[filled:end])
        data_all[filled:end] = data
        indptr_all[done + 1 : done + n_docs + 1] = indptr[1:] + filled
        filled = end
        done += n_docs
        if progress is not None:
            progress(done)

    global _PAIRS, _COUNTER
    bounds = [(a, min(a + chunk_size, len(pairs))) for a in range(0, len(pairs), chunk_size)]
    _PAIRS, _COUNTER = pairs, None  # a fresh vocabulary per call; forked processes inherit it
    try:
        if processes > 1 and len(bounds) > 1:
            warm_count()  # loaded once here, not once per forked process; so is the
            segmenter().spans("预热")  # segmenter (dictionary built, kernel loaded)
            with get_context("fork").Pool(processes) as pool:
                for chunk in pool.imap(_count_range, bounds):
                    add(chunk)
        else:
            for chunk in map(_count_range, bounds):
                add(chunk)
    finally:
        _PAIRS, _COUNTER = (), None
    shape = (len(pairs), len(terms))
    counts = sp.csr_matrix((data_all[:filled], indices_all[:filled], indptr_all), shape=shape)
    return list(terms), counts
