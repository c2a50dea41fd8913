"""Normalisation and tokenization: the one place that turns Chinese text into tokens.

Tokens are of two kinds, both produced here and stored per patent:

* words — jieba segmentation with the domain user dictionary, boilerplate and function words
  removed (the title counts once, like the abstract: counting it twice measured worse, and
  many records have no title);
* character bigrams, prefixed with ``BIGRAM_MARK`` — taken inside runs of kept CJK words, so
  they survive segmentation mismatches between enterprise and patent wording (降本增效 vs
  降低成本) but never span a removed boilerplate word.

Changing anything here that alters the output must change ``TOKENIZER_VERSION``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import warnings
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

TOKENIZER_VERSION = "t2-jieba0.42-words+bigrams"
BIGRAM_MARK = "~"
TITLE_REPEAT = 1

_WS = re.compile(r"\s+")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")
_DIGITS = re.compile(r"^[0-9.]+$")


def normalize(text: str | None) -> str:
    """Full-width → half-width (NFKC), lower case, whitespace collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).lower()
    return _WS.sub(" ", text).strip()


def _read_lines(name: str) -> list[str]:
    raw = resources.files("revive.engine.resources").joinpath(name).read_text("utf-8")
    return [line.strip() for line in raw.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def stopwords() -> tuple[frozenset[str], frozenset[str]]:
    """(words removed from every text, extra words removed from demands)."""
    common = {normalize(w) for w in _read_lines("stopwords_common.txt")}
    common |= {normalize(w) for w in _read_lines("stopwords_patent.txt")}
    demand = {normalize(w) for w in _read_lines("stopwords_demand.txt")}
    return frozenset(common), frozenset(demand - common)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Enterprise word → patent words (applied to demands; the enterprise word is kept)."""
    out: dict[str, tuple[str, ...]] = {}
    for line in _read_lines("synonyms.txt"):
        head, *targets = (normalize(p) for p in line.split())
        out[head] = tuple(t for t in targets if t != head)
    return out


@lru_cache(maxsize=1)
def tokenizer() -> Any:
    """The engine's own jieba tokenizer (user dictionary loaded), initialised once per process.

    A private ``jieba.Tokenizer`` keeps jieba's global default untouched; jieba 0.42's import
    warnings (pkg_resources, invalid escapes) and its stderr logging are silenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        tok.initialize()
        for line in _read_lines("userdict.txt"):
            parts = line.split()
            freq = int(parts[1]) if len(parts) > 1 else None
            tok.add_word(normalize(parts[0]), freq, parts[2] if len(parts) > 2 else None)
    return tok


def _words(text: str, drop: frozenset[str], extra: frozenset[str]) -> list[str | None]:
    """Kept words in order; ``None`` marks a break (removed word or punctuation)."""
    out: list[str | None] = []
    for w in tokenizer().lcut(text):
        w = w.strip()
        junk = not w or not _WORDLIKE.search(w) or _DIGITS.match(w) or (len(w) == 1 and w.isascii())
        out.append(None if junk or w in drop or w in extra else w)
    return out


def _bigrams(words: list[str | None]) -> list[str]:
    out: list[str] = []
    run: list[str] = []
    for w in [*words, None]:
        if w is not None and _CJK.match(w):
            run.append(w)
            continue
        if run:
            chars = "".join(run)
            out.extend(BIGRAM_MARK + chars[i : i + 2] for i in range(len(chars) - 1))
            run = []
    return out


@dataclass(frozen=True)
class TokenOptions:
    """Tokenizer switches; the defaults are production (evaluation ablates them)."""

    title_repeat: int = TITLE_REPEAT
    bigrams: bool = True
    synonyms: bool = True
    demand_stopwords: bool = True


DEFAULT_OPTIONS = TokenOptions()


def _tokens(title: str, text: str, *, demand: bool, options: TokenOptions) -> list[str]:
    drop, demand_drop = stopwords()
    extra = demand_drop if demand and options.demand_stopwords else frozenset()
    syn = synonyms() if demand and options.synonyms else {}
    tokens: list[str] = []
    for part, repeat in ((normalize(title), options.title_repeat), (normalize(text), 1)):
        if not part:
            continue
        words = _words(part, drop, extra)
        kept = [w for w in words if w is not None]
        for w in list(kept):
            kept.extend(syn.get(w, ()))
        if options.bigrams:
            kept.extend(_bigrams(words))
        tokens.extend(kept * repeat)
    return tokens


def patent_tokens(
    title: str | None, text: str | None, *, options: TokenOptions = DEFAULT_OPTIONS
) -> list[str]:
    """Tokens of a patent (title + abstract …); stored per patent with TOKENIZER_VERSION."""
    return _tokens(title or "", text or "", demand=False, options=options)


def demand_tokens(
    title: str | None, text: str | None, *, options: TokenOptions = DEFAULT_OPTIONS
) -> list[str]:
    """Tokens of a demand: demand boilerplate removed, enterprise wording mapped to patent
    wording (the original word is kept too)."""
    return _tokens(title or "", text or "", demand=True, options=options)
