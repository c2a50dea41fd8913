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

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from revive.engine.kernels import count_terms, squeeze_spaces
from revive.engine.segment import Segmenter, from_jieba

TOKENIZER_VERSION = "t4-jiebars-words+bigrams"
BIGRAM_MARK = "~"
TITLE_REPEAT = 1

_WS = re.compile(r"\s+")
_CJK = re.compile(r"^[\u3400-\u9fff]+$")
_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")
_DIGITS = re.compile(r"^[0-9.]+$")


# Full-width ASCII and the ideographic space → their NFKC images; the text is then usually
# NFKC already and the full normalisation (slow on long Chinese text) is skipped. A regex
# replacing only the matches is ~4× faster than str.translate, which looks up every character.
_FULL_WIDTH = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_FULL_WIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
_half_width = {chr(k): chr(v) for k, v in _FULL_WIDTH.items()}.__getitem__


def _to_half(match: re.Match[str]) -> str:
    return _half_width(match.group())


def normalize(text: str | None) -> str:
    """NFKC (full-width → half-width …), lower case, whitespace collapsed."""
    if not text:
        return ""
    text = _FULL_WIDTH_RE.sub(_to_half, text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return _WS.sub(" ", text.lower()).strip()


# Separators of a batch of texts normalised and segmented in one go (TermCounter): private-use
# characters, which NFKC, lower() and the full-width folding leave alone, never whitespace,
# and which the segmenter returns as segments of their own.
_PART_SEP, _DOC_SEP = "\ue000", "\ue001"
_SEPARATED = re.compile("([\ue000\ue001])")


def normalize_joined(text: str) -> str:
    """``normalize`` of each part of ``text`` (parts separated by ``_PART_SEP`` /
    ``_DOC_SEP``), the separators kept: the same string as normalising each part and joining
    them, made with a few passes over the whole text instead of several calls per part."""
    return _normalized_points(text)[1]


# str.isspace per code point (none above U+3000 is a space): what re's \s and str.strip see
_SPACE = np.array([chr(c).isspace() for c in range(0x3001)], np.uint8)


def _normalized_points(text: str) -> tuple[np.ndarray, str]:
    """``normalize_joined``'s text as code points (int64, what the segmenter reads) and as a
    string. Raises UnicodeEncodeError on a lone surrogate (the caller then normalises part
    by part)."""
    # full-width folding as code-point arithmetic
    points = np.frombuffer(text.encode("utf-32-le"), np.uint32).copy()
    points[(points >= 0xFF01) & (points <= 0xFF5E)] -= 0xFEE0
    points[points == 0x3000] = 0x20
    text = points.tobytes().decode("utf-32-le")
    if not unicodedata.is_normalized("NFKC", text):
        parts = _SEPARATED.split(text)
        parts[::2] = [
            p if unicodedata.is_normalized("NFKC", p) else unicodedata.normalize("NFKC", p)
            for p in parts[::2]
        ]
        text = "".join(parts)
    lowered = np.frombuffer(text.lower().encode("utf-32-le"), np.uint32)
    # whitespace runs to one space, none next to a separator or at either end (a compiled
    # pass instead of a regex, four replaces and a strip)
    points = squeeze_spaces(lowered, _SPACE, ord(_PART_SEP), ord(_DOC_SEP))
    return points, points.astype(np.uint32).tobytes().decode("utf-32-le")


def shipped_json(name: str) -> Any | None:
    """A JSON file shipped in ``revive/engine/resources`` (None when the release lacks it)."""
    import json

    raw = resources.files("revive.engine.resources").joinpath(name)
    return json.loads(raw.read_text("utf-8")) if raw.is_file() else None


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
def demand_frequency() -> tuple[int, dict[str, int]]:
    """(postings counted, word → in how many of them it occurs) for words enterprises use
    often (resources/demand_df.txt, from real postings; rarer words are not listed)."""
    raw = resources.files("revive.engine.resources").joinpath("demand_df.txt").read_text("utf-8")
    total, counts = 0, {}
    for line in raw.splitlines():
        if line.startswith("# postings "):
            total = int(line.split()[-1])
        elif line.strip() and not line.startswith("#"):
            word, n = line.rsplit("\t", 1)
            counts[word] = int(n)
    return total, counts


def demand_specificity(word: str) -> float:
    """How specific a word is in enterprise postings, in (0, 1]: 1 for a word few postings
    use, lower for one most postings use (smooth IDF over postings, divided by its maximum)."""
    import math

    total, counts = demand_frequency()
    if not total:
        return 1.0
    top = math.log(total + 1) + 1
    return (math.log((total + 1) / (counts.get(word, 0) + 1)) + 1) / top


@lru_cache(maxsize=1)
def synonyms() -> dict[str, tuple[str, ...]]:
    """Enterprise word → patent words (applied to demands; the enterprise word is kept)."""
    out: dict[str, tuple[str, ...]] = {}
    for line in _read_lines("synonyms.txt"):
        head, *targets = (normalize(p) for p in line.split())
        out[head] = tuple(t for t in targets if t != head)
    return out


def user_words() -> list[tuple[str, int | None, str | None]]:
    """(word, frequency or None, POS tag or None) of the domain user dictionary."""
    out = []
    for line in _read_lines("userdict.txt"):
        parts = line.split()
        freq = int(parts[1]) if len(parts) > 1 else None
        out.append((normalize(parts[0]), freq, parts[2] if len(parts) > 2 else None))
    return out


def _jieba() -> Any:
    """A Python jieba 0.42 ``Tokenizer`` with jieba's dictionary and the domain user
    dictionary. A private one keeps jieba's global default untouched; jieba 0.42's import
    warnings (pkg_resources, invalid escapes) and its stderr logging are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        tok.initialize()
        for word, freq, tag in user_words():
            tok.add_word(word, freq, tag)
    return tok


@lru_cache(maxsize=1)
def segmenter() -> Segmenter:
    """The engine's segmenter, built once per process: jieba's algorithm compiled
    (``revive.engine.segment``) over the dictionary and word frequencies of a jieba
    ``Tokenizer`` loaded with the domain user dictionary (the tokenizer itself is dropped).

    Its segments equal Python jieba's ``lcut`` exactly (tests/engine/test_segment.py, on
    every real record). It replaced jieba-rs (``rjieba``), which cut runs of Latin
    letters/digits/symbols differently (``5-10`` whole) and, for bulk ingest, handed every
    segment back as a Python string to be looked up again.

    The built arrays are kept on disk (``segmenter_cache``, keyed by jieba's dictionary, the
    user dictionary and the format), written at install and image build: a process then
    loads them in milliseconds and never holds jieba's half a million Python strings, whose
    freed memory a forked pool process would otherwise write into (copying shared pages).
    """
    path = segmenter_cache()
    if path is not None and path.exists():
        try:
            return Segmenter.load(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):  # unreadable: build again
            pass
    seg = from_jieba(_jieba())
    if path is not None:
        with contextlib.suppress(OSError):  # a read-only install: each process builds its own
            seg.save(path)
    return seg


SEGMENTER_FORMAT = 1  # bump when the saved arrays change meaning


def segmenter_cache() -> Path | None:
    """Where the built segmenter is kept: ``REVIVE_CACHE_DIR``, else numba's cache folder
    (``NUMBA_CACHE_DIR``, set in the image), else beside this module as numba keeps its own;
    the name carries a digest of what it was built from."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        return None
    digest = hashlib.sha256(f"{SEGMENTER_FORMAT}\n".encode())
    digest.update((Path(spec.origin).parent / "dict.txt").read_bytes())
    digest.update(repr(user_words()).encode())
    folder = os.environ.get("REVIVE_CACHE_DIR") or os.environ.get("NUMBA_CACHE_DIR")
    base = Path(folder) if folder else Path(__file__).parent / "__pycache__"
    return base / f"segmenter-{digest.hexdigest()[:16]}.npz"


