"""jieba's segmentation (accurate mode, HMM for unknown words), compiled with numba.

The same algorithm as Python jieba 0.42 and over the same dictionary (jieba's ``dict.txt``
plus the domain user dictionary, its word frequencies and total taken from a jieba
``Tokenizer`` built once): the text is cut into blocks by jieba's ``re_han_default``; in a
block, every prefix-dictionary word starting at each character gives the DAG, the
max-probability route is found right to left, and runs of single characters that are not a
dictionary word go to the BMES hidden Markov model (Viterbi over jieba's own start,
transition and emission tables) or, where they hold no Han character, to ``finalseg``'s
alphanumeric split. Ties are broken as Python's ``max`` over tuples breaks them; the
floating-point sums are done in jieba's order, so the route is the same to the last bit.
``tests/engine/test_segment.py`` holds it to Python jieba's ``lcut`` on every real record.

Why our own rather than jieba-rs (``rjieba``): bulk ingest spent more time turning jieba-rs's
output into Python strings and looking each one up in a dict than jieba-rs spent cutting.
Here the dictionary is a trie of plain arrays and every segment comes back as the number of
its trie node; a segment that is not a dictionary word (an HMM word, a punctuation mark, a
Latin run) is added to the trie as a node that is not a word, so a node number names one
string exactly. Bulk ingest (``TermCounter``) works on those numbers and makes a string
only for a segment it has never met.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import numpy as np
from numba import njit

MIN_FLOAT = -3.14e100  # jieba.finalseg's
HAN_LO, HAN_HI = 0x4E00, 0x9FD5  # jieba's Han range (re_han_default, finalseg.re_han)
# HMM states in the order Python compares jieba's state letters: B < E < M < S
B, E, M, S = 0, 1, 2, 3
_LETTERS = "BEMS"
_EMPTY = -1
_NO_NODE = -1


# ------------------------------------------------------------------------------- the trie
#
# The kernels below are written flat on purpose: numba counts references to every array a
# compiled function passes to another (an atomic increment and decrement per array per
# call), and with a call per segment that bookkeeping took half the time. Helpers take
# scalars only, are called once per run of text, or are inlined (``_probe``: as fast inlined
# in the DAG walk as the loop written out, measured).

_GOLDEN = np.int64(0x9E3779B97F4A7C15 - (1 << 64))  # Fibonacci hashing, as a signed int64


@njit(cache=True, nogil=True, inline="always")
def _slot(key, mask):  # pragma: no cover - compiled
    return ((key * _GOLDEN) >> 29) & mask


@njit(cache=True, nogil=True, inline="always")
def _probe(table, mask, key):  # pragma: no cover - compiled
    """The slot holding ``key``, or the empty slot where it would go (linear probing)."""
    s = _slot(key, mask)
    while table[2 * s] != key and table[2 * s] != _EMPTY:
        s = (s + 1) & mask
    return s


@njit(cache=True, nogil=True)
def _intern(points, a, b, root, table, meta):  # pragma: no cover - compiled
    """The node of ``points[a:b]``, with the nodes on its way made (not words) if missing;
    ``table`` must have room (``Segmenter._reserve``)."""
    mask = table.shape[0] // 2 - 1
    node = root[points[a]]
    if node < 0:
        node = meta[0]
        meta[0] += 1
        root[points[a]] = node
    for i in range(a + 1, b):
        key = np.int64(node) << 21 | points[i]
        s = _probe(table, mask, key)
        if table[2 * s] == key:
            node = table[2 * s + 1]
        else:
            node = meta[0]
            meta[0] += 1
            table[2 * s] = key
            table[2 * s + 1] = node
            meta[1] += 1
    return node


@njit(cache=True, nogil=True)
def _find(points, a, b, root, table):  # pragma: no cover - compiled
    """The node of ``points[a:b]``, or -1."""
    mask = table.shape[0] // 2 - 1
    node = root[points[a]]
    for i in range(a + 1, b):
        if node < 0:
            return _NO_NODE
        key = np.int64(node) << 21 | points[i]
        s = _probe(table, mask, key)
        if table[2 * s] != key:
            return _NO_NODE
        node = table[2 * s + 1]
    return node


@njit(cache=True, nogil=True)
def _build(points, offsets, logfs, root, table, logf, meta):  # pragma: no cover - compiled
    """Add the strings ``points[offsets[i]:offsets[i + 1]]`` with their log frequencies
    (-1: a prefix only, not a word)."""
    for i in range(offsets.shape[0] - 1):
        logf[_intern(points, offsets[i], offsets[i + 1], root, table, meta)] = logfs[i]


@njit(cache=True, nogil=True)
def _rehash(table, new_table):  # pragma: no cover - compiled
    mask = new_table.shape[0] // 2 - 1
    for s in range(table.shape[0] // 2):
        key = table[2 * s]
        if key != _EMPTY:
            t = _probe(new_table, mask, key)  # not there yet: the empty slot it goes to
            new_table[2 * t] = key
            new_table[2 * t + 1] = table[2 * s + 1]


# ---------------------------------------------------------------------------- segmentation


@njit(cache=True, nogil=True, inline="always")
def _is_block(cp):  # pragma: no cover - compiled
    """jieba's re_han_default: [\u4e00-\u9fd5a-zA-Z0-9+#&._%-]."""
    return (
        (HAN_LO <= cp <= HAN_HI)
        or (97 <= cp <= 122)
        or (65 <= cp <= 90)
        or (48 <= cp <= 57)
        or cp == 43
        or cp == 35
        or cp == 38
        or cp == 46
        or cp == 95
        or cp == 37
        or cp == 45
    )


