"""CSV inputs of the evaluation: corpus, queries, qrels (extra columns are ignored)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

csv.field_size_limit(1 << 24)


@dataclass(frozen=True, slots=True)
class Doc:
    id: str
    title: str
    text: str


def read_corpus(paths: Iterable[str | Path]) -> list[Doc]:
    """Rows of ``record_id, title (optional), abstract``; the first occurrence of an id wins."""
    docs: list[Doc] = []
    seen: set[str] = set()
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.DictReader(f):
                rid = (row.get("record_id") or "").strip()
                if not rid or rid in seen:
                    continue
                seen.add(rid)
                docs.append(Doc(rid, row.get("title") or "", row.get("abstract") or ""))
    return docs


def read_queries(path: str | Path) -> list[Doc]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [
            Doc(r["id"].strip(), r.get("title") or "", r.get("description") or "")
            for r in csv.DictReader(f)
            if (r.get("id") or "").strip()
        ]


def read_qrels(path: str | Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["qid"].strip(), {})[r["doc"].strip()] = int(r["grade"])
    return out
