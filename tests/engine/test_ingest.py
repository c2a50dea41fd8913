"""Bulk ingest: the parallel tokenize-and-count path gives the stored-token path's counts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from revive.benchmark.data import read_corpus
from revive.engine import build_from_counts, build_index, patent_tokens
from revive.engine.ingest import tokenize_and_count


def _rows(terms, counts) -> list[Counter]:
    out = []
    for row in range(counts.shape[0]):
        got = counts.getrow(row)
        out.append(Counter({terms[c]: int(v) for c, v in zip(got.indices, got.data, strict=True)}))
    return out


@pytest.mark.shared_data
@pytest.mark.parametrize("processes", [1, 2])
def test_parallel_counts_equal_patent_tokens(shared_data: Path, processes):
    docs = read_corpus([shared_data / "cn_patents.csv"])[:900]
    pairs = [(d.title, d.text) for d in docs]
    done: list[int] = []
    # small chunks: each process counts several, carrying its vocabulary over
    terms, counts = tokenize_and_count(
        pairs, processes=processes, chunk_size=100, progress=done.append
    )
    assert counts.shape == (len(docs), len(terms))
    assert len(set(terms)) == len(terms)
    assert _rows(terms, counts) == [Counter(patent_tokens(t, x)) for t, x in pairs]
    assert done[-1] == len(docs) and done == sorted(done)


def test_each_call_counts_afresh():
    """The process's counter does not carry over between calls (the ids it returns are
    mapped by each call from scratch)."""
    first = [("锂电池正极材料", "一种锂电池正极材料的制备方法。")] * 3
    second = [("污水处理装置", "本发明涉及畜禽养殖污水的氨氮去除装置。"), ("锂电池", "")]
    tokenize_and_count(first, processes=1, chunk_size=2)
    terms, counts = tokenize_and_count(second, processes=1, chunk_size=1)
    assert _rows(terms, counts) == [Counter(patent_tokens(t, x)) for t, x in second]


@pytest.mark.shared_data
def test_index_from_counts_ranks_as_index_from_tokens(shared_data: Path):
    docs = read_corpus([shared_data / "cn_patents.csv"])[:400]
    pairs = [(d.title, d.text) for d in docs]
    ids = list(range(len(docs)))
    terms, counts = tokenize_and_count(pairs, processes=2, chunk_size=150)
    bulk = build_from_counts(terms, counts, ids, version=1, shard_docs=128)
    stored = build_index([patent_tokens(t, x) for t, x in pairs], ids, version=1, shard_docs=128)
    queries = [patent_tokens(docs[i].title, "") for i in range(0, 400, 37)]
    got = [[(c.right_id, round(c.score, 5)) for c in r] for r in bulk.query(queries, top_k=5)]
    want = [[(c.right_id, round(c.score, 5)) for c in r] for r in stored.query(queries, top_k=5)]
    assert got == want
