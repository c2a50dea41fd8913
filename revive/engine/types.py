"""Plain data passed in and out of the engine (no ORM objects ever cross this line)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True, slots=True)
class Document:
    """A text to match: a patent (title + abstract + …) or a demand (title + description)."""

    id: int | str
    title: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Candidate:
    """``right_id`` (a patent) proposed for ``left_id`` (a demand), with its explanation:
    ``terms`` = the shared terms that contributed most, as (term, weight) pairs;
    ``coverage`` = the share of the demand's specific words (IDF × specificity among
    postings) the patent contains; ``matched`` = those words."""

    left_id: int | str
    right_id: int | str
    score: float
    terms: tuple[tuple[str, float], ...] = ()
    coverage: float = 0.0
    matched: frozenset[str] = frozenset()


class ScoredDoc(NamedTuple):
    """A document scored for a query row of a block (``score_block``): its id, score and
    global position. Rows are sorted by score desc, then position."""

    doc_id: Any
    score: float
    position: int


class SearchHit(NamedTuple):
    """A document found for one query row over an index's shards (``Index.search_row``), with
    its explanation: the shared terms that contributed most, the coverage of the query's
    specific words and those words (as on ``Candidate``)."""

    doc_id: Any
    score: float
    position: int  # global position in the index
    terms: tuple[tuple[str, float], ...]
    coverage: float
    matched: frozenset[str]
