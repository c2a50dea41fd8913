"""``revive bench``: the engine on a synthetic corpus made of real patent sentences.

N patents are made by recombining sentences of the real abstracts in the data folder (each
synthetic patent: a real title, 3–6 real sentences); M demands likewise, wrapped in demand
boilerplate. Reported: tokenization throughput, index build/save/load time, peak RSS, single
demand latency (tokenize + score + explain) p50/p95 against the loaded index, and batch
throughput (M demands in one call, top 20 each).
"""

from __future__ import annotations

import random
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from revive.engine import Index, build_index, demand_tokens, patent_tokens
from revive.evaluation.data import read_corpus

_SENTENCE = re.compile(r"[^。；;！？]+[。；;！？]?")


def _tokenize(pair: tuple[str, str]) -> list[str]:
    return patent_tokens(*pair)


def synthetic(data: Path, patents: int, demands: int, seed: int):
    files = sorted(data.glob("cn_patents*.csv"))
    files = [f for f in files if "sample" not in f.name]
    if not files:
        raise FileNotFoundError(f"no cn_patents*.csv in {data}")
    docs = read_corpus(files)
    titles = [d.title for d in docs if d.title]
    sentences = [s.strip() for d in docs for s in _SENTENCE.findall(d.text) if len(s.strip()) > 8]
    rng = random.Random(seed)
    corpus = [
        (rng.choice(titles), "".join(rng.choices(sentences, k=rng.randint(3, 6))))
        for _ in range(patents)
    ]
    asks = [
        (
            f"寻求{rng.choice(titles)}相关技术",
            "我公司现需求一种技术，希望" + "".join(rng.choices(sentences, k=2)) + "欢迎高校合作。",
        )
        for _ in range(demands)
    ]
    return corpus, asks, len(docs), len(sentences)


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run_bench(
    data: Path,
    *,
    patents: int,
    demands: int,
    seed: int,
    workers: int = 1,
    echo: Callable[[str], Any] = print,
) -> dict[str, Any]:
    corpus, asks, n_real, n_sent = synthetic(data, patents, demands, seed)
    echo(f"corpus: {patents} synthetic patents from {n_sent} sentences of {n_real} real records")
    patent_tokens("预热", "初始化分词器")  # dictionary load is not tokenization throughput

    t = time.perf_counter()
    if workers > 1:
        with get_context("fork").Pool(workers) as pool:
            tokens = pool.map(_tokenize, corpus, chunksize=256)
    else:
        tokens = [patent_tokens(title, text) for title, text in corpus]
    tok_s = time.perf_counter() - t
    chars = sum(len(a) + len(b) for a, b in corpus)
    echo(f"tokenized in {tok_s:.1f} s ({patents / tok_s:.0f} docs/s, {workers} process(es))")

    t = time.perf_counter()
    index = build_index(tokens, list(range(patents)), version=1)
    build_s = time.perf_counter() - t
    echo(f"index built in {build_s:.1f} s: {len(index.vocabulary)} terms, {index.matrix_t.nnz} nnz")
    del tokens

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        index.save(tmp)
        save_s = time.perf_counter() - t
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 2**20
        del index
        t = time.perf_counter()
        index = Index.load(tmp)
        load_s = time.perf_counter() - t
    echo(f"saved in {save_s:.1f} s ({size_mb:.0f} MB), loaded in {load_s:.1f} s")

    demand_toks = [demand_tokens(title, text) for title, text in asks]
    index.query(demand_toks[:5], top_k=20)  # warm-up
    single, score_only = [], []
    for (title, text), toks in zip(asks, demand_toks, strict=True):
        t = time.perf_counter()
        index.query([demand_tokens(title, text)], top_k=20)
        single.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        index.query([toks], top_k=20)
        score_only.append((time.perf_counter() - t) * 1000)

    t = time.perf_counter()
    results = index.query(demand_toks, top_k=20)
    batch_s = time.perf_counter() - t
    assert len(results) == demands

    return {
        "patents": patents,
        "demands": demands,
        "seed": seed,
        "workers": workers,
        "chars_per_patent": round(chars / patents),
        "tokenize_docs_per_s": round(patents / tok_s),
        "tokenize_s": round(tok_s, 1),
        "build_s": round(build_s, 2),
        "save_s": round(save_s, 2),
        "load_s": round(load_s, 2),
        "index_mb": round(size_mb, 1),
        "terms": len(index.vocabulary),
        "nnz": int(index.matrix_t.nnz),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "single_ms_p50": round(statistics.median(single), 2),
        "single_ms_p95": round(_pct(single, 95), 2),
        "query_only_ms_p50": round(statistics.median(score_only), 2),
        "query_only_ms_p95": round(_pct(score_only, 95), 2),
        "batch_demands_per_s": round(demands / batch_s, 1),
    }
