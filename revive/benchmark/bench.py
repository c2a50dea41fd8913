"""``revive bench``: the engine on a synthetic corpus made of real patent sentences.

N patents are made by recombining sentences of the real abstracts in the data folder (each
synthetic patent: a real title, 3–6 real sentences); M demands likewise, wrapped in demand
boilerplate. Stages, each timed:

1. **ingest** — tokenize + count in ``--processes`` processes, weigh and shard, save;
2. **serve** — a fresh worker process loads the saved index and answers the demands one at a
   time (tokenize + search + explain: p50/p95), with one thread and again with one thread per
   core over the shards, then all of them as one batch (top 20 each, threads per core);
   its resident memory is read from /proc, so nothing of the bench itself is counted;
3. **fan-out** — for each worker count in ``--fanout`` (e.g. 1,2,4): that many processes each
   load only their shards (round robin), wait at a barrier, score every demand on their
   shards, and the parent merges the per-shard top-20 lists (what the Celery group of
   ``matching.score_shard`` tasks and their merge do). Wall time from the barrier to the
   merged result;
4. **incremental** — 1,000 new patents tokenized and added as a delta shard to the loaded
   index (nothing else re-tokenized), saved beside it with the old shards hard-linked, and
   each new patent found by a demand made of its own text;
5. **anchors** (``--anchors``, none by default) — tantivy, bm25s and scikit-learn TF-IDF +
   sparse_dot_topn on the same corpus and demands, measured the same way
   (``revive.benchmark.anchors``).
"""

from __future__ import annotations

import gc
import json
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from revive.benchmark import anchors as anchor_engines
from revive.benchmark.data import read_corpus
from revive.benchmark.memory import measured_together, memory_mb, rss_mb, sharing_row
from revive.benchmark.metrics import percentile
from revive.engine import (
    Index,
    build_from_counts,
    demand_tokens,
    patent_tokens,
    release_free_memory,
    warm,
)
from revive.engine.ingest import tokenize_and_count
from revive.engine.matcher import match_demands
from revive.engine.strength import CharProfile, shipped_model

_SENTENCE = re.compile(r"[^。；;！？]+[。；;！？]?")
TOP_K = 20
SINGLE_SAMPLE = 1000  # demands timed one by one (the batch runs all of them)
CHAR_SAMPLE = 20_000  # patents the character IDF is counted over (as an index build does)
SHARE_DEMANDS = 1000  # demands each of N serving processes answers before its memory is read


class Synthetic:
    """Patent ``i`` of the synthetic corpus, made again from its number (a real title and 3–6
    real sentences, drawn with a generator seeded by (seed, i)): a worker can read any
    patent's text without the bench holding a million of them in its memory, as a matching
    worker reads them from the database."""

    def __init__(self, titles: list[str], sentences: list[str], seed: int) -> None:
        self.titles, self.sentences, self.seed = titles, sentences, seed

    def patent(self, i: int) -> tuple[str, str]:
        rng = random.Random(self.seed * 1_000_003 + i)
        return (
            rng.choice(self.titles),
            "".join(rng.choices(self.sentences, k=rng.randint(3, 6))),
        )

    def texts_of(self, ids) -> dict[int, str]:
        return {i: "。".join(self.patent(int(i))) for i in ids}


def synthetic(data: Path, patents: int, demands: int, seed: int):
    files = sorted(data.glob("cn_patents*.csv"))
    files = [f for f in files if "sample" not in f.name]
    if not files:
        raise FileNotFoundError(f"no cn_patents*.csv in {data}")
    docs = read_corpus(files)
    titles = [d.title for d in docs if d.title]
    sentences = [s.strip() for d in docs for s in _SENTENCE.findall(d.text) if len(s.strip()) > 8]
    source = Synthetic(titles, sentences, seed)
    rng = random.Random(seed)
    corpus = [source.patent(i) for i in range(patents)]
    asks = [
        (
            f"寻求{rng.choice(titles)}相关技术",
            "我公司现需求一种技术，希望" + "".join(rng.choices(sentences, k=2)) + "欢迎高校合作。",
        )
        for _ in range(demands)
    ]
    return corpus, asks, len(docs), len(sentences), source


# ---------------------------------------------------------------------------- worker processes