@lru_cache(maxsize=1)
def reference_tokenizer() -> Any:
    """Python jieba itself with the same user dictionary: the reference ``segmenter`` is
    held to (tests and ``revive eval --reference``), never used on the production path."""
    return _jieba()


_HAN = re.compile(r"[\u4e00-\u9fd5]")
_LATIN_PART = re.compile(r"[a-z0-9]+(?:\.\d+)?%?")  # jieba's finalseg re_skip (lower case)


def _latin_parts(word: str) -> list[str]:
    """jieba's cut of a run without Han characters: alphanumeric parts (``5-10`` → 5, 10)."""
    return _LATIN_PART.findall(word) or [word]


@dataclass(frozen=True, slots=True)
class _Word:
    """What one segment contributes: kept words, and for a kept CJK word its first/last
    characters and inner bigrams (bigrams across word boundaries are added by ``_tokens``)."""

    words: tuple[str, ...]
    cjk: bool = False
    first: str = ""
    last: str = ""
    grams: tuple[str, ...] = ()


_BREAK = _Word(())  # removed word, punctuation or a non-CJK word: ends a bigram run
# segment → _Word, per stopword set (patent / demand). Segments repeat a lot (Zipf), so the
# checks below run once per distinct segment and process.
_SEGMENTS: dict[bool, dict[str, _Word]] = {False: {}, True: {}}
_SEGMENT_LIMIT = 1_000_000
_BATCH = 1000  # documents normalised and segmented in one go by TermCounter


