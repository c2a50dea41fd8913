"""Matching a demand the way the product shows it: read the posting, query the index for a
pool, assess and re-rank the pool by strength, cut to the top k, decide abstention, group the
candidates by sub-need and give each the spans both texts share.

    results = match_demands(index, chars, model, demands, texts_of=…, top_k=20)

``demands``: (id, title, description) triples. ``texts_of(ids)``: the patents' texts (title +
abstract …) by id, for the character feature and the reasons — the caller owns where they come
from (the database in the platform, a dict in evaluation and benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from revive.engine.index import Index
from revive.engine.reasons import Reason, SpanFinder, generic_cutoff
from revive.engine.strength import POOL, Assessed, CharProfile, StrengthModel, assess
from revive.engine.text import BIGRAM_MARK, demand_tokens, normalize
from revive.engine.understand import DemandReading, content_words, read_demand

NEED_POOL = 3  # candidates each sub-need adds to the pool of a multi-need posting


@dataclass(frozen=True, slots=True)
class Proposal:
    """One candidate as shown: the assessment, the sub-need it answers (index into
    ``DemandMatch.reading.needs``) and the reasons (spans both texts share)."""

    assessed: Assessed
    need: int = 0
    reasons: tuple[Reason, ...] = ()

    @property
    def doc_id(self) -> Any:
        return self.assessed.doc_id


@dataclass(frozen=True)
class DemandMatch:
    demand_id: Any
    reading: DemandReading
    proposals: tuple[Proposal, ...]  # best first
    abstain: bool  # no candidate reaches the bar: 暂无合适专利

    @property
    def text(self) -> str:
        return f"{self.reading.title}。{self.reading.text}"


def demand_query_text(reading: DemandReading) -> str:
    return f"{reading.title}。{reading.text}" if reading.text else reading.title


def match_demands(
    index: Index,
    chars: CharProfile | None,
    model: StrengthModel,
    demands: Sequence[tuple[Any, str, str]],
    *,
    texts_of: Callable[[Sequence[Any]], Mapping[Any, str]],
    top_k: int = 20,
    pool: int = POOL,
    min_score: float = 0.0,
    allowed: Sequence[Collection[Any] | np.ndarray | None] | None = None,
    exclude: Sequence[Collection[Any] | None] | None = None,
    bar: float | None = None,
    strong: float | None = None,
    reasons: bool = True,
) -> list[DemandMatch]:
    """See the module docstring. ``allowed`` / ``exclude``: per demand, as ``Index.query``."""
    bar = model.bar if bar is None else bar
    readings = [read_demand(title, text) for _, title, text in demands]
    queries = [demand_tokens(r.title, r.text) for r in readings]
    ids = [d for d, _, _ in demands]
    found = index.query(
        queries,
        top_k=pool,
        min_score=min_score,
        allowed=allowed,
        exclude=exclude,
        query_ids=ids,
    )
    found = _with_sub_needs(index, readings, queries, found, ids, min_score, allowed, exclude)
    texts = {
        doc: normalize(text)
        for doc, text in texts_of(
            sorted({c.right_id for rows in found for c in rows}, key=str)
        ).items()
    }
    generic = generic_cutoff(len(index))
    out = []
    for demand_id, reading, rows in zip(ids, readings, found, strict=True):
        text = demand_query_text(reading)
        ranked = assess(text, rows, texts, chars, model, bar=bar, strong=strong, normalized=True)[
            :top_k
        ]
        need_words = [set(content_words("", need.text)) for need in reading.needs]
        finder = _finder(index, text, generic) if reasons and ranked else None
        proposals = tuple(
            Proposal(
                a,
                _need_of(need_words, a),
                tuple(finder.find(texts.get(a.doc_id, ""), normalized=True)) if finder else (),
            )
            for a in ranked
        )
        abstain = not any(a.strength >= bar for a in ranked)
        out.append(DemandMatch(demand_id, reading, proposals, abstain))
    return out


def _with_sub_needs(
    index: Index,
    readings: Sequence[DemandReading],
    queries: Sequence[list[str]],
    found: list[list[Any]],
    ids: Sequence[Any],
    min_score: float,
    allowed: Any,
    exclude: Any,
) -> list[list[Any]]:
    """For a multi-need posting, each sub-need's best few join the pool, scored against the
    whole posting (a strong match to one need is not diluted away by the others)."""
    out = list(found)
    for row, reading in enumerate(readings):
        if not reading.multi:
            continue
        have = {c.right_id for c in found[row]}
        need_queries = [demand_tokens(reading.title, need.text) for need in reading.needs]
        need_allowed = [allowed[row] if allowed is not None else None] * len(need_queries)
        need_exclude = [exclude[row] if exclude is not None else None] * len(need_queries)
        extra: list[Any] = []
        for rows in index.query(
            need_queries,
            top_k=NEED_POOL,
            min_score=min_score,
            allowed=need_allowed if allowed is not None else None,
            exclude=need_exclude if exclude is not None else None,
        ):
            extra += [c.right_id for c in rows if c.right_id not in have]
        if not extra:
            continue
        (rescored,) = index.query(
            [queries[row]],
            top_k=len(extra),
            min_score=0.0,
            allowed=[set(extra)],
            query_ids=[ids[row]],
        )
        out[row] = [*found[row], *rescored]
    return out


def _need_of(need_words: Sequence[set[str]], a: Assessed) -> int:
    """The sub-need whose words the candidate shares most (0 for a single-need posting)."""
    if len(need_words) < 2 or not a.matched:
        return 0
    best, best_n = 0, 0
    for i, words in enumerate(need_words):
        n = len(a.matched & words)
        if n > best_n:
            best, best_n = i, n
    return best


def _finder(index: Index, demand_text: str, generic: float) -> SpanFinder:
    def idf_of(word: str) -> float | None:
        col = index.term_index.get(word)
        return (
            float(index.idf[col]) if col is not None and not word.startswith(BIGRAM_MARK) else None
        )

    return SpanFinder(demand_text, idf_of, generic_idf=generic)


def reasons_for(index: Index, demand_text: str, patent_text: str) -> list[Reason]:
    """The reasons of one pair (e.g. a candidate an officer added by hand)."""
    return _finder(index, demand_text, generic_cutoff(len(index))).find(patent_text)


def with_strength(match: DemandMatch, bar: float) -> DemandMatch:
    """The same match judged against another bar (a platform setting)."""
    return replace(match, abstain=not any(p.assessed.strength >= bar for p in match.proposals))
