"""An index's vocabulary as memory-mapped arrays, shared by every process that serves it.

A Python list of a million terms and the dict from term to column cost each serving process
about 60 MB of its own memory at one million patents, and the process that loads a new index
version cannot inherit them from its parent. Here the terms live in arrays saved with the
artifact and mapped read-only, so the page cache holds them once for every process on a host:

- ``terms_blob.npy`` (uint8) and ``terms_offsets.npy`` (int64, n + 1): the terms' UTF-8 bytes
  in column order — ``TermList``, a read-only sequence (column → term);
- ``terms_sorted.npy`` (fixed-width bytes, ``WIDTH``) and ``terms_sorted_cols.npy`` (int32):
  the terms of at most ``WIDTH`` bytes sorted, with their columns — ``TermTable``, a read-only
  mapping (term → column) answered by binary search; the few longer terms (long Latin words)
  sit in ``terms_long.json``;
- ``terms_bigram.npy`` (bool): which columns are character bigrams, so a load need not read
  every term to weigh the columns.

Written beside the shards by ``Index.save``; ``Index.load`` reads them (format 5), or an older
artifact's ``vocab.json`` into a list and a dict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

from revive.engine.text import BIGRAM_MARK

WIDTH = 24  # bytes: eight CJK characters, or a 24-letter Latin word
FILES = (
    "terms_blob.npy",
    "terms_offsets.npy",
    "terms_sorted.npy",
    "terms_sorted_cols.npy",
    "terms_bigram.npy",
    "terms_long.json",
)


def save_terms(folder: str | Path, vocabulary: Sequence[str]) -> None:
    """Write ``vocabulary`` (terms in column order, distinct) as the arrays above."""
    folder = Path(folder)
    encoded = [t.encode("utf-8") for t in vocabulary]
    sizes = np.fromiter(map(len, encoded), np.int64, len(encoded))
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    short = np.flatnonzero(sizes <= WIDTH)
    keys = np.array([encoded[i] for i in short.tolist()], dtype=f"S{WIDTH}")
    order = np.argsort(keys, kind="stable")
    np.save(folder / "terms_blob.npy", np.frombuffer(b"".join(encoded), np.uint8))
    np.save(folder / "terms_offsets.npy", offsets)
    np.save(folder / "terms_sorted.npy", keys[order])
    np.save(folder / "terms_sorted_cols.npy", short[order].astype(np.int32))
    np.save(
        folder / "terms_bigram.npy",
        np.fromiter((t.startswith(BIGRAM_MARK) for t in vocabulary), np.bool_, len(vocabulary)),
    )
    long = {vocabulary[i]: int(i) for i in np.flatnonzero(sizes > WIDTH).tolist()}
    (folder / "terms_long.json").write_text(json.dumps(long, ensure_ascii=False), "utf-8")


def has_terms(folder: str | Path) -> bool:
    return all((Path(folder) / name).exists() for name in FILES)


class TermTable(Mapping[str, int]):
    """Term → column, read-only, over the mapped sorted arrays (see the module)."""

    def __init__(
        self, keys: np.ndarray, cols: np.ndarray, long: dict[str, int], terms: TermList
    ) -> None:
        self._keys = keys
        self._cols = cols
        self._long = long
        self._terms = terms
        # a binary search costs microseconds; the words of postings repeat, so the last 65,536
        # looked up are kept (a few MB at most, private to the process)
        self._column = lru_cache(maxsize=1 << 16)(self._search)

    def _search(self, term: str) -> int:
        raw = term.encode("utf-8")
        if len(raw) > WIDTH:
            return self._long.get(term, -1)
        keys = self._keys
        i = int(np.searchsorted(keys, raw))
        return int(self._cols[i]) if i < len(keys) and keys[i] == raw else -1

    def get(self, term: str, default: Any = None) -> Any:  # type: ignore[override]
        col = self._column(term)
        return default if col < 0 else col

    def columns(self, terms: Sequence[str]) -> np.ndarray:
        """The column of each of ``terms`` (−1 for an unknown one), in one binary search."""
        out = np.full(len(terms), -1, np.int64)
        if not len(terms):
            return out
        raw = [t.encode("utf-8") for t in terms]
        short = np.fromiter((len(r) <= WIDTH for r in raw), np.bool_, len(raw))
        if short.any():
            wanted = np.array([r for r, s in zip(raw, short, strict=True) if s], f"S{WIDTH}")
            at = np.searchsorted(self._keys, wanted)
            inside = at < len(self._keys)
            hit = np.zeros(len(wanted), np.bool_)
            hit[inside] = self._keys[at[inside]] == wanted[inside]
            found = np.full(len(wanted), -1, np.int64)
            found[hit] = self._cols[at[hit]]
            out[short] = found
        for i in np.flatnonzero(~short).tolist():
            out[i] = self._long.get(terms[i], -1)
        return out

    def __getitem__(self, term: str) -> int:
        col = self.get(term)
        if col is None:
            raise KeyError(term)
        return col

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self.get(term) is not None

    def __len__(self) -> int:
        return len(self._terms)

    def __iter__(self) -> Iterator[str]:
        return iter(self._terms)


class TermList(Sequence[str]):
    """Column → term, read-only, over the mapped UTF-8 blob (see the module)."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray, bigram: np.ndarray) -> None:
        self._blob = blob
        self._bytes = memoryview(blob)  # slices without copying the mapped pages
        self._offsets = offsets
        self.bigram = bigram  # per column: a character bigram?
        self.table: TermTable | None = None

    @classmethod
    def load(cls, folder: str | Path) -> TermList:
        folder = Path(folder)
        # plain arrays over the mapped buffers: numpy's memmap subclass costs microseconds a
        # slice, and a query reads a hundred terms
        mapped = {
            name: np.asarray(np.load(folder / name, mmap_mode="r", allow_pickle=False))
            for name in FILES
            if name.endswith(".npy")
        }
        terms = cls(
            mapped["terms_blob.npy"], mapped["terms_offsets.npy"], mapped["terms_bigram.npy"]
        )
        long = json.loads((folder / "terms_long.json").read_text("utf-8"))
        terms.table = TermTable(
            mapped["terms_sorted.npy"], mapped["terms_sorted_cols.npy"], long, terms
        )
        return terms

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return str(self._bytes[self._offsets[i] : self._offsets[i + 1]], "utf-8")

    def at(self, columns: np.ndarray) -> list[str]:
        """The terms of ``columns`` (one gather of their offsets, then a decode each)."""
        starts = self._offsets[columns].tolist()
        ends = self._offsets[columns + 1].tolist()
        data = self._bytes
        return [str(data[a:b], "utf-8") for a, b in zip(starts, ends, strict=True)]

    def __iter__(self) -> Iterator[str]:
        offsets = self._offsets
        blob = self._blob
        step = 65_536  # decode in blocks: one bytes copy per block, not per term
        for lo in range(0, len(self), step):
            hi = min(lo + step, len(self))
            base = int(offsets[lo])
            chunk = blob[base : int(offsets[hi])].tobytes()
            ends = (offsets[lo : hi + 1] - base).tolist()
            for a, b in zip(ends, ends[1:], strict=False):
                yield chunk[a:b].decode("utf-8")
