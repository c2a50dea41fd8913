"""Bulk ingest: tokenize and count many documents in parallel processes.

Each process tokenizes a chunk and counts it against a vocabulary of its own, returning a
compact docs × terms count matrix (no token strings cross the process boundary, only the
chunk's distinct terms); the parent maps chunk terms to global term ids and stacks the chunks.
``build_from_counts`` then weighs and shards them, vectorised. Pure Python + numpy/scipy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from multiprocessing import get_context

import numpy as np
import scipy.sparse as sp

from revive.engine.index import counts_matrix
from revive.engine.text import TermCounter

Pair = tuple[str | None, str | None]
Chunk = tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int]


def count_chunk(pairs: Sequence[Pair]) -> Chunk:
    """(chunk terms, indptr, term indices, counts, docs) of one chunk of patents' (title,
    text): the tokens of ``patent_tokens``, counted as ids without a string per token."""
    counter = TermCounter()
    cols: list[int] = []
    lengths: list[int] = []
    for title, text in pairs:
        ids = counter.ids(title, text)
        cols.extend(ids)
        lengths.append(len(ids))
    m = counts_matrix(np.asarray(cols, np.int32), lengths, len(counter.terms))
    return list(counter.terms), m.indptr, m.indices, m.data, len(lengths)


def _chunks(pairs: Sequence[Pair], size: int) -> Iterator[Sequence[Pair]]:
    for start in range(0, len(pairs), size):
        yield pairs[start : start + size]


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
    blocks: list[sp.csr_matrix] = []
    done = 0

    def add(chunk: Chunk) -> None:
        nonlocal done
        local, indptr, indices, data, n_docs = chunk
        remap = np.fromiter(
            (terms.setdefault(t, len(terms)) for t in local), np.int32, count=len(local)
        )
        blocks.append((remap[indices] if len(indices) else indices, indptr, data, n_docs))
        done += n_docs
        if progress is not None:
            progress(done)

    if processes > 1 and len(pairs) > chunk_size:
        with get_context("fork").Pool(processes) as pool:
            for chunk in pool.imap(count_chunk, _chunks(pairs, chunk_size)):
                add(chunk)
    else:
        for part in _chunks(pairs, chunk_size):
            add(count_chunk(part))
    n_terms = len(terms)
    matrices = [
        sp.csr_matrix((data, indices, indptr), shape=(n_docs, n_terms))
        for indices, indptr, data, n_docs in blocks
    ]
    counts = sp.vstack(matrices, format="csr") if matrices else sp.csr_matrix((0, n_terms))
    return list(terms), counts
