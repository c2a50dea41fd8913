"""``revive eval``, ``revive fit-strength``, ``revive bench``, ``revive scale-seed`` and
``revive bench-web``."""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import click

from revive.benchmark import anchors as anchor_engines
from revive.benchmark import pools as pool_eval
from revive.benchmark import retrievers as r
from revive.benchmark import trust
from revive.benchmark.bench import run_bench
from revive.benchmark.data import read_corpus, read_qrels, read_queries
from revive.benchmark.metrics import evaluate
from revive.benchmark.scale_seed import scale_seed_command
from revive.benchmark.web import bench_web_command
from revive.engine import Params
from revive.engine.strength import FEATURES, judged_pairs, shipped_model
from revive.engine.text import DEFAULT_OPTIONS

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
EVAL_DIR = Path(__file__).resolve().parents[2] / "eval"


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


DEV_SETS = {
    "dev": (EVAL_DIR / "dev" / "queries.csv", EVAL_DIR / "dev" / "qrels.csv"),
    "real": (EVAL_DIR / "real" / "queries.csv", EVAL_DIR / "real" / "qrels.csv"),
}
DEFAULT_CORPORA = ("cn_patents.csv", "cn_patents_abstract_only.csv")


def _corpora(corpora: tuple[str, ...]) -> list[Path]:
    if corpora:
        return [Path(c) for c in corpora]
    paths = [DEFAULT_DATA / name for name in DEFAULT_CORPORA]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"corpus not found: {', '.join(missing)} (pass --corpus)")
    return paths


def _trust_row(name: str, m: dict, k: int) -> str:
    def f(key: str) -> str:
        v = m.get(key)
        return "—" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)

    return (
        f"| {name} | {f(f'ndcg@{k}')} | {f(f'recall@{k}')} | {f(f'mrr@{k}')} | "
        f"{f('strength_auc')} | {f('abstained_unanswerable')} | {f('relevant_shown')} |"
    )


