"""Anchors for ``revive bench --anchors``: other engines measured in the same run, on the same
synthetic corpus and demands, the way the bench measures Revive.

* ``tantivy`` — tantivy (Rust, via the ``tantivy`` package), BM25, the ``whitespace``
  tokenizer over the anchor tokens joined by spaces; term frequencies only (no positions);
  searched with one SHOULD term query per distinct demand token; ids from a fast field.
* ``bm25s`` — bm25s with its numba backend, over the same tokens.
* ``sdtopn`` — scikit-learn ``TfidfVectorizer`` (float32, l2-normalised) over the same tokens,
  and ``sparse_dot_topn.sp_matmul_topn`` against the transposed document matrix, top 20.

The anchor tokens are what a plain user of these engines would feed them: rjieba (jieba-rs,
the fastest jieba on PyPI) with jieba's dictionary plus the domain user dictionary, on the
normalised "title。abstract", tokens without a letter, digit or CJK character dropped; no
stopwords, no bigrams. They are made in ``processes`` forked processes as Revive's are.

Each anchor's index is written to disk and served by a fresh process that maps what the
library lets it map (tantivy's files, bm25s's ``mmap=True``, the TF-IDF arrays as memory-mapped
``.npy``), so its RSS / PSS / USS read from /proc are comparable to Revive's serving process.
The packages are the optional extra ``anchors`` (``pip install -e '.[anchors]'``).
"""

from __future__ import annotations

import os
import pickle
import re
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from queue import Empty
from typing import Any

import numpy as np
import scipy.sparse as sp

from revive.benchmark.memory import measured_together, memory_mb, rss_mb, sharing_row
from revive.benchmark.metrics import percentile
from revive.engine.text import normalize, user_words

ANCHORS = ("tantivy", "bm25s", "sdtopn")
LABELS = {
    "tantivy": "tantivy (BM25, whitespace over rjieba tokens)",
    "bm25s": "bm25s (numba backend, rjieba tokens)",
    "sdtopn": "scikit-learn TF-IDF + sparse_dot_topn (rjieba tokens)",
}
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")
Hits = list[tuple[int, float]]  # (patent number, score), best first


_RJIEBA: Any = None


def _rjieba() -> Any:
    global _RJIEBA
    if _RJIEBA is None:
        import rjieba

        _RJIEBA = rjieba.Jieba()
        for word, freq, tag in user_words():
            _RJIEBA.add_word(word, freq, tag)
    return _RJIEBA


def anchor_tokens(title: str | None, text: str | None) -> list[str]:
    """rjieba tokens of the normalised "title。text", tokens with no letter/digit/CJK dropped."""
    joined = normalize(f"{title or ''}。{text or ''}")
    return [w for w in _rjieba().cut(joined) if _WORDLIKE.search(w)]


_PAIRS: Sequence[tuple[str, str]] = ()


def _join_range(bounds: tuple[int, int]) -> list[str]:
    return [" ".join(anchor_tokens(t, a)) for t, a in _PAIRS[bounds[0] : bounds[1]]]


def tokenize_texts(
    pairs: Sequence[tuple[str, str]], processes: int = 1, chunk: int = 20_000
) -> list[str]:
    """Each pair's anchor tokens joined by spaces, in ``processes`` forked processes."""
    global _PAIRS
    bounds = [(a, min(a + chunk, len(pairs))) for a in range(0, len(pairs), chunk)]
    _PAIRS = pairs
    try:
        if processes > 1 and len(bounds) > 1:
            with get_context("fork").Pool(processes) as pool:
                parts = pool.map(_join_range, bounds)
        else:
            parts = list(map(_join_range, bounds))
    finally:
        _PAIRS = ()
    return [text for part in parts for text in part]


# ---------------------------------------------------------------------------- the engines


class Tantivy:
    name = "tantivy"

    @staticmethod
    def _schema():
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_integer_field("id", fast=True)
        sb.add_text_field("body", tokenizer_name="whitespace", index_option="freq")
        return sb.build()

    @classmethod
    def build(cls, texts: Sequence[str], folder: Path, threads: int) -> None:
        import tantivy

        folder.mkdir(parents=True)
        index = tantivy.Index(cls._schema(), path=str(folder))
        writer = index.writer(max(threads, 1) * 200_000_000, threads)
        for i, text in enumerate(texts):
            writer.add_document(tantivy.Document(id=i, body=text))
        writer.commit()
        writer.wait_merging_threads()

    def __init__(self, folder: Path) -> None:
        import tantivy

        self._t = tantivy
        self.index = tantivy.Index.open(str(folder))
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def search(self, tokens: Sequence[str], k: int) -> Hits:
        t = self._t
        query = t.Query.boolean_query(
            [(t.Occur.Should, t.Query.term_query(self.schema, "body", w)) for w in set(tokens)]
        )
        hits = self.searcher.search(query, k, count=False).hits
        ids = self.searcher.fast_field_values("id", [addr for _, addr in hits])
        return [(int(i), float(s)) for i, (s, _) in zip(ids, hits, strict=True)]

    def batch(self, queries: Sequence[Sequence[str]], k: int, threads: int) -> list[Hits]:
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda q: self.search(q, k), queries))


