"""``revive bench --anchors``: tantivy, bm25s and TF-IDF + sparse_dot_topn measured beside
Revive on the same synthetic corpus (the 'anchors' extra, installed by ``make install``)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from revive.benchmark import anchors
from revive.benchmark.bench import synthetic
from revive.benchmark.cli import bench_command


@pytest.fixture(scope="module")
def tiny(shared_data):
    corpus, asks, *_ = synthetic(shared_data, 2000, 50, seed=3)
    return corpus, asks


@pytest.mark.parametrize("name", anchors.ANCHORS)
def test_each_anchor_ranks_the_corpus_for_every_demand(tiny, tmp_path, name):
    corpus, asks = tiny
    texts = anchors.tokenize_texts(corpus, processes=2, chunk=700)
    # the forked tokenizing keeps the order and equals tokenizing one by one
    assert texts == [" ".join(anchors.anchor_tokens(t, a)) for t, a in corpus]
    engine = anchors.ENGINES[name]
    engine.build(texts, tmp_path / name, 2)
    served = engine(tmp_path / name)
    queries = [anchors.anchor_tokens(t, a) for t, a in asks]
    for hits in [served.search(q, 20) for q in queries] + served.batch(queries, 20, 2):
        assert 0 < len(hits) <= 20
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True) and scores[-1] > 0
        assert all(0 <= doc < len(corpus) for doc, _ in hits)
        assert len({doc for doc, _ in hits}) == len(hits)
    # the batch ranks as the single searches do (ties may swap places)
    for q in queries[:10]:
        one, many = served.search(q, 20), served.batch([q], 20, 2)[0]
        assert [round(s, 4) for _, s in one] == [round(s, 4) for _, s in many]
    # a demand made of a patent's own text finds that patent first
    found = [served.search(anchors.anchor_tokens(*corpus[i]), 5) for i in range(20)]
    assert sum(hits[0][0] == i for i, hits in enumerate(found)) >= 18
    # an unrelated demand: no error, at most a few weak hits
    assert isinstance(served.search(["宠物粮"], 20), list)
    assert served.search([], 20) == []


def test_anchor_tokens_are_rjieba_words_without_punctuation():
    # rjieba with the domain user dictionary (锂离子电池, 正极材料), normalised text (full
    # width → half width, lower case), no stopwords removed, punctuation dropped; jieba-rs
    # keeps "li-ion" whole where the engine's segmenter, as Python jieba, cuts it
    tokens = anchors.anchor_tokens("锂离子电池", "一种正极材料，提高循环寿命。５％的Li-ion")
    assert tokens == [
        "锂离子电池",
        "一种",
        "正极材料",
        "提高",
        "循环",
        "寿命",
        "5%",
        "的",
        "li-ion",
    ]


def test_unknown_anchor_is_refused():
    result = CliRunner().invoke(bench_command, ["--patents", "10", "--anchors", "lucene"])
    assert result.exit_code == 2 and "lucene" in result.output


def test_bench_reports_each_anchor_beside_revive(shared_data):
    args = ["--patents", "2000", "--demands", "50", "--data", str(shared_data)]
    args += ["--incremental", "20", "--share", "1", "--processes", "2"]
    # Two of the three: the report's rows are built alike for each, and bm25s compiles its
    # numba kernels anew in every process (about 25 s; its ranking is tested above).
    result = CliRunner().invoke(bench_command, [*args, "--anchors", "tantivy,sdtopn"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    report = json.loads(lines[-1])
    assert report["patents"] == 2000 and report["single_ms_p95"] > 0
    assert list(report["anchors"]) == ["tantivy", "sdtopn"]
    for name, row in report["anchors"].items():
        assert any(line.startswith(f"anchor {name}: ingest ") for line in lines)
        assert row["label"] == anchors.LABELS[name]
        for key in ("ingest_s", "tokenize_s", "build_s", "single_ms_p50", "single_ms_p95"):
            assert row[key] >= 0
        assert row["single_ms_p95"] >= row["single_ms_p50"] > 0 and row["batch_s"] >= 0
        assert row["answered"] == 50 and row["results_per_demand"] == 20
        assert row["self_found_top1"] >= 18 and row["probes"] == 20
        assert row["rss_after_queries_mb"] > 0 and row["uss_mb"] > 0 and row["pss_mb"] > 0
        assert [s["workers"] for s in row["memory_sharing"]] == [1]


def test_bench_without_anchors_reports_none(shared_data):
    args = ["--patents", "200", "--demands", "5", "--data", str(shared_data)]
    result = CliRunner().invoke(bench_command, [*args, "--incremental", "20", "--share", ""])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["anchors"] == {}