@njit(cache=True, nogil=True, inline="always")
def _is_alnum(cp):  # pragma: no cover - compiled
    return (97 <= cp <= 122) or (65 <= cp <= 90) or (48 <= cp <= 57)


@njit(cache=True, nogil=True, inline="always")
def _is_han(cp):  # pragma: no cover - compiled
    return HAN_LO <= cp <= HAN_HI


@njit(cache=True, nogil=True)
def _finalseg(points, a, b, start, trans, emit, v, back, out, n):  # pragma: no cover - compiled
    """finalseg.cut of ``points[a:b]`` (segments appended to ``out`` from row ``n``; the
    number of rows after): Han runs go to the HMM (Viterbi over B/E/M/S); the rest is split
    by re_skip ([a-zA-Z0-9]+(?:\\.\\d+)?%?), the matches and the non-empty pieces between
    them kept."""
    i = a
    while i < b:
        j = i + 1
        if _is_han(points[i]):
            while j < b and _is_han(points[j]):
                j += 1
            length = j - i
            c = points[i] - HAN_LO
            for y in range(4):
                v[0, y] = start[y] + emit[y, c]
            for t in range(1, length):
                c = points[i + t] - HAN_LO
                for y in range(4):
                    # PrevStatus: B ← E, S; E ← B, M; M ← M, B; S ← S, E. jieba takes the
                    # max of (prob, letter) tuples: a tie goes to the later letter (p1).
                    if y == B or y == S:  # noqa: SIM109 - two compares, compiled
                        p0, p1 = E, S
                    else:
                        p0, p1 = B, M
                    em = emit[y, c]
                    q0 = v[t - 1, p0] + trans[p0, y] + em
                    q1 = v[t - 1, p1] + trans[p1, y] + em
                    if q1 >= q0:
                        v[t, y] = q1
                        back[t, y] = p1
                    else:
                        v[t, y] = q0
                        back[t, y] = p0
            state = S if v[length - 1, S] >= v[length - 1, E] else E
            for t in range(length - 1, -1, -1):  # the path, kept in back[:, 0]... reversed
                pos = state
                state = back[t, state]
                back[t, 0] = pos  # column 0 is not read again at t (already used above)
            begin, nexti = 0, 0
            for t in range(length):
                pos = back[t, 0]
                if pos == B:
                    begin = t
                elif pos == E:
                    out[n, 0], out[n, 1], out[n, 2] = _NO_NODE, i + begin, i + t + 1
                    n += 1
                    nexti = t + 1
                elif pos == S:
                    out[n, 0], out[n, 1], out[n, 2] = _NO_NODE, i + t, i + t + 1
                    n += 1
                    nexti = t + 1
            if nexti < length:
                out[n, 0], out[n, 1], out[n, 2] = _NO_NODE, i + nexti, j
                n += 1
            i = j
            continue
        while j < b and not _is_han(points[j]):  # a run without Han characters
            j += 1
        k = i
        while k < j:
            e = k + 1
            if _is_alnum(points[k]):
                while e < j and _is_alnum(points[e]):
                    e += 1
                if e + 1 < j and points[e] == 46 and 48 <= points[e + 1] <= 57:
                    e += 2
                    while e < j and 48 <= points[e] <= 57:
                        e += 1
                if e < j and points[e] == 37:
                    e += 1
            else:
                while e < j and not _is_alnum(points[e]):
                    e += 1
            out[n, 0], out[n, 1], out[n, 2] = _NO_NODE, k, e
            n += 1
            k = e
        i = j
    return n


