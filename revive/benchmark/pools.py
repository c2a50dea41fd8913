"""``revive pools-eval``: how many of the engine's top 50 for a pool a person judges in the
industry (eval/pools).

``eval/pools/pools.json``: per pool its name, description, key terms and the top 50 stored when
the judging was done; ``eval/pools/judged.csv``: (pool, doc, in_industry 0/1) for those
documents. ``evaluate`` ranks the real corpus again with the product's ranking
(``revive.pools.ranking``) and reports, per pool, precision@50 against the judgements, how many
of the current top 50 nobody judged yet (they count as not in the industry until judged), how
far the current top 50 moved from the stored one, and the precision above the proposal bar.
Pure Python: no Flask, no database.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from revive.benchmark.data import read_corpus
from revive.engine import build_index, patent_tokens
from revive.pools.ranking import query_tokens, rank_patents

EVAL_DIR = Path(__file__).resolve().parents[2] / "eval" / "pools"
K = 50


@dataclass(frozen=True)
class PoolResult:
    key: str
    name: str
    top: tuple[str, ...]  # the current top K
    scores: tuple[float, ...]
    stored: tuple[str, ...]  # the top K the judging saw
    hits: int  # current top K judged in the industry
    unjudged: int  # current top K without a judgement
    bar: float
    above_bar: int  # current top K scoring at least the bar
    hits_above_bar: int

    @property
    def precision(self) -> float:
        return self.hits / K

    @property
    def overlap(self) -> int:
        return len(set(self.top) & set(self.stored))

    def to_dict(self) -> dict[str, Any]:
        return {
            "pool": self.key,
            "name": self.name,
            "k": K,
            "in_industry": self.hits,
            "precision_at_k": round(self.precision, 4),
            "unjudged": self.unjudged,
            "overlap_with_judged_top": self.overlap,
            "bar": self.bar,
            "above_bar": self.above_bar,
            "in_industry_above_bar": self.hits_above_bar,
        }


def read_pools(path: str | Path) -> dict[str, dict[str, Any]]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def read_judged(path: str | Path) -> dict[tuple[str, str], int]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return {(r["pool"], r["doc"]): int(r["in_industry"]) for r in csv.DictReader(f)}


def evaluate(
    pools: dict[str, dict[str, Any]],
    judged: dict[tuple[str, str], int],
    corpora: Iterable[str | Path],
    *,
    bar: float,
) -> list[PoolResult]:
    docs = read_corpus(corpora)
    index = build_index(
        [patent_tokens(d.title, d.text) for d in docs], [d.id for d in docs], version="pools-eval"
    )
    out = []
    for key, p in pools.items():
        rows = rank_patents(
            index, query_tokens(p["name"], p.get("description"), p.get("terms")), top_k=K
        )
        top = tuple(str(c.right_id) for c in rows)
        scores = tuple(float(c.score) for c in rows)
        marks = [judged.get((key, doc)) for doc in top]
        above = [m for m, s in zip(marks, scores, strict=True) if s >= bar]
        out.append(
            PoolResult(
                key=key,
                name=p["name"],
                top=top,
                scores=scores,
                stored=tuple(p.get("top50", ())),
                hits=sum(1 for m in marks if m == 1),
                unjudged=sum(1 for m in marks if m is None),
                bar=bar,
                above_bar=len(above),
                hits_above_bar=sum(1 for m in above if m == 1),
            )
        )
    return out


def table(results: Sequence[PoolResult]) -> str:
    lines = [
        f"| pool | in industry / {K} | precision@{K} | unjudged | same as judged top {K} "
        "| above bar (in industry / scored ≥ bar) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.key} {r.name} | {r.hits} / {K} | {r.precision:.2f} | {r.unjudged} "
            f"| {r.overlap} / {K} | {r.hits_above_bar} / {r.above_bar} |"
        )
    return "\n".join(lines)
