"""The ranking of a pool: pure Python over the engine (no Flask, no database).

A pool's query is the engine's demand tokens of its name and its description plus key terms —
``index.query([demand_tokens(name, description + " " + key_terms)], top_k=…, allowed=…)``,
exactly the ranking measured in eval/pools (RESULTS.md), with no score floor (RANK_MIN_SCORE).
Industry codes may restrict the candidates (``allowed``) or boost the patents whose
industry code starts with one of them (their score times 1 + INDUSTRY_BOOST, then re-sorted).
Demands are scored the other way round (``engine.rank_against``: the pool's text against the
demands' texts in the index's IDF space).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from revive import engine
from revive.engine import Candidate

RANK_MIN_SCORE = 0.0  # as measured: the top k, however weak (curation decides)
INDUSTRY_BOOST = 0.25


def query_tokens(name: str, description: str | None, key_terms: str | None) -> list[str]:
    return engine.demand_tokens(name, f"{description or ''} {key_terms or ''}")


def query_text(name: str, description: str | None, key_terms: str | None) -> str:
    """The pool's text as people read it (the reasons are spans it shares with a patent)."""
    return " ".join(x for x in (name, description or "", key_terms or "") if x)


def rank_patents(
    index: engine.Index,
    tokens: Sequence[str],
    *,
    top_k: int,
    allowed: Collection[Any] | None = None,
    boosted: Collection[Any] | None = None,
) -> list[Candidate]:
    """The pool's best patents in ``index``: ``allowed`` doc ids (None: all); ``boosted`` doc
    ids get INDUSTRY_BOOST (scores reported boosted, order by boosted score)."""
    if not boosted:
        return index.query([tokens], top_k=top_k, min_score=RANK_MIN_SCORE, allowed=[allowed])[0]
    boosted_ids = set(boosted)
    in_codes = [i for i in boosted_ids if allowed is None or i in allowed]
    rows = index.query(
        [tokens, tokens],
        top_k=top_k,
        min_score=RANK_MIN_SCORE,
        allowed=[allowed, in_codes],
    )
    best: dict[Any, Candidate] = {}
    for c in (*rows[0], *rows[1]):
        score = c.score * (1 + INDUSTRY_BOOST) if c.right_id in boosted_ids else c.score
        if c.right_id not in best or best[c.right_id].score < score:
            best[c.right_id] = Candidate(c.left_id, c.right_id, score, c.terms)
    ordered = sorted(best.values(), key=lambda c: (-c.score, str(c.right_id)))
    return ordered[:top_k]


def rank_demands(
    index: engine.Index,
    tokens: Sequence[str],
    demands: Sequence[tuple[Any, str, str]],
    *,
    top_k: int,
) -> list[Candidate]:
    """Open demands ``(id, title, text)`` by the engine's score of their text against the
    pool's query (the reverse direction, as a patent's demands are found)."""
    if not demands:
        return []
    texts = [engine.demand_tokens(title, text) for _, title, text in demands]
    return engine.rank_against(
        tokens,
        texts,
        [d[0] for d in demands],
        index,
        top_k,
        min_score=engine.DEFAULT_MIN_SCORE,
    )


def matches_codes(industry_code: str | None, codes: Sequence[str]) -> bool:
    """Does a patent's 国民经济行业分类 ("C1441 液体乳制造") fall under one of ``codes``?"""
    code = (industry_code or "").strip().upper()
    return bool(code) and any(code.startswith(c.strip().upper()) for c in codes if c.strip())