def _share_worker(folder: str, tokens, loaded, measure, out) -> None:
    """One pool process of a worker host: load (map) the index, answer the demands, then
    report its memory while every other one is alive too."""
    index = Index.load(folder)
    loaded.wait()
    index.query(tokens, top_k=TOP_K)
    release_free_memory()  # as a worker after each task (workers/signals.py)
    measure.wait()
    out.put(memory_mb())
    measure.wait()  # nobody exits before everyone has measured


def _share_host(folder: str, tokens, workers: int, out) -> None:
    """A worker host as Celery's prefork pool makes one: the main process loads what does not
    depend on an index (``revive.engine.warm``, as workers/signals.py does) and forks
    ``workers`` pool processes; each maps the index and answers the demands. The main process
    reports its own memory beside theirs, measured while all of them are alive."""
    warm()
    gc.freeze()  # as workers/signals.py: collections in the children leave inherited pages
    rows, mine = measured_together(get_context("fork"), _share_worker, (folder, tokens), workers)
    out.put(sharing_row(rows, mine))


def shared_memory(folder: Path, tokens: list[list[str]], workers: int) -> dict[str, Any]:
    """PSS/USS of a worker host with ``workers`` pool processes serving the same
    memory-mapped index at once, and of its main process; the host's total counts them all."""
    ctx = get_context("spawn")  # a clean host, as a freshly started worker
    out = ctx.Queue()
    host = ctx.Process(target=_share_host, args=(str(folder), tokens, workers, out))
    host.start()
    row = out.get()
    host.join()
    return row


def _serve(
    folder: str, asks: list[tuple[str, str]], new: list[tuple[str, str]], source: Synthetic, out
) -> None:
    """A fresh process standing in for a matching worker (stage 2 and 4)."""
    warm()  # dictionary, kernels and resources: loading them is not query latency
    base_rss = rss_mb()[0]
    t = time.perf_counter()
    index = Index.load(folder)
    chars = CharProfile.load(folder)
    load_s = time.perf_counter() - t
    model = shipped_model()
    loaded_rss = rss_mb()[0]
    tokens = [demand_tokens(title, text) for title, text in asks]
    index.query(tokens[:20], top_k=TOP_K)  # warm-up
    single, search_only, threaded = [], [], []
    for (title, text), toks in zip(asks[:SINGLE_SAMPLE], tokens, strict=False):
        t = time.perf_counter()
        index.query([demand_tokens(title, text)], top_k=TOP_K)
        single.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        index.query([toks], top_k=TOP_K)
        search_only.append((time.perf_counter() - t) * 1000)
    # the same with one thread per core over the shards (REVIVE_SEARCH_THREADS)
    index.threads = threads = os.cpu_count() or 1
    index.query(tokens[:20], top_k=TOP_K)
    for title, text in asks[:SINGLE_SAMPLE]:
        t = time.perf_counter()
        index.query([demand_tokens(title, text)], top_k=TOP_K)
        threaded.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    results = index.query(tokens, top_k=TOP_K)
    batch_s = time.perf_counter() - t
    # the product's path (engine.matcher): pool of 30 → strength → top 20, reasons; patents'
    # texts read by id as a worker reads them from the database
    demands = [(n, title, text) for n, (title, text) in enumerate(asks)]
    match_demands(index, chars, model, demands[:20], texts_of=source.texts_of, top_k=TOP_K)
    t = time.perf_counter()
    matched = match_demands(index, chars, model, demands, texts_of=source.texts_of, top_k=TOP_K)
    match_batch_s = time.perf_counter() - t
    index.threads = 1
    match_single = []
    for demand in demands[:SINGLE_SAMPLE]:
        t = time.perf_counter()
        match_demands(index, chars, model, [demand], texts_of=source.texts_of, top_k=TOP_K)
        match_single.append((time.perf_counter() - t) * 1000)
    assert len(results) == len(asks) == len(matched)
    served_rss = rss_mb()

    # incremental: add the new patents as a delta shard, save it beside the base, find them
    first_new = index.n_docs
    t = time.perf_counter()
    new_tokens = [patent_tokens(title, text) for title, text in new]
    grown = index.add_documents(
        new_tokens, list(range(first_new, first_new + len(new))), name="d001"
    )
    add_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory(dir=Path(folder).parent) as tmp:
        t = time.perf_counter()
        grown.save(Path(tmp) / "grown")
        delta_save_s = time.perf_counter() - t
    probes = [demand_tokens(title, text) for title, text in new]
    found = grown.query(probes, top_k=TOP_K)
    hits = sum(
        1 for i, cands in enumerate(found) if first_new + i in [c.right_id for c in cands[:1]]
    )
    out.put(
        {
            "load_s": round(load_s, 2),
            "rss_before_load_mb": base_rss,
            "rss_index_loaded_mb": loaded_rss,
            "rss_after_queries_mb": served_rss[0],
            "peak_rss_worker_mb": served_rss[1],
            "index_arrays_mb": round(index.nbytes / 2**20, 1),
            "single_ms_p50": round(statistics.median(single), 2),
            "single_ms_p95": round(percentile(single, 95), 2),
            "single_ms_max": round(max(single), 2),
            "search_ms_p50": round(statistics.median(search_only), 2),
            "search_ms_p95": round(percentile(search_only, 95), 2),
            "search_threads": threads,
            "single_threads_ms_p50": round(statistics.median(threaded), 2),
            "single_threads_ms_p95": round(percentile(threaded, 95), 2),
            "batch_s": round(batch_s, 1),
            "batch_demands_per_s": round(len(asks) / batch_s, 1),
            "match_ms_p50": round(statistics.median(match_single), 2),
            "match_ms_p95": round(percentile(match_single, 95), 2),
            "match_batch_s": round(match_batch_s, 1),
            "match_abstained": sum(m.abstain for m in matched),
            "incremental_patents": len(new),
            "incremental_add_s": round(add_s, 2),
            "incremental_save_s": round(delta_save_s, 2),
            "incremental_found_top1": hits,
        }
    )