def _kept(s: str, demand: bool) -> bool:
    drop, demand_drop = stopwords()
    s = s.strip()
    junk = not s or not _WORDLIKE.search(s) or _DIGITS.match(s) or (len(s) == 1 and s.isascii())
    return not (junk or s in drop or (demand and s in demand_drop))


def _segment(seg: str, demand: bool) -> _Word:
    if len(seg) > 1 and not _HAN.search(seg):
        kept = tuple(p for p in _latin_parts(seg) if _kept(p, demand))
        return _Word(kept) if kept else _BREAK
    if not _kept(seg, demand):
        return _BREAK
    s = seg.strip()
    if not _CJK.match(s):
        return _Word((s,))
    grams = tuple(BIGRAM_MARK + s[i : i + 2] for i in range(len(s) - 1))
    return _Word((s,), True, s[0], s[-1], grams)


def _words_and_bigrams(text: str, demand: bool) -> tuple[list[str], list[str]]:
    """Kept words in order, and character bigrams inside runs of kept CJK words."""
    cache = _SEGMENTS[demand]
    if len(cache) > _SEGMENT_LIMIT:
        cache.clear()
    words: list[str] = []
    grams: list[str] = []
    last = ""
    for seg in segmenter().cut(text):
        w = cache.get(seg)
        if w is None:
            w = cache[seg] = _segment(seg, demand)
        if w.cjk:
            words.append(w.words[0])
            if last:
                grams.append(BIGRAM_MARK + last + w.first)
            grams.extend(w.grams)
            last = w.last
        else:
            words.extend(w.words)
            last = ""
    return words, grams


def text_words(text: str) -> frozenset[str]:
    """The kept words of a patent's text (no bigrams), once each: what the strength model's
    associations count and look for."""
    return frozenset(_words_and_bigrams(normalize(text), False)[0])


