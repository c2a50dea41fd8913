"""Plain data passed in and out of the engine (no ORM objects ever cross this line)."""

from __future__ import annotations

from dataclasses import dataclass


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