def _fanout_worker(folder: str, shards: list[str], tokens, barrier, out) -> None:
    index = Index.load(folder, shards=set(shards))
    qm = index.vectorize(tokens, query=True)
    barrier.wait()
    t = time.perf_counter()
    rows = [
        [(score, pos, doc) for doc, score, pos, *_ in index.search_row(qm, r, TOP_K, 0.05)]
        for r in range(qm.shape[0])
    ]
    out.put((shards, rows, time.perf_counter() - t, rss_mb()[1]))


def fan_out(folder: Path, tokens: list[list[str]], workers: int) -> dict[str, Any]:
    """Score all ``tokens`` over the saved index with ``workers`` processes, each holding a
    share of the shards; merge the per-shard top-k lists."""
    meta = json.loads((folder / "meta.json").read_text("utf-8"))
    names = [s["name"] for s in meta["shards"]]
    parts = [names[i::workers] for i in range(workers)]
    parts = [p for p in parts if p]
    ctx = get_context("spawn")
    barrier, out = ctx.Barrier(len(parts) + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_fanout_worker, args=(str(folder), part, tokens, barrier, out))
        for part in parts
    ]
    for p in procs:
        p.start()
    barrier.wait()  # every worker has loaded its shards
    t = time.perf_counter()
    answers = [out.get() for _ in procs]
    merged = [
        sorted((c for _, rows, _, _ in answers for c in rows[q]), key=lambda c: (-c[0], c[1]))[
            :TOP_K
        ]
        for q in range(len(tokens))
    ]
    wall = time.perf_counter() - t
    for p in procs:
        p.join()
    assert len(merged) == len(tokens)
    return {
        "workers": len(parts),
        "shards_per_worker": [len(p) for p in parts],
        "wall_s": round(wall, 1),
        "demands_per_s": round(len(tokens) / wall, 1),
        "slowest_worker_s": round(max(a[2] for a in answers), 1),
        "peak_rss_per_worker_mb": [a[3] for a in answers],
    }


# ---------------------------------------------------------------------------- the bench