class TermCounter:
    """Patents' tokens counted straight into a docs × terms matrix over a vocabulary of its
    own (bulk ingest).

    Counts exactly the multiset of ``patent_tokens`` (default options) per document, without
    making a string for each token. Documents are normalised and segmented a batch at a time
    (``_BATCH`` of them joined by separators: one call each instead of two per document);
    the only Python work per segment is one dict lookup, which turns it into a *record*: the
    ids of its kept word and inner bigrams, and for a kept CJK word its first and last
    characters. The rest is vectorised over the whole chunk: a bigram across the boundary of
    two consecutive kept CJK words is keyed by its two code points and mapped to a term id
    once per distinct pair, and a compiled kernel (``kernels.count_terms``) sums each
    document's terms into a CSR row."""

    def __init__(self) -> None:
        self.terms: dict[str, int] = {}
        self._records: dict[str, int] = {}  # segment → record number
        # per record (0: a break — title/abstract boundary): kept CJK word?, code points of
        # its first and last characters, its term ids
        self._cjk: list[bool] = [False]
        self._first: list[int] = [0]
        self._last: list[int] = [0]
        self._record_terms: list[tuple[int, ...]] = [()]
        self._pairs: dict[int, int] = {}  # bigram (first << 21 | second code point) → term id
        # a copy of the segmenter whose trie gets a node for every segment met, and each
        # node's record number
        self._segmenter: Segmenter | None = None
        self._node_records = np.full(0, -1, np.int64)
        # the separators of a joined batch (``_joined``): breaks; a document's ends record 1
        self._records[_PART_SEP] = 0
        self._records[_DOC_SEP] = self._DOC = 1
        self._cjk.append(False)
        self._first.append(0)
        self._last.append(0)
        self._record_terms.append(())

    def _term(self, term: str) -> int:
        found = self.terms.get(term)
        if found is None:
            found = self.terms[term] = len(self.terms)
            if len(term) == 3 and term[0] == BIGRAM_MARK:
                self._pairs[ord(term[1]) << 21 | ord(term[2])] = found
        return found

    def _record(self, seg: str) -> int:
        w = _segment(seg, False)
        number = self._records[seg] = len(self._cjk)
        self._cjk.append(w.cjk)
        self._first.append(ord(w.first) if w.cjk else 0)
        self._last.append(ord(w.last) if w.cjk else 0)
        self._record_terms.append(tuple(self._term(t) for t in (*w.words, *w.grams)))
        return number

    def _pair(self, key: int) -> int:
        found = self._pairs.get(key)
        if found is None:
            found = self._term(BIGRAM_MARK + chr(key >> 21) + chr(key & 0x1FFFFF))
        return found

    def _cut(self, text: str, points: np.ndarray | None = None) -> np.ndarray:
        """Record numbers of the segments of ``text`` (``points``: its code points, when the
        caller has them), through the segmenter's trie nodes: a string is made only for a
        node met for the first time."""
        if self._segmenter is None:
            self._segmenter = segmenter().copy()
        if points is None:
            rows = self._segmenter.spans(text, intern=True)
        else:
            rows = self._segmenter.spans_of(points, intern=True)
        nodes = rows[:, 0]
        top = int(nodes.max(initial=-1)) + 1
        if top > self._node_records.shape[0]:
            grown = np.full(max(top, 2 * self._node_records.shape[0]), -1, np.int64)
            grown[: self._node_records.shape[0]] = self._node_records
            self._node_records = grown
        found = self._node_records[nodes]
        if found.min(initial=0) < 0:  # nodes met first here, in the order they occur
            new = np.flatnonzero(found < 0)
            _, first = np.unique(nodes[new], return_index=True)
            for i in np.sort(new[first]).tolist():
                seg = text[rows[i, 1] : rows[i, 2]]
                number = self._records.get(seg)
                self._node_records[nodes[i]] = self._record(seg) if number is None else number
            found = self._node_records[nodes]
        return found

    def _each(self, pairs: Sequence[tuple[str | None, str | None]]) -> list[int]:
        """Records of the documents one part at a time, each part ended by a break and each
        document by the document separator's record."""
        records: list[int] = []
        for title, text in pairs:
            for part in (normalize(title), normalize(text)):
                if part:
                    found = self._cut(part)
                    found[found == self._DOC] = 0  # a separator in the text: just a break
                    records.extend(found.tolist())
                records.append(0)
            records[-1] = self._DOC
        return records

    def _joined(self, pairs: Sequence[tuple[str | None, str | None]]) -> list[np.ndarray] | None:
        """The records ``_each`` gives, from one normalisation and one segmentation of the
        batch joined by separators (private-use characters: each is its own segment, and no
        normalisation step reaches across one), or None when a text holds a separator or a
        lone surrogate."""
        raw = _DOC_SEP.join(f"{title or ''}{_PART_SEP}{text or ''}" for title, text in pairs)
        if raw.count(_PART_SEP) != len(pairs) or raw.count(_DOC_SEP) != len(pairs) - 1:
            return None
        try:
            points, text = _normalized_points(raw)
        except UnicodeEncodeError:
            return None
        return [self._cut(text, points), np.array([self._DOC], np.int64)]

    def count(self, pairs: Sequence[tuple[str | None, str | None]]) -> sp.csr_matrix:
        """docs × terms counts (scipy CSR, float32) of patents' (title, abstract), over
        ``terms`` as it stands afterwards (it grows as new terms are met)."""
        parts: list[np.ndarray] = [np.zeros(0, np.int64)]
        for at in range(0, len(pairs), _BATCH):
            batch = pairs[at : at + _BATCH]
            found = self._joined(batch)
            parts.extend([np.asarray(self._each(batch), np.int64)] if found is None else found)
        n_docs = len(pairs)
        recs = np.concatenate(parts)
        # each record's own terms (kept word, inner bigrams)
        sizes = np.fromiter(map(len, self._record_terms), np.int64, len(self._record_terms))
        flat = np.fromiter(chain.from_iterable(self._record_terms), np.int32, int(sizes.sum()))
        starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        # bigrams across two consecutive kept CJK words
        cjk = np.asarray(self._cjk, bool)
        joined = np.flatnonzero(cjk[recs[:-1]] & cjk[recs[1:]])
        last, first = np.asarray(self._last, np.int64), np.asarray(self._first, np.int64)
        keys = last[recs[joined]] << 21 | first[recs[joined + 1]]
        distinct, which = np.unique(keys, return_inverse=True)
        ids = np.fromiter(map(self._pair, distinct.tolist()), np.int32, len(distinct))
        indptr, indices, data = count_terms(
            recs,
            self._DOC,
            starts,
            sizes,
            flat,
            joined,
            ids[which.ravel()],
            n_docs,
            len(self.terms),
        )
        m = sp.csr_matrix((data, indices, indptr), shape=(n_docs, len(self.terms)))
        return m


@dataclass(frozen=True)
class TokenOptions:
    """Tokenizer switches; the defaults are production (evaluation ablates them)."""

    title_repeat: int = TITLE_REPEAT
    bigrams: bool = True
    synonyms: bool = True
    demand_stopwords: bool = True


DEFAULT_OPTIONS = TokenOptions()


def _tokens(title: str, text: str, *, demand: bool, options: TokenOptions) -> list[str]:
    extra = demand and options.demand_stopwords
    syn = synonyms() if demand and options.synonyms else {}
    tokens: list[str] = []
    for part, repeat in ((normalize(title), options.title_repeat), (normalize(text), 1)):
        if not part:
            continue
        kept, grams = _words_and_bigrams(part, extra)
        if syn:
            for w in list(kept):
                kept.extend(syn.get(w, ()))
        if options.bigrams:
            kept.extend(grams)
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
    return list(_demand_tokens(title or "", text or "", options))


@lru_cache(maxsize=4096)
def _demand_tokens(title: str, text: str, options: TokenOptions) -> tuple[str, ...]:
    # Cached: matching reads a posting's tokens several times (understanding it, its
    # sub-needs, the query itself), always from the same strings.
    return tuple(_tokens(title, text, demand=True, options=options))