class BM25S:
    name = "bm25s"

    @staticmethod
    def build(texts: Sequence[str], folder: Path, threads: int) -> None:
        import bm25s

        model = bm25s.BM25(backend="numba")
        # token ids, not lists of token strings: a million documents' strings would take
        # gigabytes; the ids share the vocabulary's int objects
        vocab: dict[str, int] = {}
        ids = [[vocab.setdefault(w, len(vocab)) for w in t.split()] for t in texts]
        model.index((ids, vocab), show_progress=False)
        model.save(str(folder))

    def __init__(self, folder: Path) -> None:
        import bm25s

        self.model = bm25s.BM25.load(str(folder), mmap=True)
        self.model.backend = "numba"
        self.vocab = self.model.vocab_dict

    def _ids(self, tokens: Sequence[str]) -> list[int]:
        ids = [self.vocab[w] for w in dict.fromkeys(tokens) if w in self.vocab]
        return ids or [self.vocab[""]]  # the empty token bm25s adds scores nothing

    def _run(self, queries: Sequence[Sequence[str]], k: int, threads: int) -> list[Hits]:
        docs, scores = self.model.retrieve(
            [self._ids(q) for q in queries], k=k, show_progress=False, n_threads=threads
        )
        return [
            [(int(d), float(s)) for d, s in zip(dr, sr, strict=True) if s > 0]
            for dr, sr in zip(docs, scores, strict=True)
        ]

    def search(self, tokens: Sequence[str], k: int) -> Hits:
        return self._run([tokens], k, 1)[0]

    def batch(self, queries: Sequence[Sequence[str]], k: int, threads: int) -> list[Hits]:
        return self._run(queries, k, threads)


class SparseDotTopn:
    name = "sdtopn"

    @staticmethod
    def build(texts: Sequence[str], folder: Path, threads: int) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=str.split, dtype=np.float32)
        docs_t = vec.fit_transform(texts).T.tocsr()  # terms × docs: sp_matmul_topn's right side
        folder.mkdir(parents=True)
        for part in ("data", "indices", "indptr"):
            np.save(folder / f"{part}.npy", getattr(docs_t, part))
        with open(folder / "vectorizer.pkl", "wb") as f:
            pickle.dump((vec, docs_t.shape), f)

    def __init__(self, folder: Path) -> None:
        with open(folder / "vectorizer.pkl", "rb") as f:
            self.vec, shape = pickle.load(f)
        # copy-on-write maps (the kernel refuses read-only arrays; nothing writes to them)
        arrays = [
            np.load(folder / f"{p}.npy", mmap_mode="c") for p in ("data", "indices", "indptr")
        ]
        self.docs_t = sp.csr_matrix(tuple(arrays), shape=shape, copy=False)

    def _run(self, queries: Sequence[Sequence[str]], k: int, threads: int) -> list[Hits]:
        from sparse_dot_topn import sp_matmul_topn

        q = self.vec.transform([" ".join(t) for t in queries])
        out = sp_matmul_topn(q, self.docs_t, top_n=k, sort=True, n_threads=threads)
        return [
            list(
                zip(
                    out.indices[out.indptr[r] : out.indptr[r + 1]].tolist(),
                    out.data[out.indptr[r] : out.indptr[r + 1]].tolist(),
                    strict=True,
                )
            )
            for r in range(out.shape[0])
        ]

    def search(self, tokens: Sequence[str], k: int) -> Hits:
        return self._run([tokens], k, 1)[0]

    def batch(self, queries: Sequence[Sequence[str]], k: int, threads: int) -> list[Hits]:
        return self._run(queries, k, threads)


ENGINES = {e.name: e for e in (Tantivy, BM25S, SparseDotTopn)}


def parse(value: str) -> tuple[str, ...]:
    """``tantivy,bm25s`` → ("tantivy", "bm25s"); ValueError on an unknown name."""
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in ENGINES]
    if unknown:
        raise ValueError(
            f"unknown anchor(s) {', '.join(unknown)}; choose from {', '.join(ANCHORS)}"
        )
    return names


# ---------------------------------------------------------------------------- serving


