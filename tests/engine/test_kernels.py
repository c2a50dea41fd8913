"""The compiled search kernels against plain numpy on random shards: the exact top k with
its tie order, filters, bar, and the per-term weights used for explanations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from revive.engine import kernels


def _arrays(dense: np.ndarray, dtype=np.float16):
    """A dense terms × documents matrix as a shard's kernel arrays: indptr, indices, data (as
    stored: float16 as its bits) and the table that reads them."""
    m = sp.csr_matrix(dense.astype(np.float32))  # scipy has no float16 matrices
    m.sort_indices()
    data = m.data.astype(dtype)
    indptr, indices = m.indptr.astype(np.int64), m.indices.astype(np.uint16)
    if dtype == np.float16:
        return indptr, indices, data.view(np.uint16), kernels.HALF_TABLE
    return indptr, indices, data, kernels.NO_TABLE


def _shard(rng, n_terms: int, n_docs: int, dtype):
    # few distinct weights: many exact ties
    dense = rng.choice([0, 0, 0, 0.25, 0.5, 1.0], size=(n_terms, n_docs)).astype(dtype)
    return (*_arrays(dense, dtype), dense)


def _reference(dense, terms, weights, k, min_score, bar, keep, drop):
    scores = (dense[terms].astype(np.float64) * weights[:, None]).sum(axis=0)
    ok = (scores > min_score) & (scores >= bar)
    if len(keep):
        ok &= keep
    ok[drop] = False
    docs = np.flatnonzero(ok)
    order = np.lexsort((docs, -scores[docs]))[:k]  # score desc, then position
    return docs[order], scores[docs][order]


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
@pytest.mark.parametrize("seed", range(6))
def test_top_k_equals_scoring_every_document(dtype, seed):
    rng = np.random.default_rng(seed)
    n_terms, n_docs = 30, 300
    indptr, indices, data, table, dense = _shard(rng, n_terms, n_docs, dtype)
    for _ in range(10):
        terms = np.sort(rng.choice(n_terms, size=rng.integers(1, 8), replace=False)).astype(
            np.int64
        )
        weights = rng.choice([0.5, 1.0, 2.0], size=len(terms)).astype(np.float64)
        k = int(rng.integers(1, 25))
        min_score = float(rng.choice([0.0, 0.3]))
        bar = float(rng.choice([0.0, 0.0, 1.0]))
        keep = rng.random(n_docs) < 0.7 if rng.random() < 0.5 else np.zeros(0, np.bool_)
        drop = np.sort(rng.choice(n_docs, size=rng.integers(0, 20), replace=False)).astype(np.int64)
        got_pos, got_scores = kernels.top_k(
            indptr, indices, data, table, terms, weights, n_docs, k, min_score, bar, keep, drop
        )
        want_pos, want_scores = _reference(dense, terms, weights, k, min_score, bar, keep, drop)
        assert got_pos.tolist() == want_pos.tolist()
        assert got_scores == pytest.approx(want_scores, abs=1e-12)


def test_top_k_keeps_the_first_positions_of_a_tie_that_spans_blocks():
    """The selection tests blocks of documents at once and skips a block none of whose
    documents can enter: a document equal to the k-th score at a later position must not
    enter, an earlier one must, across block boundaries and with a bar."""
    n_docs = 1_000
    dense = np.zeros((2, n_docs), np.float32)
    dense[0, ::7] = 0.5  # every 7th document scores the same
    dense[1, 900] = 1.0  # one later document beats them all
    indptr, indices, data, table = _arrays(dense)
    terms, weights = np.array([0, 1], np.int64), np.array([1.0, 1.0])
    none_kept, none_dropped = np.zeros(0, np.bool_), np.zeros(0, np.int64)
    for k, bar in ((5, 0.0), (40, 0.5), (3, 0.6)):
        pos, scores = kernels.top_k(
            indptr,
            indices,
            data,
            table,
            terms,
            weights,
            n_docs,
            k,
            0.0,
            bar,
            none_kept,
            none_dropped,
        )
        want, want_scores = _reference(dense, terms, weights, k, 0.0, bar, none_kept, none_dropped)
        assert pos.tolist() == want.tolist()
        assert scores.tolist() == want_scores.tolist()
    assert pos.tolist() == [900]  # bar 0.6: only the one above the tie


def test_weights_at_reads_each_term_in_any_position_order():
    rng = np.random.default_rng(9)
    indptr, indices, data, table, dense = _shard(rng, 12, 200, np.float16)
    terms = np.array([3, 0, 11, 7], np.int64)
    positions = np.array([150, 2, 199, 2, 64, 0], np.int64)  # unsorted, with a repeat
    got = kernels.weights_at(indptr, indices, data, table, terms, positions)
    assert got.tolist() == dense[terms][:, positions].astype(np.float64).tolist()


@pytest.mark.parametrize("density", [0.002, 0.05, 0.5, 1.0])
def test_weights_at_finds_every_posting_in_long_and_skewed_lists(density):
    """Lists of every length, spread evenly or bunched at one end: each document looked up
    (present or not, the first and last included); terms the shard does not hold (added to
    the index after it was built) read as 0."""
    rng = np.random.default_rng(int(density * 1000))
    n_docs = 5000
    dense = np.zeros((6, n_docs), np.float16)
    for t in range(6):
        if t % 2:  # bunched: most of the list in the first tenth of the shard
            p = np.where(np.arange(n_docs) < n_docs // 10, 9.0, 0.1)
            docs = rng.choice(n_docs, int(n_docs * density), replace=False, p=p / p.sum())
        else:
            docs = rng.choice(n_docs, int(n_docs * density), replace=False)
        dense[t, docs] = rng.choice([0.25, 0.5, 1.0], len(docs))
    indptr, indices, data, table = _arrays(dense)
    terms = np.array([0, 1, 2, 3, 4, 5, 6, 40], np.int64)  # 6 and 40: not in the shard
    positions = np.concatenate([[0, n_docs - 1], rng.permutation(n_docs)[:700]]).astype(np.int64)
    got = kernels.weights_at(indptr, indices, data, table, terms, positions)
    want = np.zeros((len(terms), len(positions)))
    want[:6] = dense[:, positions].astype(np.float64)
    assert got.tolist() == want.tolist()


def test_warm_compiles_what_a_loaded_index_searches_with(tmp_path):
    """A serving process searches an artifact's memory-mapped (read-only) arrays. ``warm``
    compiles those types too, so the first query compiles nothing: a worker's main process
    warms before forking and its pool processes share the compiled code."""
    from revive.engine import Index, build_index

    kernels.warm()
    compiled = (list(kernels.top_k.signatures), list(kernels.weights_at.signatures))
    build_index([["电池", "正极"], ["电池", "隔膜"], ["齿轮"]], ["a", "b", "c"], version="v").save(
        tmp_path / "index"
    )
    index = Index.load(tmp_path / "index")
    rows = index.query([["电池", "正极"]], top_k=2)
    assert [c.right_id for c in rows[0]][0] == "a"
    assert any(not a.mutable for sig in compiled[0] for a in sig if hasattr(a, "mutable"))
    assert (list(kernels.top_k.signatures), list(kernels.weights_at.signatures)) == compiled


@pytest.mark.parametrize(
    "changes",
    [{}, {"posting_floor": 0.12}, {"doc_norm_power": 0.8, "k1": 0.9, "b": 0.4}],
    ids=["product", "floor", "other-bm25"],
)
def test_compiled_shard_weighting_gives_the_same_bytes_as_numpy(changes):
    """Index build weighs BM25 shards in compiled kernels; every stored weight, document
    number and posting-list boundary equals the numpy/scipy path's, so search results do
    not move by a bit."""
    import dataclasses

    from revive.engine import index as ix

    rng = np.random.default_rng(3)
    n_docs, n_terms = 3000, 900
    lengths = rng.integers(0, 60, n_docs)
    rows = np.repeat(np.arange(n_docs), lengths)
    cols = rng.zipf(1.3, len(rows)) % n_terms
    counts = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_docs, n_terms))
    counts.sum_duplicates()
    # stored columns in another order, as an ingest process numbers terms first-seen
    colmap = rng.permutation(n_terms).astype(np.int32)
    vocabulary = [f"t{i:04d}" if i % 3 else f"~{i:04d}" for i in range(n_terms)]
    params = dataclasses.replace(ix.Params(), **changes)
    weight = (rng.random(n_terms) * 3).astype(np.float32)
    avgdl = float(counts.data.sum() / n_docs)
    ids, entries = list(range(n_docs)), counts.nnz
    got = ix._weighted_shard(counts, ids, weight, vocabulary, params, avgdl, "s", colmap)
    want = ix._weighted_shard_numpy(counts, ids, weight, vocabulary, params, avgdl, "s", colmap)
    assert got.nnz > 10_000 and got.n_terms == want.n_terms
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert got.data.dtype == want.data.dtype and got.data.tobytes() == want.data.tobytes()
    if changes.get("posting_floor"):
        assert got.nnz < entries  # the floor left postings out, the same ones
