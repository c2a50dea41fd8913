"""The real-demand dev set (eval/real): sample postings, pool retrievers, write blind judging
sheets, merge the judges' grades.

    python scripts/devset/real_pool.py sample --n 200 --seed 13          # eval/real/queries.csv
    python scripts/devset/real_pool.py sheets --out /tmp/judging/r1 \\
        --retriever engine --retriever bm25 --retriever char2 [--retriever shipped] \\
        [--run extra=runs.json]
    python scripts/devset/real_pool.py merge /tmp/judging/r1/*.grades.csv   # into qrels.csv
    python scripts/devset/real_pool.py --queries /tmp/judging/r3/queries.csv \
        sample --n 100 --seed 14 --exclude eval/real/queries.csv   # a later round's postings

``sheets`` pools the top ``--k`` of every retriever per demand, drops pairs already in
``eval/real/qrels.csv`` and writes the rest as markdown sheets grouped by demand. A sheet names
neither the retriever nor the rank: candidates are ordered by a hash of (demand, record id).
``--run NAME=FILE`` pools a run written by another engine version ({"qid": [record_id, ...]}),
which is how each change of the engine's top 10 gets judged before a figure is quoted.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

DATA = ROOT.parent / "shared" / "data"
REAL = ROOT / "eval" / "real"
QUERIES = REAL / "queries.csv"
QRELS = REAL / "qrels.csv"
DEMANDS_PER_SHEET = 10


def _read(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def sample(n: int, seed: int, exclude: list[Path]) -> None:
    """``n`` postings drawn at random (``seed``) from those not in any ``exclude`` file: how a
    later round adds postings that the set does not hold yet."""
    taken = {r["id"] for path in exclude for r in _read(path)}
    rows = [r for r in _read(DATA / "real_demands.csv") if r["id"] not in taken]
    chosen = sorted(random.Random(seed).sample(rows, n), key=lambda r: r["id"])
    QUERIES.parent.mkdir(parents=True, exist_ok=True)
    with open(QUERIES, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "description", "industry"])
        for r in chosen:
            w.writerow([r["id"], r["title"], r["description"], r["industry"]])
    print(f"{len(chosen)} demands → {QUERIES}", file=sys.stderr)


def _runs(names: list[str], k: int) -> dict[str, dict[str, list[str]]]:
    from revive.benchmark import retrievers as r
    from revive.benchmark.data import read_corpus, read_queries

    docs = read_corpus([DATA / "cn_patents.csv", DATA / "cn_patents_abstract_only.csv"])
    qs = read_queries(QUERIES)
    out: dict[str, dict[str, list[str]]] = {}
    cache = r.TokenCache()  # the patents tokenized once for the engine and the shipped pipeline
    if "engine" in names:
        out["engine"] = r.run_engine(docs, qs, k, cache=cache)
    if "shipped" in names:  # the production pipeline: first stage, then the strength model
        from revive.benchmark import trust
        from revive.engine.strength import shipped_model
        from revive.engine.text import DEFAULT_OPTIONS

        pools = trust.build_pools(docs, qs, doc_tokens=cache.patents(docs, DEFAULT_OPTIONS))
        assessed = trust.assessed_pools(pools, shipped_model(), [q.id for q in qs])
        out["shipped"] = {q: [a.doc_id for a in rows[:k]] for q, rows in assessed.items()}
    if {"bm25", "char2"} & set(names):
        import pool  # scripts/devset/pool.py: retrievers independent of revive.engine

        texts = [f"{d.title} {d.text}".strip() for d in docs]
        built = pool.build_retrievers(texts)
        for name in ("bm25", "char2", "tfidf"):
            if name in names:
                out[name] = {
                    q.id: [docs[i].id for i in built[name].search(f"{q.title} {q.text}", k)]
                    for q in qs
                }
    return out


def _order(qid: str, doc: str) -> str:
    return hashlib.sha1(f"{qid}|{doc}".encode()).hexdigest()


def sheets(
    out: Path, names: list[str], extra: list[str], k: int, per_sheet: int = DEMANDS_PER_SHEET
) -> None:
    from revive.benchmark.data import read_corpus, read_qrels, read_queries

    runs = _runs(names, k)
    for spec in extra:
        name, _, path = spec.partition("=")
        runs[name] = {q: ids[:k] for q, ids in json.loads(Path(path).read_text()).items()}
    judged = read_qrels(QRELS) if QRELS.exists() else {}
    docs = {
        d.id: d
        for d in read_corpus([DATA / "cn_patents.csv", DATA / "cn_patents_abstract_only.csv"])
    }
    qs = read_queries(QUERIES)
    industry = {r["id"]: r["industry"] for r in _read(QUERIES)}
    todo: list[tuple[str, list[str]]] = []
    for q in qs:
        pooled = {d for run in runs.values() for d in run.get(q.id, [])}
        new = sorted(pooled - set(judged.get(q.id, {})), key=lambda d: _order(q.id, d))
        if new:
            todo.append((q.id, new))
    out.mkdir(parents=True, exist_ok=True)
    by_id = {q.id: q for q in qs}
    total = 0
    for n in range(0, len(todo), per_sheet):
        part = todo[n : n + per_sheet]
        name = f"sheet_{n // per_sheet + 1:02d}"
        lines: list[str] = []
        for qid, new in part:
            q = by_id[qid]
            lines += [f"## 需求 {qid}", "", f"**需求名称**：{q.title}", ""]
            lines += [f"**需求描述**：{q.text}", "", f"**行业**：{industry.get(qid, '')}", ""]
            for doc in new:
                d = docs[doc]
                title = d.title or "（无标题）"
                lines += [f"### {qid} | {doc}", "", f"**{title}**", "", d.text.strip(), ""]
                total += 1
            lines.append("---")
            lines.append("")
        (out / f"{name}.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(todo)} demands, {total} unjudged pairs → {out}", file=sys.stderr)


def merge(paths: list[Path]) -> None:
    rows: dict[tuple[str, str], int] = {}
    if QRELS.exists():
        for r in _read(QRELS):
            rows[(r["qid"], r["doc"])] = int(r["grade"])
    added = 0
    for path in paths:
        for r in _read(path):
            key = (r["qid"].strip(), r["doc"].strip())
            grade = int(r["grade"])
            if grade not in (0, 1, 2):
                raise SystemExit(f"{path}: grade {grade} for {key}")
            if key not in rows:
                added += 1
            rows[key] = grade
    order = {r["id"]: i for i, r in enumerate(_read(QUERIES))}
    with open(QRELS, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["qid", "doc", "grade"])
        for (qid, doc), grade in sorted(rows.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
            w.writerow([qid, doc, grade])
    print(f"{added} new judgements, {len(rows)} in all → {QRELS}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    global QUERIES
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--queries",
        type=Path,
        default=QUERIES,
        help="the postings file sampled into, pooled and ordered by (default eval/real's)",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--n", type=int, default=200)
    s.add_argument("--seed", type=int, default=13)
    s.add_argument("--exclude", type=Path, action="append", default=[])
    p = sub.add_parser("sheets")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--retriever", action="append", default=[])
    p.add_argument("--run", action="append", default=[])
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--per-sheet", type=int, default=DEMANDS_PER_SHEET, help="postings a sheet")
    m = sub.add_parser("merge")
    m.add_argument("grades", nargs="+", type=Path)
    args = ap.parse_args(argv)
    QUERIES = args.queries
    if args.cmd == "sample":
        sample(args.n, args.seed, args.exclude)
    elif args.cmd == "sheets":
        sheets(args.out, args.retriever, args.run, args.k, args.per_sheet)
    else:
        merge(args.grades)
    return 0


if __name__ == "__main__":
    sys.exit(main())
