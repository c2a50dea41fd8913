"""Compiled inner loops (numba) of the search — posting accumulation and top-k selection —
and of bulk ingest's counting.

numba compiles these to machine code on first use and caches the result beside this file
(``cache=True``), so a worker pays the compile once per installation, not per query. They take
plain arrays only. Stored weights are float16, which numba cannot do arithmetic on; the kernels
read their bit patterns (the array viewed as ``uint16``) through ``HALF_TABLE``, the float32
value of every float16 bit pattern — exact, and a 256 KB table stays in cache.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

HALF_TABLE = np.arange(2**16, dtype=np.uint16).view(np.float16).astype(np.float32)
NO_TABLE = np.zeros(0, np.float32)
_BLOCK = 64  # documents the top-k selection first tests together (32: slower; 256: the same)


def _value(data, table, p):  # pragma: no cover - replaced by the overload when compiled
    raise NotImplementedError


@overload(_value, jit_options={"nogil": True})
def _value_impl(data, table, p):
    """The stored weight at ``p``: through the table for bit patterns (integer data), as is
    for float data — chosen once per data type at compile time."""
    if isinstance(data.dtype, types.Integer):
        return lambda data, table, p: table[data[p]]
    return lambda data, table, p: data[p]


@njit(cache=True, nogil=True)
def _accumulate(acc, indptr, indices, data, table, term, w):  # pragma: no cover - compiled
    # Unsigned positions: numba then indexes without its negative-index wraparound (two
    # shifts, masks and adds per array read, half the instructions of the search's hottest
    # loop). 10-17 % less search time at 1M patents, same results.
    # Four postings at a time, every read before any write: a posting list holds a document
    # once, so the four sums are independent, and written one by one the compiler must
    # assume each store may change the next load (acc, indices and data could overlap).
    # The CPU then has four scattered reads of acc in flight instead of one: 12-15 % less
    # accumulation time on the 1M bench's shards (median ratio, alternated), same floats.
    p = np.uint64(indptr[term])
    end = np.uint64(indptr[term + 1])
    four = np.uint64(4)
    while p + four <= end:
        i0, i1 = indices[p], indices[p + np.uint64(1)]
        i2, i3 = indices[p + np.uint64(2)], indices[p + np.uint64(3)]
        v0, v1 = _value(data, table, p), _value(data, table, p + np.uint64(1))
        v2, v3 = _value(data, table, p + np.uint64(2)), _value(data, table, p + np.uint64(3))
        a0, a1, a2, a3 = acc[i0], acc[i1], acc[i2], acc[i3]
        acc[i0] = a0 + w * v0
        acc[i1] = a1 + w * v1
        acc[i2] = a2 + w * v2
        acc[i3] = a3 + w * v3
        p += four
    while p < end:
        acc[indices[p]] += w * _value(data, table, p)
        p += np.uint64(1)


@njit(cache=True, nogil=True)
def weights_at(indptr, indices, data, table, terms, positions):  # pragma: no cover - compiled
    """Stored weight of each of ``terms`` in each of the local ``positions`` (any order; 0 if
    absent, and for a term the shard does not hold: added to the index after it was built),
    by binary search in the sorted posting lists: a len(terms) × len(positions) float64
    matrix (the explanation of a few results).

    Interpolation search (guess where a position lies between the list's end values) was
    measured against this on the 1M bench's results and was no faster: the lists were just
    read by the search, so the binary search's reads hit the cache."""
    out = np.zeros((terms.shape[0], positions.shape[0]), np.float64)
    n_terms = indptr.shape[0] - 1
    for t in range(terms.shape[0]):
        if terms[t] >= n_terms:
            continue
        start = indptr[terms[t]]
        end = indptr[terms[t] + 1]
        for j in range(positions.shape[0]):
            lo, hi = start, end
            while lo < hi:
                mid = (lo + hi) // 2
                if indices[mid] < positions[j]:
                    lo = mid + 1
                else:
                    hi = mid
            if lo < end and indices[lo] == positions[j]:
                out[t, j] = _value(data, table, lo)
    return out


@njit(cache=True, nogil=True, inline="always")
def _offer(s, d, n, k, worst, best_s, best_p, floor, bar, keep, use_keep):  # pragma: no cover
    """Document ``d`` with score ``s`` offered to the ``k`` best kept so far (``n`` of them,
    ``worst`` the slot of the worst once ``n == k``): it enters when it scores > ``floor``,
    ≥ ``bar``, beats the worst (an equal score at a later position loses) and is kept.
    Returns the new (n, worst)."""
    if s <= floor or s < bar:
        return n, worst
    if n == k and s <= best_s[worst]:
        return n, worst
    if use_keep and not keep[d]:
        return n, worst
    if n < k:
        best_s[n] = s
        best_p[n] = d
        n += 1
        if n < k:
            return n, worst
    else:
        best_s[worst] = s
        best_p[worst] = d
    worst = 0
    for i in range(1, k):
        if best_s[i] < best_s[worst] or (best_s[i] == best_s[worst] and best_p[i] > best_p[worst]):
            worst = i
    return n, worst


@njit(cache=True, nogil=True)
def top_k(
    indptr, indices, data, table, terms, weights, n_docs, k, min_score, bar, keep, drop
):  # pragma: no cover - compiled
    """Exact top ``k`` local documents of one shard for one query.

    Score: Σ weights[t] × stored weight of term t, accumulated term at a time in the order
    given, in float32 (a document's sum takes the same steps whatever shard it is in, so its
    score does not depend on how the index is cut). ``data``:
    stored weights, or their float16 bit patterns with ``table`` (empty table: ``data`` holds
    the values). A result scores > ``min_score`` and ≥ ``bar`` (the k-th best of shards
    searched before); ``keep``: bool per document (empty: all); ``drop``: documents excluded.
    Returns (positions, scores), best first, ties by position.

    Every posting of the query's terms is added: at about a nanosecond a posting this beat
    MaxScore-style pruning (skip the long lists, look them up for the candidates left), whose
    bookkeeping cost more than the postings it saved (measured on the 1M bench)."""
    # float32: the accumulator of a full shard (256 KB) stays in the core's L2 cache beside
    # the float16 table, and a posting costs 10-12 % less than with float64 (1M bench, same
    # results). Stored weights are float16 (11 significant bits): float32 sums of a few
    # hundred of them keep far more precision than the weights carry.
    acc = np.zeros(n_docs, np.float32)
    for t in range(terms.shape[0]):
        _accumulate(acc, indptr, indices, data, table, terms[t], np.float32(weights[t]))
    for d in drop:
        acc[d] = 0.0
    best_s = np.empty(k, np.float64)
    best_p = np.empty(k, np.int64)
    n = 0
    worst = 0  # slot of the worst result kept, once k are kept
    use_keep = keep.shape[0] > 0
    floor = max(min_score, 0.0)
    # Whole blocks first, then the documents after the last whole block. Does any document
    # of a block enter? One branch-free, vectorised compare with one bound over the block
    # (a superset of the exact test, which _offer applies); most blocks hold none once k are
    # kept and are skipped. A loop of whole blocks with one bound took 0.4 of the time of
    # testing (> lim, >= bar) in a loop that also checked for a short last block.
    whole = n_docs - n_docs % _BLOCK
    for start in range(0, whole, _BLOCK):
        lim = max(floor, best_s[worst]) if n == k else floor
        lim = max(lim, bar)
        enters = False
        for d in range(start, start + _BLOCK):
            enters |= acc[d] >= lim
        if not enters:
            continue
        for d in range(start, start + _BLOCK):
            s = np.float64(acc[d])
            n, worst = _offer(s, d, n, k, worst, best_s, best_p, floor, bar, keep, use_keep)
    for d in range(whole, n_docs):
        s = np.float64(acc[d])
        n, worst = _offer(s, d, n, k, worst, best_s, best_p, floor, bar, keep, use_keep)
    pos = best_p[:n]
    scores = best_s[:n]
    order = np.argsort(pos)  # then a stable sort by score: ties stay in position order
    pos, scores = pos[order], scores[order]
    order = np.argsort(-scores, kind="mergesort")
    return pos[order], scores[order]


@njit(cache=True, nogil=True, inline="always")
def _count(t, doc, out, mark, slot, indices, data):  # pragma: no cover - compiled
    """Count term ``t`` once more in document ``doc``, whose row is being written up to
    ``out``: a new entry the first time (``mark`` says whether the document has it, ``slot``
    where), else one more on its entry. Returns the row's new end."""
    if mark[t] != doc:
        mark[t], slot[t] = doc, out
        indices[out], data[out] = t, 1.0
        return out + 1
    data[slot[t]] += 1.0
    return out


@njit(cache=True, nogil=True)
def count_terms(  # pragma: no cover - compiled
    recs, doc_mark, starts, sizes, flat, cross_at, cross_ids, n_docs, n_terms
):
    """docs × terms counts (CSR: indptr, indices sorted in each row, float32 data) of a run
    of records (bulk ingest, ``text.TermCounter``): record ``r`` contributes its terms
    ``flat[starts[r] : starts[r] + sizes[r]]``, position ``cross_at[i]`` also the bigram
    ``cross_ids[i]`` across it and the next record, and a record equal to ``doc_mark`` ends
    a document. Duplicates are summed through a per-term mark (no sort of the whole run).
    """
    total = 0
    for p in range(len(recs)):
        total += sizes[recs[p]]
    total += len(cross_at)
    indptr = np.zeros(n_docs + 1, np.int64)
    indices = np.empty(total, np.int32)
    data = np.empty(total, np.float32)
    mark = np.full(n_terms, -1, np.int64)
    slot = np.empty(n_terms, np.int64)
    out, doc, c, begin = 0, 0, 0, 0
    for p in range(len(recs)):
        r = recs[p]
        for q in range(starts[r], starts[r] + sizes[r]):
            out = _count(flat[q], doc, out, mark, slot, indices, data)
        if c < len(cross_at) and cross_at[c] == p:
            out = _count(cross_ids[c], doc, out, mark, slot, indices, data)
            c += 1
        if r == doc_mark:
            order = np.argsort(indices[begin:out], kind="mergesort")
            indices[begin:out] = indices[begin:out][order]
            data[begin:out] = data[begin:out][order]
            doc += 1
            indptr[doc] = out
            begin = out
    return indptr, indices[:out].copy(), data[:out].copy()


@njit(cache=True, nogil=True)
def squeeze_spaces(points, space, part_sep, doc_sep):  # pragma: no cover - compiled
    """Code points (int64) of ``points`` with each run of whitespace (``space``: a table of
    str.isspace) made one space, or none at either end or next to a separator: what
    ``re.sub(r"\\s+", " ")``, taking the spaces off the separators and ``strip`` leave."""
    n = points.shape[0]
    out = np.empty(n, np.int64)
    m = 0
    i = 0
    while i < n:
        c = points[i]
        if c < space.shape[0] and space[c]:
            j = i + 1
            while j < n and points[j] < space.shape[0] and space[points[j]]:
                j += 1
            after_sep = m > 0 and (out[m - 1] == part_sep or out[m - 1] == doc_sep)
            before_sep = j < n and (points[j] == part_sep or points[j] == doc_sep)
            if m > 0 and j < n and not after_sep and not before_sep:
                out[m] = 32
                m += 1
            i = j
        else:
            out[m] = c
            m += 1
            i += 1
    return out[:m].copy()


def warm_count() -> None:
    """Load ``count_terms`` for ingest's types (a process that forks tokenizers calls it
    first, so they do not each load it)."""
    # record 1: term 0, and the end of the one document
    recs, starts, sizes = np.ones(1, np.int64), np.zeros(2, np.int64), np.arange(2)
    none = np.zeros(0, np.int64)
    count_terms(recs, 1, starts, sizes, np.zeros(1, np.int32), none, none.astype(np.int32), 1, 1)
    squeeze_spaces(np.array([32, 97], np.uint32), np.ones(33, np.uint8), 0xE000, 0xE001)


def warm() -> None:
    """Compile (or load from the cache) the kernels for the production types — float16 bit
    patterns with and without a keep mask, postings writable (an index built in memory) and
    read-only (an artifact's memory-mapped arrays: numba types them apart, so a serving
    process would otherwise compile again on its first query, about 70 MB of compiler memory
    of its own) — so the first query does not pay for it; run at install and image build, and
    in a worker's main process before it forks its pool, whose children then share the
    compiled code."""
    terms, weights = np.array([0, 1], np.int64), np.array([1.0, 0.5])
    no_drop = np.zeros(0, np.int64)
    for writable in (True, False):
        indptr = np.array([0, 2, 3], np.int64)
        indices = np.array([0, 1, 1], np.uint16)
        bits = np.array([1.0, 0.5, 0.25], np.float16).view(np.uint16)
        for postings in (indptr, indices, bits):
            postings.setflags(write=writable)
        for keep in (np.zeros(0, np.bool_), np.ones(2, np.bool_)):
            top_k(indptr, indices, bits, HALF_TABLE, terms, weights, 2, 1, 0.0, 0.0, keep, no_drop)
        weights_at(indptr, indices, bits, HALF_TABLE, terms, np.array([1, 0], np.int64))
    warm_count()
    warm_build()


def warm_build() -> None:
    """Load the index-build kernels for the types a build gives them (scipy keeps a shard's
    row pointers as int32 or int64 depending on its size)."""
    indices, counts = np.array([0, 1, 1], np.int32), np.ones(3, np.float32)
    colmap, weight = np.arange(2, dtype=np.int32), np.ones(2, np.float32)
    column_counts(indices, 2)
    for dtype in (np.int32, np.int64):
        indptr = np.array([0, 2, 3], dtype)
        cols, data, squares = weigh_bm25(indptr, indices, counts, colmap, weight, 1.2, 0.75, 1.5)
        transpose_shard(indptr, cols, data, np.sqrt(squares), 0.0, 2)


# ------------------------------------------------------------------------------- index build


@njit(cache=True, nogil=True)
def column_counts(indices, n_columns):  # pragma: no cover - compiled
    """How many entries each column has (``np.bincount`` of the indices, without its copy
    to a wider type)."""
    out = np.zeros(n_columns, np.int64)
    for p in range(indices.shape[0]):
        out[indices[p]] += 1
    return out


@njit(cache=True, nogil=True)
def weigh_bm25(indptr, indices, counts, colmap, weight, k1, b, avgdl):  # pragma: no cover
    """Document rows of a shard (CSR counts; ``colmap`` turns a stored column into the
    vocabulary's) weighted as ``index._weigh`` does for BM25 documents, operation for
    operation in the same order so every float is the same: per entry the column and
    float32(tf) × ``weight``; per row the sum of squares of those (float64), which the
    caller turns into the row's divisor."""
    n_rows = indptr.shape[0] - 1
    base = indptr[0]
    nnz = indptr[n_rows] - base
    cols = np.empty(nnz, np.int32)
    data = np.empty(nnz, np.float32)
    squares = np.zeros(n_rows)
    for r in range(n_rows):
        dl = 0.0
        for p in range(indptr[r], indptr[r + 1]):
            dl += np.float64(counts[p])
        # doc_tf: counts * (k1 + 1.0) / (counts + k1 * (1.0 - b + b * dl / avgdl))
        length = k1 * ((1.0 - b) + (b * dl) / avgdl)
        sq = 0.0
        for p in range(indptr[r], indptr[r + 1]):
            c = np.float64(counts[p])
            tf = (c * (k1 + 1.0)) / (c + length)
            col = colmap[indices[p]]
            value = np.float32(tf) * weight[col]
            cols[p - base] = col
            data[p - base] = value
            sq += np.float64(value) * np.float64(value)
        squares[r] = sq
    return cols, data, squares


@njit(cache=True, nogil=True)
def transpose_shard(indptr, cols, data, divisor, floor, n_terms):  # pragma: no cover
    """Term-major postings (indptr, uint16 document numbers ascending, float32 weights) of
    weighted document rows: each weight divided by its row's ``divisor`` (float64, then
    float32, as ``index._weigh``), those below ``floor`` (when > 0) left out."""
    n_rows = indptr.shape[0] - 1
    base = indptr[0]
    values = np.empty(cols.shape[0], np.float32)
    sizes = np.zeros(n_terms + 1, np.int64)
    for r in range(n_rows):
        for p in range(indptr[r] - base, indptr[r + 1] - base):
            v = np.float32(np.float64(data[p]) / divisor[r])
            values[p] = v
            if not (floor > 0.0 and (v < floor or v == 0.0)):
                sizes[cols[p] + 1] += 1
    t_indptr = np.cumsum(sizes)
    at = t_indptr[:-1].copy()
    total = t_indptr[n_terms]
    t_indices = np.empty(total, np.uint16)
    t_data = np.empty(total, np.float32)
    for r in range(n_rows):
        for p in range(indptr[r] - base, indptr[r + 1] - base):
            v = values[p]
            if not (floor > 0.0 and (v < floor or v == 0.0)):
                q = at[cols[p]]
                t_indices[q] = r
                t_data[q] = v
                at[cols[p]] = q + 1
    return t_indptr, t_indices, t_data
