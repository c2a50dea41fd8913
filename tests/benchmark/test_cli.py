"""``revive eval`` / ``revive bench`` end to end."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from revive.benchmark.cli import bench_command, eval_command


def _write(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


@pytest.fixture
def files(tmp_path):
    corpus = _write(
        tmp_path / "corpus.csv",
        ["record_id", "title", "abstract", "applicant"],
        [
            ["p1", "锂离子电池正极材料", "一种三元正极材料的包覆改性方法，提高循环寿命。", "x"],
            ["p2", "污水处理装置", "本发明涉及一种去除氨氮的污水处理装置。", "y"],
            ["p3", "人脸识别门禁", "基于深度学习的活体检测方法。", "z"],
        ],
    )
    extra = _write(
        tmp_path / "more.csv", ["record_id", "abstract"], [["p4", "一种混凝土抗裂外加剂。"]]
    )
    queries = _write(
        tmp_path / "q.csv",
        ["id", "title", "description", "industry"],
        [
            ["q1", "正极材料寿命", "想提高三元正极材料循环寿命", "新能源"],
            ["q2", "猪场废水氨氮高", "求污水处理技术", "养殖"],
            ["q3", "没有相关专利", "宠物粮", "其他"],
        ],
    )
    qrels = _write(
        tmp_path / "qrels.csv",
        ["qid", "doc", "grade"],
        [["q1", "p1", 2], ["q2", "p2", 1], ["q2", "p3", 0], ["q3", "p3", 0]],
    )
    return corpus, extra, queries, qrels


@pytest.mark.parametrize("retriever", ["engine", "tfidf", "bm25"])
def test_eval_prints_json_last(files, retriever):
    corpus, extra, queries, qrels = files
    args = ["--corpus", corpus, "--corpus", extra, "--queries", queries, "--qrels", qrels]
    result = CliRunner().invoke(eval_command, [*args, "--retriever", retriever, "--k", "20"])
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert last["queries"] == 2 and last["docs"] == 4
    assert last["ndcg@20"] == 1.0 and last["recall@20"] == 1.0 and last["mrr@20"] == 1.0


def test_eval_compare_prints_a_table_then_the_engine_json(files):
    corpus, extra, queries, qrels = files
    args = ["--corpus", corpus, "--queries", queries, "--qrels", qrels, "--compare"]
    result = CliRunner().invoke(eval_command, args)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert any(line.startswith("| tuned BM25") for line in lines)
    assert json.loads(lines[-1])["retriever"] == "engine"


def test_bench_smoke(shared_data):
    args = [
        "--patents",
        "200",
        "--demands",
        "5",
        "--data",
        str(shared_data),
        "--fanout",
        "1,2",
        "--incremental",
        "20",
        "--shard-docs",
        "60",
        "--processes",
        "2",
    ]
    result = CliRunner().invoke(bench_command, args)
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert last["patents"] == 200 and last["nnz"] > 0 and last["single_ms_p95"] > 0
    assert last["search_threads"] >= 1 and last["single_threads_ms_p95"] > 0
    assert last["shards"] == 4 and [f["workers"] for f in last["fanout"]] == [1, 2]
    assert last["incremental_found_top1"] >= 18  # a demand made of a new patent's text finds it
    assert last["rss_index_loaded_mb"] > 0


def test_cross_validation_draws_score_every_demand_once_per_split():
    from revive.benchmark import trust
    from revive.benchmark.data import Doc

    docs = [
        Doc("p1", "锂离子电池正极材料", "一种三元正极材料的包覆改性方法，提高循环寿命。"),
        Doc("p2", "污水处理装置", "本发明涉及一种去除氨氮的污水处理装置。"),
        Doc("p3", "人脸识别门禁", "基于深度学习的活体检测方法。"),
        Doc("p4", "混凝土外加剂", "一种混凝土抗裂外加剂。"),
    ]
    # each demand also shares words with a patent that does not answer it
    asks = [
        "正极材料循环寿命，污水处理",
        "废水氨氮，人脸识别",
        "门禁活体检测，混凝土",
        "混凝土抗裂，正极材料",
        "正极材料包覆，门禁",
    ]
    queries = [Doc(f"q{i}", t, t) for i, t in enumerate(asks)]
    relevant = {"q0": "p1", "q1": "p2", "q2": "p3", "q3": "p4", "q4": "p1"}
    qrels = {q: {d.id: int(d.id == p) for d in docs} for q, p in relevant.items()}
    pools = trust.build_pools(docs, queries)
    assert set(pools.mass) == {q.id for q in queries} and all(pools.mass.values())
    for seed in (None, 0, 1):
        out = trust.cross_validated(pools, qrels, folds=2, seed=seed)
        assert sorted(out) == sorted(pools.candidates)
        one = trust.cross_validated(pools, qrels, folds=2, seed=seed, stages=1)
        # the second stage recalibrates; it never reorders a demand's list
        assert {q: [a.doc_id for a in rows] for q, rows in out.items()} == {
            q: [a.doc_id for a in rows] for q, rows in one.items()
        }
    assert set(pools.words) == set(pools.thin) == {q.id for q in queries}
    drawn = trust.cv_draws(pools, qrels, bar=0.1, draws=3)
    assert drawn["draws"] == 3 and 0 <= drawn["ndcg@10"] <= 1 and drawn["ndcg@10_sd"] >= 0


def test_memory_sharing_counts_the_worker_hosts_main_process_and_its_pool(tmp_path):
    """``revive bench``'s memory rows: a host whose main process warmed the engine and forked
    two pool processes serving one mapped index; the host's total is all three."""
    from revive.benchmark.bench import shared_memory
    from revive.engine import build_index

    build_index([["电池", "正极"], ["电池", "隔膜"], ["齿轮"]], ["a", "b", "c"], version="v").save(
        tmp_path / "index"
    )
    row = shared_memory(tmp_path / "index", [["电池"], ["齿轮"]], 2)
    assert row["workers"] == 2 and len(row["pss_mb"]) == len(row["uss_mb"]) == 2
    assert all(p > 0 for p in row["pss_mb"]) and row["main_pss_mb"] > 0
    assert row["host_pss_mb"] == round(row["main_pss_mb"] + sum(row["pss_mb"]), 1)
