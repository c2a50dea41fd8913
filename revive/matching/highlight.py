"""Mark the reasons of a match in a text for display: escape first, then wrap matches in <mark>.

The reasons (Match.reasons) are spans of the *normalised* texts the engine read (full-width
folded to half-width, lower case, whitespace collapsed: revive.engine.normalize), so they are
looked for in a normalised copy of the text whose every character remembers where it came from;
the marks then land on the original characters. Explanation terms ([[term, weight], …], the
API's ``terms``) are accepted too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape

_WS = re.compile(r"\s")


def term_list(marks: Iterable[Any] | None) -> list[str]:
    """Strings to mark: reasons ("钕铁硼永磁") or terms ([term, weight]), without blanks or
    duplicates, in the order given."""
    out: list[str] = []
    for item in marks or ():
        raw = item if isinstance(item, str) else (item[0] if item else "")
        text = str(raw).strip()
        if text and text not in out:
            out.append(text)
    return out


def _fold(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()


def _normalised(text: str) -> tuple[str, list[int], list[int]]:
    """(normalised text, start and end in ``text`` of each normalised character). Characters
    are folded one by one (NFKC + lower case) and whitespace runs become one space, as
    engine.normalize does for the Chinese texts we show."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        if _WS.match(ch):
            if chars and chars[-1] == " ":
                ends[-1] = i + 1
                continue
            folded = " "
        else:
            folded = _fold(ch)
        for piece in folded:
            chars.append(piece)
            starts.append(i)
            ends.append(i + 1)
    return "".join(chars), starts, ends


def highlight(text: str | None, marks: Iterable[Any] | None) -> Markup:
    """HTML of ``text`` with every occurrence of a reason (or term) wrapped in <mark>.

    Matches are found in the normalised text (longest first; case and width folded) and every
    piece is escaped on its own, so neither the text nor a reason can inject markup, and a
    reason like "amp" never matches inside an escape sequence.
    """
    if not text:
        return Markup("")
    words = sorted({_fold_all(w) for w in term_list(marks)} - {""}, key=len, reverse=True)
    if not words:
        return escape(text)
    folded, starts, ends = _normalised(text)
    pattern = re.compile("|".join(re.escape(w) for w in words))
    out: list[str] = []
    pos = 0
    for m in pattern.finditer(folded):
        if m.end() == m.start():
            continue
        start, end = starts[m.start()], ends[m.end() - 1]
        if start < pos:  # a folded character split across two matches
            continue
        out.append(str(escape(text[pos:start])))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        pos = end
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def _fold_all(word: str) -> str:
    return re.sub(r"\s+", " ", "".join(_fold(ch) for ch in word)).strip()


_LATIN = re.compile(r"[a-z]")


def as_written(reason: str, text: str | None) -> str:
    """A reason as the demand wrote it: the engine's reasons are lower case and half-width
    ("cod"), so a reason with Latin letters is shown as it first occurs in ``text`` ("COD",
    "pH"); as given when it does not occur there."""
    if not text or not _LATIN.search(reason):
        return reason
    folded, starts, ends = _normalised(text)
    wanted = _fold_all(reason)
    at = folded.find(wanted) if wanted else -1
    if at < 0:
        return reason
    return text[starts[at] : ends[at + len(wanted) - 1]]
