"""Score retrievers on the development set (eval/dev/queries.csv + qrels.csv).

nDCG@k uses gain 2^grade - 1 and the ideal ranking of all judged grades for the
query; recall@k and MRR@k count grade >= 1 as relevant. Only queries with at
least one relevant document are averaged.

Usage:
    python scripts/devset/evaluate.py                 # the four pooling retrievers
    python scripts/devset/evaluate.py --run run.json  # {"name": {"D01": [doc, ...]}}
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT = Path(__file__).resolve().parents[2]


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            qrels.setdefault(row["qid"], {})[row["doc"]] = int(row["grade"])
    return qrels


def score_query(ranking: list[str], judged: dict[str, int], k: int) -> tuple[float, float, float]:
    top = ranking[:k]
    dcg = sum((2 ** judged.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(top))
    ideal = sorted(judged.values(), reverse=True)[:k]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    relevant = {d for d, g in judged.items() if g >= 1}
    recall = len(relevant.intersection(top)) / len(relevant)
    mrr = next((1 / (i + 1) for i, d in enumerate(top) if d in relevant), 0.0)
    return (dcg / idcg if idcg else 0.0), recall, mrr


def evaluate(
    run: dict[str, list[str]], qrels: dict[str, dict[str, int]], k: int = 10
) -> dict[str, float]:
    qids = [q for q, j in qrels.items() if any(g >= 1 for g in j.values())]
    totals = [0.0, 0.0, 0.0]
    for q in qids:
        for i, v in enumerate(score_query(run.get(q, []), qrels[q], k)):
            totals[i] += v
    n = len(qids)
    return {
        "queries": n,
        f"ndcg@{k}": totals[0] / n,
        f"recall@{k}": totals[1] / n,
        f"mrr@{k}": totals[2] / n,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--queries", type=Path, default=ROOT / "eval" / "dev" / "queries.csv")
    ap.add_argument("--qrels", type=Path, default=ROOT / "eval" / "dev" / "qrels.csv")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--run", type=Path, default=None, help="JSON {name: {qid: [doc, ...]}}")
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args(argv)

    qrels = load_qrels(args.qrels)
    if args.run:
        runs = json.loads(args.run.read_text(encoding="utf-8"))
    else:
        import pool  # the pooling retrievers, same code that built the pool

        ids, _titles, texts = pool.load_docs(args.data or pool.DEFAULT_DATA)
        queries = pool.load_queries(args.queries)
        runs = {}
        for name, r in pool.build_retrievers(texts).items():
            runs[name] = {qid: [ids[i] for i in r.search(text, args.k)] for qid, text in queries}

    print(f"| retriever | queries | nDCG@{args.k} | recall@{args.k} | MRR@{args.k} |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, run in runs.items():
        m = evaluate(run, qrels, args.k)
        print(
            f"| {name} | {m['queries']} | {m[f'ndcg@{args.k}']:.3f} | "
            f"{m[f'recall@{args.k}']:.3f} | {m[f'mrr@{args.k}']:.3f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