@njit(cache=True, nogil=True)
def cut_kernel(
    points, intern, out, root, table, logf, meta, logtotal, start, trans, emit
):  # pragma: no cover
    """jieba's ``cut`` of ``points``: the number of segments, written to ``out`` (at least
    as many rows as points) as rows (node or -1, start, end). With ``intern``, a segment
    that is not a dictionary word becomes a node of its own (``table`` must have room)."""
    size = points.shape[0]
    mask = table.shape[0] // 2 - 1
    # scratch indexed from a block's start: only the longest block's pages are touched
    route = np.empty(size + 1)
    best = np.empty(size, np.int64)
    best_node = np.empty(size, np.int64)
    v = np.empty((size, 4))
    back = np.empty((size, 4), np.int8)
    n = 0
    i = 0
    while i < size:
        if not _is_block(points[i]):
            # re_skip_default splits the rest: "\r\n" or any one character
            e = i + 2 if points[i] == 13 and i + 1 < size and points[i + 1] == 10 else i + 1
            out[n, 0], out[n, 1], out[n, 2] = _NO_NODE, i, e
            n += 1
            i = e
            continue
        a = i
        b = i + 1
        while b < size and _is_block(points[b]):
            b += 1
        i = b
        # jieba's calc over get_DAG, right to left: route[idx] = max over the words
        # points[idx:x+1] of (log(freq) - logtotal + route[x+1], x); words are met in
        # increasing x, so ">=" lets a tie go to the larger x, as Python's max of tuples
        route[b - a] = 0.0
        for idx in range(b - 1, a - 1, -1):
            top = 0.0
            top_x = -1
            top_node = _NO_NODE
            node = root[points[idx]]
            x = idx
            while node >= 0:
                lf = logf[node]
                if lf >= 0.0:  # a word (log of a frequency ≥ 1); -1: not a word
                    val = lf - logtotal + route[x + 1 - a]
                    if top_x < 0 or val >= top:
                        top, top_x, top_node = val, x, node
                x += 1
                if x >= b:
                    break
                key = np.int64(node) << 21 | points[x]
                s = _probe(table, mask, key)
                node = table[2 * s + 1] if table[2 * s] == key else _NO_NODE
            if top_x < 0:  # no word starts here: the character alone, frequency "or 1"
                top, top_x = 0.0 - logtotal + route[idx + 1 - a], idx
            route[idx - a] = top
            best[idx - a] = top_x
            best_node[idx - a] = top_node
        # __cut_DAG: multi-character words out as they are; runs of single-character steps
        # gathered in buf and let out one by one, as HMM words, or (a run that is itself a
        # word) character by character
        x = a
        buf = -1
        while x <= b:
            y = best[x - a] + 1 if x < b else b + 1
            if y - x == 1 and x < b:
                if buf < 0:
                    buf = x
                x = y
                continue
            if buf >= 0:
                if x - buf == 1:
                    out[n, 0], out[n, 1], out[n, 2] = _NO_NODE, buf, x
                    n += 1
                else:
                    found = _find(points, buf, x, root, table)
                    if found >= 0 and logf[found] >= 0.0:
                        for c in range(buf, x):
                            out[n, 0], out[n, 1], out[n, 2] = _NO_NODE, c, c + 1
                            n += 1
                    else:
                        n = _finalseg(points, buf, x, start, trans, emit, v, back, out, n)
                buf = -1
            if x == b:
                break
            out[n, 0], out[n, 1], out[n, 2] = best_node[x - a], x, y
            n += 1
            x = y
    if intern:
        for r in range(n):
            if out[r, 0] < 0:
                if out[r, 2] - out[r, 1] == 1:  # one character: the root's child
                    node = root[points[out[r, 1]]]
                    if node < 0:
                        node = meta[0]
                        meta[0] += 1
                        root[points[out[r, 1]]] = node
                    out[r, 0] = node
                else:
                    out[r, 0] = _intern(points, out[r, 1], out[r, 2], root, table, meta)
    return n