def _serve(name: str, folder: str, asks, probes, single_sample: int, k: int, out) -> None:
    """A fresh process serving one anchor's saved index (what ``bench._serve`` does for
    Revive): load, single demands (tokenize + search, one thread), the batch, memory."""
    anchor_tokens("预热", "初始化分词器")  # dictionary load is not query latency
    base = rss_mb()[0]
    t = time.perf_counter()
    engine = ENGINES[name](Path(folder))
    load_s = time.perf_counter() - t
    loaded = rss_mb()[0]
    tokens = [anchor_tokens(title, text) for title, text in asks]
    threads = os.cpu_count() or 1
    for q in tokens[:20]:  # warm-up (numba compiles, thread pools start, caches fill)
        engine.search(q, k)
    engine.batch(tokens[:20], k, threads)
    single = []
    for title, text in asks[:single_sample]:
        t = time.perf_counter()
        engine.search(anchor_tokens(title, text), k)
        single.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    results = engine.batch(tokens, k, threads)
    batch_s = time.perf_counter() - t
    assert len(results) == len(asks)
    found = [engine.search(anchor_tokens(title, text), k) for title, text in probes]
    mem = memory_mb()
    out.put(
        {
            "load_s": round(load_s, 2),
            "rss_before_load_mb": base,
            "rss_index_loaded_mb": loaded,
            "rss_after_queries_mb": mem.get("rss"),
            "pss_mb": mem.get("pss"),
            "uss_mb": mem.get("uss"),
            "single_ms_p50": round(statistics.median(single), 2),
            "single_ms_p95": round(percentile(single, 95), 2),
            "single_ms_max": round(max(single), 2),
            "batch_s": round(batch_s, 1),
            "batch_threads": threads,
            "batch_demands_per_s": round(len(asks) / batch_s, 1),
            "answered": sum(1 for r in results if r),
            "results_per_demand": round(sum(map(len, results)) / max(len(results), 1), 1),
            "self_found_top1": sum(1 for i, hits in enumerate(found) if hits and hits[0][0] == i),
            "probes": len(probes),
        }
    )


def _answer(proc, queue, *, join: bool = True) -> Any:
    """What a spawned process puts on ``queue``; an error if it dies without answering."""
    while True:
        try:
            answer = queue.get(timeout=1)
            break
        except Empty:
            if not proc.is_alive():
                raise RuntimeError(
                    f"{proc.name} ended (exit {proc.exitcode}) without an answer"
                ) from None
    if join:
        proc.join()
    return answer


def _share_worker(name: str, folder: str, tokens, k: int, loaded, measure, out) -> None:
    engine = ENGINES[name](Path(folder))
    loaded.wait()
    for q in tokens:
        engine.search(q, k)
    measure.wait()
    out.put(memory_mb())
    measure.wait()


def shared_memory(name: str, folder: Path, tokens, workers: int, k: int) -> dict[str, Any]:
    """PSS/USS of ``workers`` processes serving the same anchor index at once."""
    rows, _ = measured_together(
        get_context("spawn"), _share_worker, (name, str(folder), tokens, k), workers
    )
    return sharing_row(rows)


def run_anchors(
    names: Sequence[str],
    corpus: Sequence[tuple[str, str]],
    asks: Sequence[tuple[str, str]],
    workdir: Path,
    *,
    processes: int,
    share: Sequence[int] = (),
    share_demands: int = 1000,
    single_sample: int = 1000,
    k: int = 20,
    probes: int = 20,
    echo: Callable[[str], Any] = print,
) -> dict[str, dict[str, Any]]:
    """Tokenize the corpus once for every anchor (timed), then per anchor: build and write its
    index (timed), serve it from a fresh process, and read the memory of 1, 2, … processes
    serving it at once. Probes: the first ``probes`` patents as demands (each should find
    itself first)."""
    if not names:
        return {}
    anchor_tokens("预热", "初始化分词器")
    t = time.perf_counter()
    texts = tokenize_texts(corpus, processes)
    tok_s = time.perf_counter() - t
    echo(f"anchors: rjieba tokens of {len(texts)} patents in {tok_s:.1f} s ({processes} proc)")
    share_tokens = [anchor_tokens(title, text) for title, text in asks[:share_demands]]
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        folder = workdir / f"anchor-{name}"
        t = time.perf_counter()
        ENGINES[name].build(texts, folder, processes)
        build_s = time.perf_counter() - t
        size_mb = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20
        ctx = get_context("spawn")
        queue = ctx.Queue()
        proc = ctx.Process(
            target=_serve,
            args=(name, str(folder), list(asks), list(corpus[:probes]), single_sample, k, queue),
        )
        proc.start()
        served = _answer(proc, queue)
        sharing = [shared_memory(name, folder, share_tokens, n, k) for n in share]
        row = {
            "label": LABELS[name],
            "tokenize_s": round(tok_s, 1),
            "build_s": round(build_s, 1),
            "ingest_s": round(tok_s + build_s, 1),
            "index_mb": round(size_mb, 1),
            **served,
            "memory_sharing": sharing,
        }
        echo(
            f"anchor {name}: ingest {row['ingest_s']} s (tokenize {row['tokenize_s']} + index "
            f"{row['build_s']}), {row['index_mb']} MB on disk; single demand p50 "
            f"{row['single_ms_p50']} / p95 {row['single_ms_p95']} ms; batch of {len(asks)} in "
            f"{row['batch_s']} s ({row['batch_threads']} threads); "
            f"RSS {row['rss_after_queries_mb']} MB, PSS {row['pss_mb']} MB, USS {row['uss_mb']} MB"
            + "".join(
                f"; {s['workers']} proc PSS {s['pss_mb']} USS {s['uss_mb']} host "
                f"{s['host_pss_mb']} MB"
                for s in sharing
            )
        )
        out[name] = row
    return out