@click.command("eval")
@click.option("--corpus", "corpora", multiple=True, type=click.Path(exists=True))
@click.option(
    "--queries",
    type=click.Path(exists=True),
    help="Judged demands (default: both dev sets, eval/dev and eval/real).",
)
@click.option("--qrels", type=click.Path(exists=True))
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option(
    "--retriever",
    type=click.Choice(["engine", "index", "tfidf", "bm25"]),
    default="engine",
    show_default=True,
    help="Whose figures the last JSON line holds: engine = the production pipeline; index = "
    "its first stage; tfidf / bm25 = baselines.",
)
@click.option("--bar", type=float, default=None, help="Abstention bar (default: the model's).")
@click.option("--cv/--no-cv", default=True, show_default=True, help="Also cross-validate.")
@click.option(
    "--cv-draws",
    default=0,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Also cross-validate over this many shuffled splits (mean ± sd).",
)
@click.option("--compare", is_flag=True, help="Also run plain TF-IDF and tuned BM25 (table).")
@click.option("--ablation", is_flag=True, help="Also run first-stage variants (table).")
@click.option(
    "--replay",
    is_flag=True,
    help="Also replay the real set's judgements as officers' decisions in time order.",
)
def eval_command(
    corpora, queries, qrels, k, retriever, bar, cv, cv_draws, compare, ablation, replay
) -> None:
    """Score matching on judged demands: the first stage (index), the production pipeline
    (index top 30 → strength model → re-rank) with the shipped model, and a cross-validated
    refit; the last line is JSON (nDCG, recall, MRR, strength_auc, abstained_unanswerable,
    relevant_shown of the production pipeline on the last set)."""
    if bool(queries) != bool(qrels):
        raise click.UsageError("--queries and --qrels go together")
    sets = {"given": (Path(queries), Path(qrels))} if queries else DEV_SETS
    docs = read_corpus(_corpora(corpora))
    cache = r.TokenCache()
    started = time.perf_counter()
    model = shipped_model()
    bar = model.bar if bar is None else bar
    index = None
    result: dict = {}
    per_set: dict = {}
    pooled: dict = {}
    built = {}
    for name, (qpath, rpath) in sets.items():
        qs = read_queries(qpath)
        pools = trust.build_pools(
            docs, qs, index=index, doc_tokens=cache.patents(docs, DEFAULT_OPTIONS)
        )
        index = pools.index
        built[name] = (qs, read_qrels(rpath), pools)
    # The judged demands of every set the shipped model was fitted on: a posting's own counts
    # come out of its associations exactly (a relevant patent it shares with a posting of the
    # other set stays counted).
    users = trust.relevant_users(
        [
            (p, j, list(p.candidates))
            for n, (_, j, p) in built.items()
            if n in model.trained.get("sets", ())
        ]
    )
    for name, (qs, judged, pools) in built.items():
        spread = ""
        rows: list[tuple[str, dict]] = []
        first = evaluate(trust.first_stage(pools, k), judged, k)
        rows.append(("index (first stage)", first))
        # A set the shipped model was fitted on is scored with each posting's own judgements
        # out of its word rates, as when its second stage was fitted.
        fitted_on = name != "given" and name in model.trained.get("sets", ())
        shipped = trust.assessed_pools(
            pools, model, list(pools.candidates), own=judged if fitted_on else None, users=users
        )
        main = trust.trust_figures(shipped, judged, bar, k)
        rows.append(("engine + strength model (shipped)", main))
        figures = {**main, "first_stage": first}
        if retriever == "index":
            figures = {**first, "first_stage": first}
        elif retriever == "tfidf":
            figures = {**evaluate(r.run_tfidf(docs, qs, k, cache=cache), judged, k)}
        elif retriever == "bm25":
            runs, params = r.run_bm25(docs, qs, k, judged, cache=cache)
            figures = {**evaluate(runs, judged, k), "bm25_params": params}
        if cv and name != "given":
            folds = trust.cross_validated(pools, judged)
            figures["cv"] = trust.trust_figures(folds, judged, bar, k)
            rows.append(("engine + strength model (5-fold CV by demand)", figures["cv"]))
            if cv_draws:
                drawn = trust.cv_draws(pools, judged, bar, cv_draws, k)
                figures["cv_draws"] = drawn
                rows.append((f"the same, mean of {cv_draws} shuffled splits", drawn))
                spread = ", ".join(
                    f"{key} ±{drawn[key + '_sd']:.4f}" for key in drawn if key + "_sd" in drawn
                )
        if compare:
            rows.append(
                ("plain jieba TF-IDF", evaluate(r.run_tfidf(docs, qs, k, cache=cache), judged, k))
            )
            runs, params = r.run_bm25(docs, qs, k, judged, cache=cache)
            rows.append(
                (
                    f"tuned BM25 (jieba, k1={params['k1']}, b={params['b']})",
                    evaluate(runs, judged, k),
                )
            )
        if ablation:
            for label, params, options in ablations():
                runs = r.run_engine(docs, qs, k, params=params, options=options, cache=cache)
                rows.append((f"first stage: {label}", evaluate(runs, judged, k)))
        click.echo(f"\n{name}: {len(qs)} demands, {first['queries']} with a relevant patent")
        click.echo(
            f"| retriever | nDCG@{k} | recall@{k} | MRR@{k} | strength AUC | "
            "abstained (no relevant) | relevant shown |"
        )
        click.echo("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, m in rows:
            click.echo(_trust_row(label, m, k))
        if spread:
            click.echo(f"spread over {cv_draws} shuffled splits (sd): {spread}")
        reliability = trust.reliability(shipped, judged, k)
        if reliability:
            click.echo("reliability (shipped model, judged top-k): probability bin → observed")
            for lo, hi, n, mean_p, seen in reliability:
                click.echo(
                    f"  {lo:.3f}–{hi:.3f}: {n} pairs, predicted {mean_p:.3f}, observed {seen:.3f}"
                )
        per_set[name] = figures
        result = figures
        pooled[name] = (pools, judged)
    if replay and {"dev", "real"} <= set(pooled):
        dev_pools, dev_judged = pooled["dev"]
        real_pools, real_judged = pooled["real"]
        steps = trust.replay(
            real_pools, real_judged, [(dev_pools, dev_judged, list(dev_pools.candidates))], k=k
        )
        click.echo(
            "\nreplay (real set in id order; decisions from the first share, scored on the last "
            "quarter; model = dev-set judgements + decisions):"
        )
        click.echo(f"| decided share | decisions | nDCG@{k} | MRR@{k} | strength AUC |")
        click.echo("| ---: | ---: | ---: | ---: | ---: |")
        for step in steps:
            click.echo(
                f"| {step['decided_share']:.0%} | {step['decisions']} | {step[f'ndcg@{k}']:.4f} | "
                f"{step[f'mrr@{k}']:.4f} | {step['strength_auc']:.4f} |"
            )
        per_set["replay"] = steps
        counted = trust.replay_associations(
            real_pools, real_judged, [(dev_pools, dev_judged, list(dev_pools.candidates))], k=k
        )
        click.echo(
            "\nreplay of the associations (real set in id order; the first half judged, with "
            "the dev set: the release model; the next quarter decided: the judged relevant "
            "pairs among the top 10 the release showed are accepted and counted into its "
            "associations as a refit counts them; scored on the last quarter):"
        )
        click.echo(
            f"| decided share | accepting demands | accepted pairs | nDCG@{k} | MRR@{k} | "
            "strength AUC |"
        )
        click.echo("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for step in counted:
            click.echo(
                f"| {step['decided_share']:.0%} | {step['accepting_demands']} | "
                f"{step['accepted_pairs']} | {step[f'ndcg@{k}']:.4f} | {step[f'mrr@{k}']:.4f} | "
                f"{step['strength_auc']:.4f} |"
            )
        per_set["replay_associations"] = counted
    out = {key: value for key, value in result.items() if key not in ("cv", "first_stage")}
    out.update(
        docs=len(docs),
        retriever=retriever,
        model=model.version,
        sets={
            name: f
            if isinstance(f, list)
            else {k2: v for k2, v in f.items() if k2 != "first_stage"}
            for name, f in per_set.items()
        },
        seconds=round(time.perf_counter() - started, 1),
    )
    click.echo(json.dumps(out, ensure_ascii=False))


def _plain(word: str) -> bool:
    """A word the training file can hold in its space-separated ``matched`` cell."""
    return bool(word) and not any(ch in word for ch in ", \t\r\n")


@click.command("fit-strength")
@click.option("--corpus", "corpora", multiple=True, type=click.Path(exists=True))
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=str(
        Path(__file__).resolve().parents[1] / "engine" / "resources" / "strength_model.json"
    ),
    show_default=True,
)
@click.option("--bar", type=float, default=0.08, show_default=True)
@click.option("--strong", type=float, default=0.30, show_default=True)
def fit_strength_command(corpora, out, bar, strong) -> None:
    """Fit the shipped strength model on both dev sets (the pools the production pipeline
    sees): the first stage on every judged pair, the second (posting-level recalibration) on
    the same pairs with their pools, and write it as JSON."""
    docs = read_corpus(_corpora(corpora))
    tokens = [r.patent_tokens(d.title, d.text) for d in docs]
    parts = []
    index = None
    for qpath, rpath in DEV_SETS.values():
        qs = read_queries(qpath)
        pools = trust.build_pools(docs, qs, index=index, doc_tokens=tokens)
        index = pools.index
        parts.append((pools, read_qrels(rpath), list(pools.candidates)))
    # Which patent words go with a posting word (strength.Associations), from both sets; each
    # judged posting's values counted without its own judgements.
    associations, pooled = trust.translated_pools(parts)
    # What they were counted from, so a refit can count officers' accepted pairs beside them
    # (matching.learning)
    judged = trust.judged_pairs_of(parts)
    assert judged.table() == associations
    judged.save(Path(out).with_name("strength_associations.json"))
    _, labels, _ = judged_pairs(pr for rows in pooled for pr in rows)
    # Every candidate of each judged posting's pool (features, label — empty when unjudged —
    # and the posting's content words and thin flag, and the specific words it shares with the
    # posting for the word rates; no text), so the platform can refit both stages from
    # officers' decisions plus the judged sets (matching.refit_strength).
    with open(Path(out).with_name("strength_training.csv"), "w", encoding="utf-8") as fh:
        fh.write(f"set,demand,{','.join(FEATURES)},words,thin,relevant,translated,matched\n")
        for name, rows in zip(DEV_SETS, pooled, strict=True):
            for pr in rows:
                assert pr.translated is not None
                for values, label, value, shared in zip(
                    pr.rows, pr.labels, pr.translated, pr.matched, strict=True
                ):
                    fh.write(
                        f"{name},{pr.demand},{','.join(f'{v:.6f}' for v in values)},"
                        f"{pr.words},{int(pr.thin)},{'' if label < 0 else label},{value:.6f},"
                        f"{' '.join(w for w in shared if _plain(w))}\n"
                    )
    # Each judged posting's words the index knows and whether a relevant patent was judged for
    # it (what the second stage's ``answers`` counts).
    with open(Path(out).with_name("strength_postings.csv"), "w", encoding="utf-8") as fh:
        fh.write("set,demand,answered,asked\n")
        for name, rows in zip(DEV_SETS, pooled, strict=True):
            for pr in rows:
                words = " ".join(w for w in pr.asked if _plain(w))
                fh.write(f"{name},{pr.demand},{int(bool(pr.answered))},{words}\n")
    model = trust.fit_pools(
        [pr for rows in pooled for pr in rows],
        associations=associations,
        bar=bar,
        strong=strong,
        version="judged-" + time.strftime("%Y%m%d"),  # + a digest of the numbers, below
        trained={
            "pairs": len(labels),
            "relevant": int(labels.sum()),
            "demands": sum(len(ids) for _, _, ids in parts),
            "sets": list(DEV_SETS),
            "stages": 2,
        },
    )
    # Matches record the version of the model that assessed them: two fits on one day (another
    # judged round) must not share one, so the version ends with a digest of the model's numbers.
    digest = hashlib.sha256(
        json.dumps(model.to_json(), sort_keys=True).encode("utf-8")
    ).hexdigest()[:8]
    model = replace(model, version=f"{model.version}-{digest}")
    model.save(out)
    click.echo(json.dumps(model.to_json(), ensure_ascii=False))
    real_pools, real_qrels, _ = parts[list(DEV_SETS).index("real")]
    _write_reliability(real_pools, real_qrels, model.version, out)


def _write_reliability(pools, qrels, version: str, model_path: str) -> None:
    measured = trust.measured_reliability(pools, qrels, version)
    measured.save(Path(model_path).with_name("strength_reliability.json"))
    click.echo(json.dumps(measured.to_json(), ensure_ascii=False))


@click.command("fit-reliability")
@click.option("--corpus", "corpora", multiple=True, type=click.Path(exists=True))
def fit_reliability_command(corpora) -> None:
    """Measure what the shipped model's strength means on the real postings (out of fold,
    short postings apart) and write resources/strength_reliability.json beside the model,
    leaving the model as it is (``fit-strength`` does this after each fit)."""
    docs = read_corpus(_corpora(corpora))
    qpath, rpath = DEV_SETS["real"]
    pools = trust.build_pools(
        docs, read_queries(qpath), doc_tokens=r.TokenCache().patents(docs, DEFAULT_OPTIONS)
    )
    out = Path(__file__).resolve().parents[1] / "engine" / "resources" / "strength_model.json"
    _write_reliability(pools, read_qrels(rpath), shipped_model().version, str(out))


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
@click.option(
    "--share",
    default="1,2,4",
    show_default=True,
    help="Serving-process counts whose PSS/USS is read while they map one index (empty: skip).",
)
@click.option(
    "--anchors",
    default="",
    help="Other engines measured in the same run on the same corpus: any of "
    "tantivy,bm25s,sdtopn (empty: none; needs the 'anchors' extra).",
)
def bench_command(
    patents, demands, seed, data, processes, shard_docs, fanout, incremental, share, anchors
) -> None:
    """Synthetic corpus from real sentences → ingest, serve, fan out, grow (and the anchors);
    last line JSON."""
    try:
        anchor_names = anchor_engines.parse(anchors)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--anchors") from None
    result = run_bench(
        Path(data),
        patents=patents,
        demands=demands,
        seed=seed,
        processes=processes,
        shard_docs=shard_docs,
        fanout=_counts(fanout),
        incremental=incremental,
        share=_counts(share),
        anchors=anchor_names,
        echo=click.echo,
    )
    click.echo(json.dumps(result, ensure_ascii=False))


DEFAULT_POOL_BAR = 0.10  # REVIVE_POOL_PROPOSE_BAR's default


@click.command("pools-eval")
@click.option(
    "--pools",
    "pools_path",
    type=click.Path(exists=True),
    default=str(pool_eval.EVAL_DIR / "pools.json"),
)
@click.option(
    "--judged",
    "judged_path",
    type=click.Path(exists=True),
    default=str(pool_eval.EVAL_DIR / "judged.csv"),
)
@click.option("--corpus", "corpora", multiple=True, type=click.Path(exists=True))
@click.option("--bar", type=float, default=DEFAULT_POOL_BAR, show_default=True)
def pools_eval_command(pools_path, judged_path, corpora, bar) -> None:
    """Rank the real corpus for each pool of pools.json (the product's ranking), report how
    many of the top 50 judged.csv says are in the industry and how many are unjudged; the
    last line is JSON."""
    paths = [Path(c) for c in corpora] or [DEFAULT_DATA / name for name in DEFAULT_CORPORA]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise click.UsageError(f"corpus not found: {', '.join(missing)} (pass --corpus)")
    results = pool_eval.evaluate(
        pool_eval.read_pools(pools_path), pool_eval.read_judged(judged_path), paths, bar=bar
    )
    click.echo(pool_eval.table(results))
    unjudged = sum(r.unjudged for r in results)
    if unjudged:
        click.echo(
            f"{unjudged} of the current top-50 documents have no judgement: judge them "
            "(eval/pools/judged.csv) before quoting precision."
        )
    click.echo(json.dumps([r.to_dict() for r in results], ensure_ascii=False))


commands = [
    eval_command,
    pools_eval_command,
    fit_strength_command,
    fit_reliability_command,
    bench_command,
    scale_seed_command,
    bench_web_command,
]