# ----------------------------------------------------------------------------- the object


def _points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.int64)


class Segmenter:
    """jieba's ``cut`` (HMM on) over a word → frequency dictionary and its total.

    Its arrays: ``_root`` (int32 per code point: the root's child, or -1); ``_table`` (int64,
    open addressing, per slot the key parent << 21 | code point, or -1 when empty, and the
    child side by side, so a probe reads one cache line; at most half full); ``_logf``
    (float64 per node: log(freq) of a dictionary word, -1 for any other node); ``_meta``
    (nodes and slots in use); the HMM's ``start``, ``trans`` and ``emit`` (per state B, E, M,
    S; MIN_FLOAT where jieba has no entry)."""

    def __init__(self, freq: dict[str, int], total: float) -> None:
        from jieba.finalseg import emit_P, start_P, trans_P  # jieba's HMM tables

        words = list(freq)
        lengths = np.fromiter(map(len, words), np.int64, len(words))
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        points = _points("".join(words))
        logfs = np.array([math.log(f) if f else -1.0 for f in freq.values()], np.float64)
        capacity = 1 << max(16, (2 * len(words)).bit_length())  # slots: at most half full
        self._root = np.full(0x110000, _NO_NODE, np.int32)
        self._table = np.full(2 * capacity, _EMPTY, np.int64)
        nodes = int(offsets[-1]) + 1
        self._logf = np.full(nodes, -1.0)
        self._meta = np.zeros(2, np.int64)
        self._out = np.empty((0, 3), np.int64)
        _build(points, offsets, logfs, self._root, self._table, self._logf, self._meta)
        self._logf = self._logf[: self._meta[0]].copy()
        self.logtotal = math.log(total)
        self.start = np.array([start_P[s] for s in _LETTERS], np.float64)
        self.trans = np.full((4, 4), MIN_FLOAT)
        for i, a in enumerate(_LETTERS):
            for j, b in enumerate(_LETTERS):
                self.trans[i, j] = trans_P[a].get(b, MIN_FLOAT)
        self.emit = np.full((4, HAN_HI - HAN_LO + 1), MIN_FLOAT)
        for i, s in enumerate(_LETTERS):
            for ch, p in emit_P[s].items():
                if HAN_LO <= ord(ch) <= HAN_HI:
                    self.emit[i, ord(ch) - HAN_LO] = p

    _ARRAYS = ("_root", "_table", "_logf", "_meta", "start", "trans", "emit")

    def save(self, path: Path) -> None:
        """Write the arrays (uncompressed ``.npz``) through a temporary file, so a reader
        never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                arrays = {name: getattr(self, name) for name in self._ARRAYS}
                np.savez(f, logtotal=np.float64(self.logtotal), **arrays)
            os.chmod(tmp, 0o644)  # readable by the service user of an image built as root
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path) -> Segmenter:
        """A segmenter from ``save``'s file: a few reads, no dictionary parsing and no Python
        objects per word (a forking process then hands its children a clean heap)."""
        seg = object.__new__(cls)
        with np.load(path) as f:
            for name in cls._ARRAYS:
                setattr(seg, name, f[name].copy())
            seg.logtotal = float(f["logtotal"])
        seg._out = np.empty((0, 3), np.int64)
        return seg

    def copy(self) -> Segmenter:
        """A segmenter with a trie of its own (the HMM tables shared): bulk ingest interns
        into a copy, so the process's shared segmenter is never written to."""
        other = object.__new__(Segmenter)
        other.__dict__.update(self.__dict__)
        for name in ("_root", "_table", "_logf", "_meta"):
            setattr(other, name, getattr(self, name).copy())
        other._out = np.empty((0, 3), np.int64)
        return other

    @property
    def nodes(self) -> int:
        """Trie nodes so far (dictionary words, their prefixes and the segments interned)."""
        return int(self._meta[0])

    def _reserve(self, more: int) -> None:
        """Room for ``more`` new nodes (a text of n characters adds at most n)."""
        need = int(self._meta[0]) + more
        if need > self._logf.shape[0]:
            size = max(need, 2 * self._logf.shape[0])
            self._logf = np.concatenate((self._logf, np.full(size - self._logf.shape[0], -1.0)))
        capacity = self._table.shape[0] // 2
        while 2 * (int(self._meta[1]) + more) > capacity:  # at most half full
            capacity *= 2
        if 2 * capacity > self._table.shape[0]:
            table = np.full(2 * capacity, _EMPTY, np.int64)
            _rehash(self._table, table)
            self._table = table

    def spans(self, text: str, *, intern: bool = False) -> np.ndarray:
        """Rows (node, start, end) of the segments of ``text``; node is -1 for a segment
        that is not a dictionary word unless ``intern`` makes it a node."""
        return self.spans_of(_points(text), intern=intern)

    def spans_of(self, points: np.ndarray, *, intern: bool = False) -> np.ndarray:
        """``spans`` of a text given as its code points (int64)."""
        if intern:  # bulk: one buffer reused (the rows are read before the next call)
            self._reserve(points.shape[0])
            if self._out.shape[0] < points.shape[0]:
                self._out = np.empty((max(points.shape[0], 2 * self._out.shape[0]), 3), np.int64)
            out = self._out
        else:
            out = np.empty((points.shape[0], 3), np.int64)
        n = cut_kernel(
            points,
            intern,
            out,
            self._root,
            self._table,
            self._logf,
            self._meta,
            self.logtotal,
            self.start,
            self.trans,
            self.emit,
        )
        return out[:n]

    def cut(self, text: str) -> list[str]:
        """jieba's ``lcut(text)``."""
        rows = self.spans(text)
        return list(map(text.__getitem__, map(slice, rows[:, 1].tolist(), rows[:, 2].tolist())))

    def has_word(self, word: str) -> bool:
        points = _points(word)
        node = _find(points, 0, points.shape[0], self._root, self._table)
        return bool(node >= 0 and self._logf[node] >= 0.0)


def from_jieba(tokenizer) -> Segmenter:
    """A segmenter over an initialised ``jieba.Tokenizer``'s dictionary and total. jieba's
    forced splits (a word added with frequency 0) are not carried over, so a dictionary that
    has them is refused rather than cut differently."""
    from jieba.finalseg import Force_Split_Words

    if Force_Split_Words:
        raise ValueError("words added with frequency 0 (jieba's forced splits) are not supported")
    return Segmenter(dict(tokenizer.FREQ), tokenizer.total)