def run_bench(
    data: Path,
    *,
    patents: int,
    demands: int,
    seed: int,
    processes: int = 1,
    shard_docs: int = 65_536,
    fanout: tuple[int, ...] = (),
    incremental: int = 1000,
    share: tuple[int, ...] = (1, 2, 4),
    anchors: tuple[str, ...] = (),
    echo: Callable[[str], Any] = print,
) -> dict[str, Any]:
    corpus, asks, n_real, n_sent, source = synthetic(data, patents + incremental, demands, seed)
    corpus, new = corpus[:patents], corpus[patents:]
    chars = sum(len(a) + len(b) for a, b in corpus)
    echo(f"corpus: {patents} synthetic patents from {n_sent} sentences of {n_real} real records")
    patent_tokens("预热", "初始化分词器")  # dictionary load is not tokenization throughput

    t0 = time.perf_counter()
    terms, counts = tokenize_and_count(corpus, processes=processes)
    tok_s = time.perf_counter() - t0
    echo(f"tokenized + counted in {tok_s:.1f} s ({patents / tok_s:.0f} docs/s, {processes} proc)")
    t = time.perf_counter()
    index = build_from_counts(terms, counts, list(range(patents)), version=1, shard_docs=shard_docs)
    sample = random.Random(seed).sample(range(patents), min(patents, CHAR_SAMPLE))
    char_profile = CharProfile.build("。".join(corpus[i]) for i in sample)
    build_s = time.perf_counter() - t
    ingest_s = time.perf_counter() - t0
    del counts, terms
    nnz, n_terms, n_shards = index.nnz, len(index.vocabulary), len(index.shards)
    echo(f"index built in {build_s:.1f} s: {n_terms} terms, {nnz} postings, {n_shards} shards")
    echo(f"ingest (tokenize + index): {ingest_s:.1f} s")
    builder_peak = rss_mb()[1]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "index"
        t = time.perf_counter()
        index.save(folder)
        char_profile.save(folder)
        save_s = time.perf_counter() - t
        size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
        del index
        echo(f"saved in {save_s:.1f} s ({size_mb:.0f} MB)")

        ctx = get_context("spawn")
        out = ctx.Queue()
        proc = ctx.Process(target=_serve, args=(str(folder), asks, new, source, out))
        proc.start()
        served = out.get()
        proc.join()
        echo(
            f"worker: loaded in {served['load_s']} s, RSS {served['rss_index_loaded_mb']} MB; "
            f"single demand p50 {served['single_ms_p50']} / p95 {served['single_ms_p95']} ms, "
            f"with {served['search_threads']} threads p50 {served['single_threads_ms_p50']} / "
            f"p95 {served['single_threads_ms_p95']} ms; "
            f"batch of {demands} in {served['batch_s']} s ({served['search_threads']} threads); "
            f"product path (pool 30 → strength → top 20, reasons): single p50 "
            f"{served['match_ms_p50']} / p95 {served['match_ms_p95']} ms, batch "
            f"{served['match_batch_s']} s; "
            f"{incremental} added in {served['incremental_add_s']} s"
        )
        sharing = []
        probe = [demand_tokens(title, text) for title, text in asks[:SHARE_DEMANDS]]
        for n in share:
            row = shared_memory(folder, probe, n)
            echo(
                f"{n} pool process(es): PSS {row['pss_mb']} MB, USS {row['uss_mb']} MB; "
                f"main process PSS {row['main_pss_mb']} MB; host total {row['host_pss_mb']} MB"
            )
            sharing.append(row)
        fan = []
        if fanout:
            tokens = [demand_tokens(title, text) for title, text in asks]
            for n in fanout:
                row = fan_out(folder, tokens, n)
                echo(f"fan-out over {row['workers']} worker(s): {row['wall_s']} s")
                fan.append(row)
        # the anchors last, so nothing of theirs is in the figures above
        anchored = anchor_engines.run_anchors(
            anchors,
            corpus,
            asks,
            Path(tmp),
            processes=processes,
            share=share,
            share_demands=SHARE_DEMANDS,
            single_sample=SINGLE_SAMPLE,
            k=TOP_K,
            echo=echo,
        )

    return {
        "patents": patents,
        "demands": demands,
        "seed": seed,
        "processes": processes,
        "cpus": os.cpu_count(),
        "chars_per_patent": round(chars / patents),
        "tokenize_s": round(tok_s, 1),
        "tokenize_docs_per_s": round(patents / tok_s),
        "build_s": round(build_s, 1),
        "ingest_s": round(ingest_s, 1),
        "builder_peak_rss_mb": builder_peak,
        "terms": n_terms,
        "nnz": int(nnz),
        "shards": n_shards,
        "save_s": round(save_s, 1),
        "index_mb": round(size_mb, 1),
        **served,
        "memory_sharing": sharing,
        "fanout": fan,
        "anchors": anchored,
    }
