"""Mark explanation terms in a text for display: escape first, then wrap matches in <mark>."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from markupsafe import Markup, escape


def term_list(terms: Iterable[Sequence[Any]] | None) -> list[str]:
    """Terms of Match.terms ([[term, weight], …]) without blanks or duplicates."""
    out: list[str] = []
    for item in terms or ():
        term = str(item[0]).strip() if item else ""
        if term and term not in out:
            out.append(term)
    return out


def highlight(text: str | None, terms: Iterable[Sequence[Any]] | None) -> Markup:
    """HTML of ``text`` with every occurrence of a term wrapped in <mark>.

    Matches are found in the raw text (longest term first, case-insensitive) and every piece
    is escaped on its own, so neither the text nor a term can inject markup, and a term like
    "amp" never matches inside an escape sequence.
    """
    if not text:
        return Markup("")
    words = sorted(term_list(terms), key=len, reverse=True)
    if not words:
        return escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        out.append(str(escape(text[pos : m.start()])))
        out.append(f"<mark>{escape(m.group(0))}</mark>")
        pos = m.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
