"""Searching entered patents in plain words, ranked by the matching engine (read only).

The pool's search page, its API and the officers' "add a patent by hand" box all call
``search``. The caller passes the filters as SQL clauses (they always include the public
clause: 已入库 only); the words are then ranked by the engine against the active index, which
the web process loads the way workers do (indexes.load_active_index: once per process and
index version). The ids the filters allow become the engine's ``allowed`` set, so ranking and
filters agree and no patent outside them is ever returned.

- words and an index: the engine's top SEARCH_DEPTH hits (a shared word at least), best first;
  pages beyond that depth are not offered (refine the words instead);
- no words: newest entered first (entered_at, then id);
- words but no index yet (a fresh platform): the words filter title, abstract and field
  (substring, as the other lists' keyword boxes), newest first.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from revive import engine
from revive.db import contains
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching import indexes
from revive.matching.models import IndexBuild
from revive.pagination import Page, page_of, paginate

SEARCH_DEPTH = 500  # ranked hits per query
MAX_QUERY = 200  # characters of the words read


@dataclass
class SearchResult(Page):
    """A page of patents (``items``), with each one's engine score by id when ranked."""

    scores: dict[int, float] = field(default_factory=dict)
    ranked: bool = False  # ordered by the engine (else newest first)
    index_version: int | None = None
    # nothing found: words of the patents that share two consecutive characters with a word
    # of the query (砂轮 → 金刚石砂轮)
    suggestions: list[str] = field(default_factory=list)


def clean_query(raw: Any) -> str:
    return " ".join(str(raw or "").replace("\x00", " ").split())[:MAX_QUERY]


def _load(ids: Sequence[int]) -> list[Patent]:
    by_id = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Patent)
            .where(Patent.id.in_(list(ids)))
            .options(joinedload(Patent.institution), joinedload(Patent.college))
        )
    }
    return [by_id[i] for i in ids if i in by_id]


def ranked_ids(query: str, where: Sequence[sa.ColumnElement[bool]]) -> tuple[list, Any] | None:
    """[(patent id, score)] best first for ``query`` among the patents ``where`` allows, and
    the index build; None when there is no index or the words give no tokens."""
    tokens = engine.demand_tokens(query, "")
    if not tokens:
        return None
    loaded = indexes.load_active_index()
    if loaded is None:
        return None
    build, index = loaded
    allowed = _allowed_mask(build, index, where)
    if allowed is None:
        return [], build
    (hits,) = index.query([tokens], top_k=SEARCH_DEPTH, min_score=0.0, allowed=[allowed])
    return [(int(c.right_id), float(c.score)) for c in hits], build


# The filters' allowed set as a mask over the index, per process: reading every id of a large
# pool (the unfiltered search: every entered patent) for each query would cost more than the
# search. Keyed by the index version, the filters' SQL, and a stamp of the rows they select
# (count, latest change) taken in one aggregate query, plus the minute — a patent that enters
# or leaves the pool is reflected within a minute at worst.
_masks: dict[tuple[Any, ...], np.ndarray] = {}
MASK_CACHE = 8


def _allowed_mask(
    build: IndexBuild, index: engine.Index, where: Sequence[sa.ColumnElement[bool]]
) -> np.ndarray | None:
    """The bool mask of the index positions ``where`` allows; None when it allows none."""
    count, changed = db.session.execute(
        sa.select(sa.func.count(Patent.id), sa.func.max(Patent.updated_at)).where(*where)
    ).one()
    if not count:
        return None
    sql = str(
        sa.select(Patent.id)
        .where(*where)
        .compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    )
    key = (indexes.index_key(build), sql, count, changed, int(time.time() // 60))
    mask = _masks.get(key)
    if mask is None:
        mask = index.mask(db.session.scalars(sa.select(Patent.id).where(*where)))
        if len(_masks) >= MASK_CACHE:
            _masks.clear()
        _masks[key] = mask
    return mask


def search(
    query: str, where: Sequence[sa.ColumnElement[bool]], page: int, per_page: int
) -> SearchResult:
    """One page of the patents ``where`` allows, ranked for ``query`` (see the module)."""
    query = clean_query(query)
    ranked = ranked_ids(query, where) if query else None
    if ranked is not None and not ranked[0]:
        ranked = None  # the engine found nothing (one character, an unknown word): try text
    if ranked is not None:
        hits, build = ranked
        shown = page_of(page, len(hits), per_page)
        window = hits[shown.offset : shown.offset + per_page]
        return SearchResult(
            items=_load([pid for pid, _ in window]),
            total=shown.total,
            page=shown.page,
            per_page=per_page,
            scores=dict(window),
            ranked=True,
            index_version=build.id,
        )
    clauses = list(where)
    if query:
        clauses.append(contains(query, Patent.title, Patent.abstract, Patent.tech_field))
    stmt = (
        sa.select(Patent)
        .where(*clauses)
        .options(joinedload(Patent.institution), joinedload(Patent.college))
        .order_by(Patent.entered_at.desc(), Patent.id.desc())
    )
    count = sa.select(sa.func.count(Patent.id)).where(*clauses)
    found = paginate(stmt, count, page, per_page)
    return SearchResult(
        items=found.items,
        total=found.total,
        page=found.page,
        per_page=per_page,
        suggestions=suggest_words(query) if query and not found.total else [],
    )


SUGGESTIONS = 6


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def query_bigrams(query: str) -> set[str]:
    """Every two consecutive Chinese characters within a word of the query (words split at
    spaces and at anything not Chinese): 砂轮 掉砂 → 砂轮, 掉砂."""
    return {run[i : i + 2] for run in _HAN_RUN.findall(query) for i in range(len(run) - 1)}


def suggest_words(query: str, limit: int = SUGGESTIONS) -> list[str]:
    """Words of the indexed patents (two characters or more, none of the query's own words)
    that share two consecutive characters with a word of the query, most common first: 砂轮
    finds 金刚石砂轮 or 砂轮片, never 两轮 or 砂浆 (one character in common says nothing about
    the subject). Read from the active index's vocabulary (one pass over it, only when a
    search found nothing)."""
    grams = query_bigrams(query)
    loaded = indexes.load_active_index() if grams else None
    if loaded is None:
        return []
    _build, index = loaded
    own = set(query.split())
    found: list[tuple[float, str]] = []
    for column, term in enumerate(index.vocabulary):
        word = len(term) >= 2 and term not in own and not term.startswith(engine.BIGRAM_MARK)
        if word and any(g in term for g in grams):
            found.append((float(index.idf[column]), term))
    return [term for _idf, term in sorted(found)[:limit]]
