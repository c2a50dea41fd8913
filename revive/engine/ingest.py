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
from revive.engine.text import TermCounter, demand_tokens, patent_tokens

Pair = tuple[str | None, str | None]
Chunk = tuple[list[str], np.ndarray, np.ndarray, np.ndarray, int]

_TOKENIZERS: dict[str, Callable[[str | None, str | None], list[str]]] = {
    "patent": patent_tokens,
    "demand": demand_tokens,
}


def count_chunk(pairs: Sequence[Pair], kind: str = "patent") -> Chunk:
    """(chunk terms, indptr, term indices, counts, docs) of one chunk of (title, text)."""
    cols: list[int] = []
    lengths: list[int] = []
    if kind == "patent":  # the fast path: ids without a string per token (same tokens)
        counter = TermCounter()
        for title, text in pairs:
            ids = counter.ids(title, text)
            cols.extend(ids)
            lengths.append(len(ids))
        terms = counter.terms
    else:
        tokenize = _TOKENIZERS[kind]
        terms = {}
        for title, text in pairs:
            tokens = tokenize(title, text)
            cols.extend([terms.setdefault(t, len(terms)) for t in tokens])
            lengths.append(len(tokens))
    m = counts_matrix(np.asarray(cols, np.int32), lengths, len(terms))
    return list(terms), m.indptr, m.indices, m.data, len(lengths)


def _count_chunk_job(args: tuple[Sequence[Pair], str]) -> Chunk:
    return count_chunk(*args)


def _chunks(pairs: Sequence[Pair], size: int, kind: str) -> Iterator[tuple[Sequence[Pair], str]]:
    for start in range(0, len(pairs), size):
        yield pairs[start : start + size], kind


def tokenize_and_count(
    pairs: Sequence[Pair],
    *,
    processes: int = 1,
    chunk_size: int = 20_000,
    kind: str = "patent",
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
            for chunk in pool.imap(_count_chunk_job, _chunks(pairs, chunk_size, kind)):
                add(chunk)
    else:
        for args in _chunks(pairs, chunk_size, kind):
            add(count_chunk(*args))
    n_terms = len(terms)
    matrices = [
        sp.csr_matrix((data, indices, indptr), shape=(n_docs, n_terms))
        for indices, indptr, data, n_docs in blocks
    ]
    counts = sp.vstack(matrices, format="csr") if matrices else sp.csr_matrix((0, n_terms))
    return list(terms), counts
