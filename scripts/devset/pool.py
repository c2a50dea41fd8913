"""Build the judging pool for the development set (eval/dev).

Retrieves the top-K documents per demand with four simple lexical retrievers
over title + abstract of both corpus files, and writes the union as a judging
sheet. Deliberately independent of revive.engine (uses jieba, scikit-learn and
numpy directly) so the pool is not shaped by the engine being tuned.

Usage:
    python scripts/devset/pool.py [--data ../shared/data] [--queries eval/dev/queries.csv]
                                  [--k 15] [--out /tmp/devset/pool.csv]
    python scripts/devset/pool.py --run-only  # print runs as JSON-lines for evaluate.py
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import re
import sys
from collections import Counter
from pathlib import Path

import jieba
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

jieba.setLogLevel(logging.WARNING)

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data"

# Small stopword list: function words, demand-post boilerplate and patent boilerplate.
STOPWORDS = set(
    [
        "的",
        "了",
        "和",
        "与",
        "及",
        "或",
        "在",
        "是",
        "为",
        "对",
        "将",
        "把",
        "被",
        "从",
        "由",
        "以",
        "于",
        "等",
        "中",
        "上",
        "下",
        "内",
        "外",
        "个",
        "一",
        "一种",
        "一个",
        "该",
        "所述",
        "其",
        "其中",
        "本",
        "本发明",
        "本实用新型",
        "公开",
        "涉及",
        "包括",
        "包含",
        "具有",
        "通过",
        "进行",
        "用于",
        "采用",
        "使用",
        "可以",
        "能够",
        "能",
        "可",
        "会",
        "要",
        "有",
        "没有",
        "不",
        "也",
        "都",
        "还",
        "就",
        "而",
        "并",
        "且",
        "及其",
        "以及",
        "方法",
        "装置",
        "系统",
        "设备",
        "技术",
        "领域",
        "提供",
        "实现",
        "我们",
        "我",
        "公司",
        "我司",
        "企业",
        "希望",
        "寻求",
        "寻找",
        "需要",
        "需求",
        "想",
        "找",
        "目前",
        "现在",
        "现有",
        "问题",
        "方案",
        "合作",
        "转让",
        "许可",
        "联系",
        "方面",
        "方式",
        "比较",
        "非常",
        "很",
        "太",
        "最好",
        "左右",
        "一些",
        "这个",
        "那个",
        "这些",
        "如何",
        "怎么",
        "什么",
        "如果",
        "但是",
        "但",
        "因为",
        "所以",
        "以上",
        "以下",
        "之间",
        "每",
        "各",
        "我厂",
        "贵",
        "单位",
        "高校",
        "团队",
        "成果",
        "产品",
        "项目",
        "主要",
        "相关",
        "情况",
        "效果",
        "要求",
        "希望能",
        "够",
    ]
)
PUNCT = re.compile(r"^[\s\W_]+$")


def load_docs(data_dir: Path) -> tuple[list[str], list[str], list[str]]:
    ids, titles, texts = [], [], []
    for name in ("cn_patents.csv", "cn_patents_abstract_only.csv"):
        with open(data_dir / name, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                title = row.get("title") or ""
                ids.append(row["record_id"])
                titles.append(title)
                texts.append(f"{title} {row['abstract']}".strip())
    return ids, titles, texts


def load_queries(path: Path) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [(r["id"], f"{r['title']} {r['description']}") for r in csv.DictReader(fh)]


def tokenize(text: str) -> list[str]:
    return [t for t in jieba.lcut(text.lower()) if t.strip() and not PUNCT.match(t)]


def tokenize_nostop(text: str) -> list[str]:
    return [t for t in tokenize(text) if t not in STOPWORDS]


def top_k(scores: np.ndarray, k: int) -> list[int]:
    order = np.argsort(-scores, kind="stable")[:k]
    return [int(i) for i in order if scores[i] > 0]


class TfidfRetriever:
    def __init__(self, docs: list[str], **kwargs):
        self.vec = TfidfVectorizer(lowercase=False, sublinear_tf=True, **kwargs)
        self.matrix = self.vec.fit_transform(docs)

    def search(self, query: str, k: int) -> list[int]:
        q = self.vec.transform([query])
        return top_k((self.matrix @ q.T).toarray().ravel(), k)


class BM25:
    def __init__(self, docs: list[str], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.tfs = [Counter(tokenize(d)) for d in docs]
        self.lens = np.array([sum(c.values()) for c in self.tfs], dtype=float)
        self.avgdl = float(self.lens.mean())
        df: Counter = Counter()
        for c in self.tfs:
            df.update(c.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, c in enumerate(self.tfs):
            for t, f in c.items():
                self.postings.setdefault(t, []).append((i, f))

    def search(self, query: str, k: int) -> list[int]:
        scores = np.zeros(len(self.tfs))
        for t in set(tokenize(query)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i, f in self.postings[t]:
                norm = self.k1 * (1 - self.b + self.b * self.lens[i] / self.avgdl)
                scores[i] += idf * f * (self.k1 + 1) / (f + norm)
        return top_k(scores, k)


def build_retrievers(texts: list[str]) -> dict[str, object]:
    return {
        "tfidf": TfidfRetriever(texts, tokenizer=tokenize, token_pattern=None),
        "bm25": BM25(texts),
        "char2": TfidfRetriever(texts, analyzer="char", ngram_range=(2, 2)),
        "tfidf_stop": TfidfRetriever(texts, tokenizer=tokenize_nostop, token_pattern=None),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--queries", type=Path, default=ROOT / "eval" / "dev" / "queries.csv")
    ap.add_argument("--k", type=int, default=15)
    ap.add_argument("--out", type=Path, default=Path("/tmp/devset/pool.csv"))
    ap.add_argument("--runs", type=Path, default=None, help="also write per-retriever runs (JSON)")
    args = ap.parse_args(argv)

    ids, titles, texts = load_docs(args.data)
    abstracts = dict(zip(ids, texts, strict=True))
    queries = load_queries(args.queries)
    retrievers = build_retrievers(texts)

    runs: dict[str, dict[str, list[str]]] = {name: {} for name in retrievers}
    rows = []
    for qid, qtext in queries:
        found: dict[int, list[str]] = {}
        for name, r in retrievers.items():
            hits = r.search(qtext, args.k)
            runs[name][qid] = [ids[i] for i in hits]
            for rank, i in enumerate(hits, 1):
                found.setdefault(i, []).append(f"{name}@{rank}")
        # order the sheet by best rank so the likely-relevant come first
        for i, tags in sorted(
            found.items(), key=lambda kv: min(int(t.split("@")[1]) for t in kv[1])
        ):
            body = abstracts[ids[i]][len(titles[i]) :].strip()
            rows.append([qid, ids[i], titles[i], body[:300], " ".join(tags)])

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["qid", "record_id", "title", "abstract", "found_by"])
        w.writerows(rows)
    if args.runs:
        args.runs.write_text(json.dumps(runs, ensure_ascii=False), encoding="utf-8")
    per_q = Counter(r[0] for r in rows)
    print(
        f"{len(queries)} queries, {len(rows)} pooled pairs, "
        f"{min(per_q.values())}-{max(per_q.values())} per query",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
