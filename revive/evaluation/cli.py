"""``revive eval`` and ``revive bench``."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import click

from revive.engine import Params
from revive.engine.text import DEFAULT_OPTIONS
from revive.evaluation import retrievers as r
from revive.evaluation.data import read_corpus, read_qrels, read_queries
from revive.evaluation.metrics import evaluate

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def ablations() -> list[tuple[str, Params, object]]:
    """Engine variants, each differing from production in one respect."""
    p, o = Params(), DEFAULT_OPTIONS
    return [
        ("engine (production)", p, o),
        ("weights stored as float32 (production: float16)", replace(p, weight_dtype="float32"), o),
        ("− character bigrams", p, replace(o, bigrams=False)),
        ("+ title counted twice", p, replace(o, title_repeat=2)),
        ("− synonym map", p, replace(o, synonyms=False)),
        ("− demand stopwords", p, replace(o, demand_stopwords=False)),
        ("doc tf 1 + ln tf (no saturation/length)", replace(p, doc_tf="log"), o),
        ("doc tf saturated, b = 0 (no length)", replace(p, b=0.0), o),
        ("doc tf saturated, b = 0.75", replace(p, b=0.75), o),
        ("doc tf saturated, k1 = 1.2", replace(p, k1=1.2), o),
        ("query IDF power 1 (IDF on both sides)", replace(p, query_idf_power=1.0), o),
        ("query IDF power 0 (IDF on the document only)", replace(p, query_idf_power=0.0), o),
        ("− sublinear query tf", replace(p, sublinear_tf=False), o),
        ("bigram weight 0.3", replace(p, bigram_weight=0.3), o),
        ("bigram weight 0.6", replace(p, bigram_weight=0.6), o),
        ("bigram weight 1.5", replace(p, bigram_weight=1.5), o),
        ("min_df 2", replace(p, min_df=2), o),
        ("doc length norm ‖d‖^0.8", replace(p, doc_norm_power=0.8), o),
        (
            "all session-1 settings (1 + ln tf, IDF both sides)",
            replace(p, doc_tf="log", query_idf_power=1.0),
            o,
        ),
    ]


def _row(name: str, m: dict, k: int) -> str:
    return f"| {name} | {m[f'ndcg@{k}']:.4f} | {m[f'recall@{k}']:.4f} | {m[f'mrr@{k}']:.4f} |"


@click.command("eval")
@click.option("--corpus", "corpora", multiple=True, required=True, type=click.Path(exists=True))
@click.option("--queries", required=True, type=click.Path(exists=True))
@click.option("--qrels", required=True, type=click.Path(exists=True))
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--retriever",
    type=click.Choice(["engine", "tfidf", "bm25", "bm25-engine-tokens"]),
    default="engine",
    show_default=True,
)
@click.option("--compare", is_flag=True, help="Also run plain TF-IDF and tuned BM25 (table).")
@click.option("--ablation", is_flag=True, help="Also run engine variants (table).")
def eval_command(corpora, queries, qrels, k, retriever, compare, ablation) -> None:
    """Score the matcher on judged demands; the last line is JSON (nDCG, recall, MRR @k)."""
    docs = read_corpus(corpora)
    qs = read_queries(queries)
    judged = read_qrels(qrels)
    cache = r.TokenCache()
    started = time.perf_counter()
    rows: list[tuple[str, dict]] = []
    extra: dict = {}

    def run(name: str) -> dict:
        if name == "engine":
            runs = r.run_engine(docs, qs, k, cache=cache)
        elif name == "tfidf":
            runs = r.run_tfidf(docs, qs, k, cache=cache)
        elif name == "bm25":
            runs, extra["bm25_params"] = r.run_bm25(docs, qs, k, judged, cache=cache)
        else:  # BM25 tuned on the qrels over the engine's own tokens: isolates the scoring
            runs, extra["bm25_engine_tokens_params"] = r.run_bm25_engine_tokens(
                docs, qs, k, judged, cache=cache
            )
        return evaluate(runs, judged, k)

    main = run(retriever)
    if compare:
        labels = {
            "engine": "engine",
            "tfidf": "plain jieba TF-IDF",
            "bm25": "tuned BM25 (jieba)",
            "bm25-engine-tokens": "tuned BM25 over the engine's tokens",
        }
        for name in labels:
            rows.append((labels[name], main if name == retriever else run(name)))
    if ablation:
        for name, params, options in ablations():
            runs = r.run_engine(docs, qs, k, params=params, options=options, cache=cache)
            rows.append((name, evaluate(runs, judged, k)))
    if rows:
        click.echo(f"| retriever | nDCG@{k} | recall@{k} | MRR@{k} |")
        click.echo("| --- | ---: | ---: | ---: |")
        for name, m in rows:
            click.echo(_row(name, m, k))
    for key in ("bm25_params", "bm25_engine_tokens_params"):
        if key in extra:
            click.echo(f"{key} (tuned on these qrels): {extra[key]}")
    result = {**main, "docs": len(docs), "retriever": retriever}
    result["seconds"] = round(time.perf_counter() - started, 1)
    click.echo(json.dumps(result, ensure_ascii=False))


def _counts(value: str) -> tuple[int, ...]:
    try:
        out = tuple(int(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise click.BadParameter("a comma-separated list of worker counts, e.g. 1,2,4") from None
    if any(n < 1 for n in out):
        raise click.BadParameter("worker counts must be ≥ 1")
    return out


@click.command("bench")
@click.option("--patents", default=100_000, show_default=True, type=click.IntRange(10))
@click.option("--demands", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=7, show_default=True, type=int)
@click.option(
    "--data",
    type=click.Path(file_okay=False),
    default=str(DEFAULT_DATA),
    show_default=True,
    help="Folder with the real abstracts (cn_patents*.csv).",
)
@click.option(
    "--processes",
    default=os.cpu_count() or 1,
    show_default=True,
    type=click.IntRange(1),
    help="Processes tokenizing during ingest.",
)
@click.option("--shard-docs", default=65_536, show_default=True, type=click.IntRange(1, 65_536))
@click.option(
    "--fanout",
    default="",
    help="Worker counts for the sharded batch, e.g. 1,2,4 (empty: skip).",
)
@click.option("--incremental", default=1000, show_default=True, type=click.IntRange(1))
def bench_command(patents, demands, seed, data, processes, shard_docs, fanout, incremental) -> None:
    """Synthetic corpus from real sentences → ingest, serve, fan out, grow; last line JSON."""
    from revive.evaluation.bench import run_bench

    result = run_bench(
        Path(data),
        patents=patents,
        demands=demands,
        seed=seed,
        processes=processes,
        shard_docs=shard_docs,
        fanout=_counts(fanout),
        incremental=incremental,
        echo=click.echo,
    )
    click.echo(json.dumps(result, ensure_ascii=False))


commands = [eval_command, bench_command]
