"""TF-IDF index over stored token lists: build, grow, save/load, score, explain.

Documents are cut into shards (consecutive ranges; ``shard.py``): each keeps its postings
term-major (CSR, terms × docs, document rows L2-normalised), which is what a term-at-a-time
search needs, and searches itself exactly with a compiled kernel. ``Index.query`` merges
the shards' top-k lists; a fan-out worker scores only its shards (``query(shards=…)`` or
``Index.load(folder, shards=…)``) and the lists merge to the same result. ``add_documents``
appends a delta shard without touching the others (incremental indexing).

Artifact folder: ``meta.json`` (format, version, tokenizer version, params, shard list),
the vocabulary as arrays (``terms.py``: terms in column order, a sorted table of them, which
are bigrams), ``idf.npy``, and per shard ``shards/<name>/`` with ``indptr.npy``,
``indices.npy``, ``data.npy`` and ``ids.npy`` (or ``ids.json``). No pickle. Loading
memory-maps the arrays read-only: a version loads in milliseconds, nothing is read until a
search touches it, and every worker process on a host shares the same page cache — the
vocabulary included (a delta's unchanged shards are hard links to the same files, so it
doubles nothing).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from revive.engine import kernels
from revive.engine.shard import MAX_SHARD_DOCS, Shard, id_array
from revive.engine.terms import TermList, TermTable, has_terms, save_terms
from revive.engine.text import BIGRAM_MARK, TOKENIZER_VERSION, demand_specificity
from revive.engine.types import Candidate, ScoredDoc, SearchHit

# 5: the vocabulary as memory-mapped arrays too (terms.py); 4: each array its own .npy file,
# memory-mapped read-only on load (the page cache is shared by every worker process on a
# host), the vocabulary in vocab.json; 3: sharded postings in one .npz per shard. All read.
FORMAT = 5
READABLE_FORMATS = (3, 4, 5)
SHARD_ARRAYS = ("indptr", "indices", "data")
DEFAULT_MIN_SCORE = 0.05


@dataclass(frozen=True)
class Params:
    """Scoring parameters. Documents: tf saturated as in Okapi BM25, tf·(k1+1)/(tf + k1·(1 − b +
    b·dl/avgdl)), times IDF, L2-normalised. Queries: sublinear tf (1 + ln tf) times IDF^
    query_idf_power. Score: the cosine of the two. See eval/dev/RESULTS.md for the measurements
    behind each choice."""

    sublinear_tf: bool = True  # query side: 1 + ln tf (False: raw counts)
    doc_tf: str = "bm25"  # "bm25" (saturated, length-aware) | "log" (1 + ln tf) | "raw"
    k1: float = 2.0
    b: float = 0.5
    query_idf_power: float = 0.5
    # demand side: each word also weighted by its specificity among real postings to this
    # power (text.demand_specificity; 0 = off): words in most postings (生产, 设备) count less
    demand_df_power: float = 0.5
    bigram_weight: float = 1.0  # weight of the character-bigram block against words
    min_df: int = 1
    max_df: float = 1.0  # drop terms in more than this fraction of docs (1.0 = keep all)
    doc_norm_power: float = 1.0  # doc rows divided by ‖d‖^p (1 = cosine; < 1 favours long docs)
    posting_floor: float = 0.0  # postings lighter than this are not stored (0 = keep all)
    weight_dtype: str = (
        "float16"  # stored posting weights: "float16" (half the memory) or "float32"
    )
    explain_terms: int = 5

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Params:
        """Params saved with an index; keys of parameters since removed are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------------------- shard pieces


def score_block(
    query_matrix: sp.spmatrix,
    block: sp.spmatrix,
    block_ids: Sequence[Any],
    top_k: int,
    *,
    min_score: float = 0.0,
    allowed: Sequence[Collection[int] | None] | None = None,
    offset: int = 0,
) -> list[list[ScoredDoc]]:
    """Score query rows against one block of documents.

    ``block`` is terms × docs (the transposed layout; a docs × terms block is transposed).
    ``allowed``: per query, a collection of *global positions* allowed (None = all); ``offset``
    is the block's first global position. Returns per query ``[ScoredDoc(doc_id, score,
    position)]`` sorted by score desc then position.
    """
    q = sp.csr_matrix(query_matrix, dtype=np.float32)
    if block.shape[0] != q.shape[1]:
        block = block.T
    block = sp.csr_matrix(block)
    scores = (q @ block).tocsr()
    out: list[list[ScoredDoc]] = []
    for row in range(q.shape[0]):
        start, end = scores.indptr[row], scores.indptr[row + 1]
        cols = scores.indices[start:end]
        vals = scores.data[start:end]
        keep = vals > min_score
        if allowed is not None and allowed[row] is not None:
            pos = np.fromiter(allowed[row], dtype=np.int64) - offset
            keep &= np.isin(cols, pos)
        cols, vals = cols[keep], vals[keep]
        if len(vals) > top_k:
            part = np.argpartition(-vals, top_k - 1)[:top_k]
            threshold = vals[part].min()
            sel = vals >= threshold  # every tie at the boundary, then cut deterministically
            cols, vals = cols[sel], vals[sel]
        order = np.lexsort((cols, -vals))[:top_k]
        out.append(
            [
                ScoredDoc(block_ids[c], float(vals[c_i]), int(c) + offset)
                for c_i, c in zip(order, cols[order], strict=True)
            ]
        )
    return out


# ---------------------------------------------------------------------------- the index


class Index:
    """Vocabulary, IDF, the document shards and their ids.

    Positions are global: shard after shard, in order. A document id that appears again in a
    later shard (a delta added by ``add_documents`` after its text changed) supersedes the
    earlier entry, which is never returned."""

    def __init__(
        self,
        *,
        vocabulary: Sequence[str],
        idf: np.ndarray,
        shards: Sequence[Shard],
        version: Any,
        params: Params,
        tokenizer_version: str = TOKENIZER_VERSION,
        avgdl: float = 1.0,
        idf_docs: int | None = None,
        artifact_ids: list[tuple[str, Any]] | None = None,
    ) -> None:
        self.vocabulary = vocabulary
        self.avgdl = float(avgdl)
        # a loaded artifact's vocabulary is mapped (shared by every process); a built one is a
        # list, with a dict
        self.term_index: Mapping[str, int] = (
            vocabulary.table
            if isinstance(vocabulary, TermList) and vocabulary.table is not None
            else {t: i for i, t in enumerate(vocabulary)}
        )
        self.idf = idf.astype(np.float32)
        self.column_weight = _column_weight(vocabulary, params)
        self._query_weight: np.ndarray | None = None
        self._specificity: np.ndarray | None = None
        self.shards = list(shards)
        offset = 0
        for shard in self.shards:
            shard.offset = offset
            offset += shard.n_docs
        self.n_docs = offset
        self.idf_docs = idf_docs if idf_docs is not None else offset
        self.version = version
        self.params = params
        self.tokenizer_version = tokenizer_version
        self._id_lookup: Any = None
        self._ids_list: list[Any] | None = None
        self.threads = 1  # threads searching the shards of one query (see search_row)
        # Positions whose id appears again in a later shard (None if none): of this index, or
        # of the whole artifact when only some of its shards are held (``artifact_ids``).
        self.superseded = _superseded(
            artifact_ids or [(s.name, s.ids) for s in self.shards], self.shards, self.n_docs
        )
        # Per shard: its live entries (None when none is superseded), for every search.
        self._live: list[np.ndarray | None] = [
            None
            if self.superseded is None or not self.superseded[s.offset : s.offset + s.n_docs].any()
            else ~self.superseded[s.offset : s.offset + s.n_docs]
            for s in self.shards
        ]

    def __len__(self) -> int:
        return (
            self.n_docs - int(self.superseded.sum())
            if self.superseded is not None
            else (self.n_docs)
        )

    @property
    def nnz(self) -> int:
        return sum(s.nnz for s in self.shards)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays held (postings, ids, idf, column weights)."""
        return sum(s.nbytes for s in self.shards) + self.idf.nbytes + self.column_weight.nbytes

    @property
    def ids(self) -> list[Any]:
        """Document ids by global position (built on first use)."""
        if self._ids_list is None:
            out: list[Any] = []
            for s in self.shards:
                out.extend(s.ids.tolist() if isinstance(s.ids, np.ndarray) else s.ids)
            self._ids_list = out
        return self._ids_list

    @property
    def matrix_t(self) -> sp.csr_matrix:
        """All shards as one terms × docs matrix (for tests and small indexes)."""
        n_terms = len(self.vocabulary)
        blocks = [_pad_rows(s.matrix_t, n_terms) for s in self.shards]
        return sp.csr_matrix(sp.hstack(blocks)) if blocks else sp.csr_matrix((n_terms, 0))

    def positions(self, doc_ids: Iterable[Any]) -> np.ndarray:
        """Current global positions of ``doc_ids`` (unknown ids skipped)."""
        lookup = self._lookup()
        if isinstance(lookup, tuple):
            keys, order = lookup
            want = np.fromiter((int(d) for d in doc_ids), np.int64)
            at = np.searchsorted(keys, want, side="right") - 1
            ok = (at >= 0) & (keys[np.maximum(at, 0)] == want)
            return order[at[ok]]
        return np.fromiter((lookup[d] for d in doc_ids if d in lookup), np.int64)

    def mask(self, doc_ids: Iterable[Any]) -> np.ndarray:
        """A bool array over global positions, True at the current entries of ``doc_ids``:
        the form ``query(allowed=…)`` takes cheapest (one mask serves many queries)."""
        out = np.zeros(self.n_docs, bool)
        out[self.positions(doc_ids)] = True
        return out

    def _lookup(self) -> Any:
        if self._id_lookup is None:
            if all(isinstance(s.ids, np.ndarray) for s in self.shards):
                all_ids = (
                    np.concatenate([s.ids for s in self.shards])
                    if self.shards
                    else np.zeros(0, np.int64)
                )
                order = np.argsort(all_ids, kind="stable")  # later duplicates sort later
                self._id_lookup = (all_ids[order], order)
            else:
                self._id_lookup = {d: i for i, d in enumerate(self.ids)}
        return self._id_lookup

    # -- vectors -----------------------------------------------------------------------------

    def vectorize(
        self, token_lists: Iterable[Sequence[str]], *, query: bool = False
    ) -> sp.csr_matrix:
        """Rows in the index's space (unknown terms dropped), L2-normalised, float32: weighted
        as queries (``query=True``) or as documents (the reverse direction scores a patent
        text against demand texts)."""
        p = self.params
        if query:
            return _vectorize(token_lists, self.term_index, self.query_weight, p)
        weight = self.idf * self.column_weight
        return _vectorize(token_lists, self.term_index, weight, p, avgdl=self.avgdl)

    @property
    def query_weight(self) -> np.ndarray:
        """Per column, the weight a query term gets besides its tf: IDF^query_idf_power × the
        bigram weight × demand specificity^demand_df_power (worked out on first use)."""
        if self._query_weight is None:
            p = self.params
            weight = self.idf**p.query_idf_power * self.column_weight
            if p.demand_df_power:
                spec = np.fromiter(
                    (demand_specificity(t) for t in self.vocabulary),
                    np.float32,
                    len(self.vocabulary),
                )
                weight = weight * spec**p.demand_df_power
            self._query_weight = weight.astype(np.float32)
        return self._query_weight

    @property
    def specificity(self) -> np.ndarray:
        """Per column: a word's IDF × its specificity among postings (0 for bigrams): the
        weights of ``Candidate.coverage``."""
        if self._specificity is None:
            words = (~_bigrams(self.vocabulary)).astype(np.float32)
            spec = np.fromiter(
                (demand_specificity(t) for t in self.vocabulary), np.float32, len(self.vocabulary)
            )
            self._specificity = (self.idf * spec * words).astype(np.float32)
        return self._specificity

    # -- querying ----------------------------------------------------------------------------

    def query(
        self,
        query_token_lists: Sequence[Sequence[str]],
        *,
        top_k: int = 20,
        min_score: float = DEFAULT_MIN_SCORE,
        allowed: Sequence[Collection[Any] | np.ndarray | None] | None = None,
        exclude: Sequence[Collection[Any] | None] | None = None,
        query_ids: Sequence[Any] | None = None,
        shards: Sequence[int] | None = None,
    ) -> list[list[Candidate]]:
        """Top-k patents per query, exact. ``allowed``: per query None (all), a collection of
        doc ids, or a bool mask over global positions (``Index.mask``; pass the same mask
        object for many queries, it is not copied); ``exclude``: per query, doc ids never to
        return; ``shards``: only these shard numbers (a fan-out worker's part)."""
        qm = self.vectorize(query_token_lists, query=True)
        qids = list(query_ids) if query_ids is not None else list(range(qm.shape[0]))
        masks: dict[int, np.ndarray] = {}
        out = []
        for row, qid in enumerate(qids):
            keep = None
            if allowed is not None and allowed[row] is not None:
                a = allowed[row]
                if isinstance(a, np.ndarray) and a.dtype == bool:
                    keep = a
                else:
                    keep = masks.get(id(a))
                    if keep is None:
                        keep = masks[id(a)] = self.mask(a)
            excluded = None
            if exclude is not None and exclude[row]:
                excluded = np.sort(self.positions(exclude[row]))
            rows = self.search_row(qm, row, top_k, min_score, keep, excluded, shards)
            out.append(
                [
                    Candidate(qid, hit.doc_id, hit.score, hit.terms, hit.coverage, hit.matched)
                    for hit in rows
                ]
            )
        return out

    def search_row(
        self,
        qm: sp.csr_matrix,
        row: int,
        top_k: int,
        min_score: float,
        keep: np.ndarray | None = None,
        excluded: np.ndarray | None = None,
        shards: Sequence[int] | None = None,
    ) -> list[SearchHit]:
        """One query row of ``qm`` (from ``vectorize(query=True)``) over the chosen shards:
        [SearchHit(doc id, score, global position, explanation terms, coverage, matched
        words)], best first."""
        start, end = qm.indptr[row], qm.indptr[row + 1]
        terms = qm.indices[start:end].astype(np.int64)
        weights = qm.data[start:end].astype(np.float64)
        plan = []  # (shard number, shard, keep mask, dropped positions), local
        for number, shard in enumerate(self.shards):
            if shards is not None and number not in shards:
                continue
            lo, hi = shard.offset, shard.offset + shard.n_docs
            keep_s = keep[lo:hi] if keep is not None else None
            live = self._live[number]
            if live is not None:
                keep_s = live if keep_s is None else keep_s & live
            drop = None
            if excluded is not None and len(excluded):
                inside = excluded[(excluded >= lo) & (excluded < hi)]
                drop = inside - lo if len(inside) else None
            plan.append((number, shard, keep_s, drop))

        def search(part: list[tuple[int, Shard, Any, Any]]) -> list[tuple[float, int, int]]:
            # (-score, global position, shard number): a plain sort puts the best first, ties
            # by position (positions are unique, so the shard number is never compared)
            found: list[tuple[float, int, int]] = []
            bar = 0.0
            for number, shard, keep_s, drop in part:
                pos, scores = shard.search(terms, weights, top_k, min_score, keep_s, drop, bar=bar)
                if not len(pos):
                    continue
                found.extend(
                    zip(
                        (-scores).tolist(),
                        (pos + shard.offset).tolist(),
                        repeat(number, len(pos)),
                        strict=False,
                    )
                )
                if len(found) >= top_k:  # later shards need only beat the k-th best so far
                    found.sort()
                    del found[top_k:]
                    bar = -found[-1][0]
            return found

        # With threads, each searches every threads-th shard (the kernels release the GIL).
        n = min(self.threads, len(plan))
        if n > 1:
            found = [
                f for part in _pool(n).map(search, [plan[i::n] for i in range(n)]) for f in part
            ]
        else:
            found = search(plan)
        found.sort()
        del found[top_k:]
        # Explanations for the results only: each query term's stored weight in them, as one
        # terms × results matrix filled shard by shard.
        stored = np.zeros((len(terms), len(found)))
        by_shard: dict[int, list[int]] = {}
        for j, (_, _, number) in enumerate(found):
            by_shard.setdefault(number, []).append(j)
        for number, mine in by_shard.items():
            shard = self.shards[number]
            local = np.asarray([found[j][1] - shard.offset for j in mine], np.int64)
            stored[:, mine] = shard.weights_at(terms, local)
        names = _terms_at(self.vocabulary, terms)
        specific = self.specificity[terms]  # 0 for bigrams
        total = float(specific.sum()) or 1.0
        explain = _Explainer(names, self.params.explain_terms)
        # all results at once: one sort for the reasons
        present = stored > 0
        reasons = explain.many(stored * weights[:, None])
        matched: list[list[str]] = [[] for _ in found]
        cols, rows = np.nonzero((present & (specific > 0)[:, None]).T)
        for j, i in zip(cols.tolist(), rows.tolist(), strict=True):
            matched[j].append(names[i])
        out: list[SearchHit] = []
        for j, (negative, position, number) in enumerate(found):
            shard = self.shards[number]
            doc_id = shard.ids[position - shard.offset]
            doc_id = doc_id.item() if isinstance(doc_id, np.generic) else doc_id
            out.append(
                SearchHit(
                    doc_id,
                    round(-negative, 6),
                    position,
                    reasons[j],
                    round(float(specific[present[:, j]].sum()) / total, 6),
                    frozenset(matched[j]),
                )
            )
        return out

    # -- growing -----------------------------------------------------------------------------

    def add_documents(
        self, token_lists: Sequence[Sequence[str]], ids: Sequence[Any], *, name: str
    ) -> Index:
        """A new index: these documents as one more shard, weighted with this index's IDF and
        average length, and superseding earlier entries of the same ids. Terms the index has
        not seen are appended to the vocabulary with the IDF they would have over all
        documents counted so far (df from the new documents). Nothing is re-tokenized or
        re-weighted: the shards of this index are shared, not copied. A full rebuild later
        recomputes every statistic."""
        if len(token_lists) != len(ids):
            raise ValueError("token_lists and ids differ in length")
        names, counts = count_terms(token_lists)
        vocabulary = list(self.vocabulary)
        term_index = {t: i for i, t in enumerate(vocabulary)}
        new_terms = [t for t in names if t not in term_index]
        for t in new_terms:
            term_index[t] = len(vocabulary)
            vocabulary.append(t)
        cols = np.fromiter((term_index[t] for t in names), np.int64, count=len(names))
        counts = sp.csr_matrix(
            (counts.data, cols[counts.indices], counts.indptr),
            shape=(counts.shape[0], len(vocabulary)),
        )
        idf_docs = self.idf_docs + len(ids)
        df = np.bincount(counts.indices, minlength=len(vocabulary))
        idf = np.concatenate(
            [self.idf, _idf(df[len(self.vocabulary) :].astype(np.float64), idf_docs)]
        )
        new_shards = _shards(
            counts,
            ids,
            idf,
            vocabulary,
            self.params,
            self.avgdl,
            MAX_SHARD_DOCS,
            lambda n: name if n == 0 else f"{name}.{n}",
        )
        return Index(
            vocabulary=vocabulary,
            idf=idf,
            shards=[*self.shards, *new_shards],
            version=self.version,
            params=self.params,
            tokenizer_version=self.tokenizer_version,
            avgdl=self.avgdl,
            idf_docs=idf_docs,
        )

    # -- persistence -------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write the artifact. A shard loaded from disk is hard-linked from where it was
        (cheap for a delta on top of a large index), else written. ``source`` keeps pointing
        at the folder a shard was loaded from (the target may be renamed into place)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "idf.npy", self.idf, allow_pickle=False)
        save_terms(folder, self.vocabulary)
        for shard in self.shards:
            _save_shard(shard, folder / "shards" / shard.name)
        meta = {
            "format": FORMAT,
            "version": self.version,
            "tokenizer_version": self.tokenizer_version,
            "params": self.params.to_json(),
            "docs": self.n_docs,
            "terms": len(self.vocabulary),
            "avgdl": self.avgdl,
            "idf_docs": self.idf_docs,
            "shards": [
                {"name": s.name, "docs": s.n_docs, "terms": s.n_terms, "nnz": s.nnz}
                for s in self.shards
            ],
        }
        (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), "utf-8")
        return folder

    @classmethod
    def load(
        cls,
        folder: str | Path,
        shards: Collection[str] | None = None,
        *,
        reuse: Index | None = None,
    ) -> Index:
        """Load an artifact; ``shards``: only the shards with these names (a fan-out worker's
        part; positions then count over the loaded shards only). ``reuse``: an index in
        memory whose shards are the same files (hard links: a delta on top of it) — those are
        shared instead of read again, so a worker picks up a delta in milliseconds."""
        folder = Path(folder)
        meta = json.loads((folder / "meta.json").read_text("utf-8"))
        if meta.get("format") not in READABLE_FORMATS:
            raise ValueError(f"unsupported index format: {meta.get('format')!r}")
        if (folder / "idf.npy").exists():
            idf = np.load(folder / "idf.npy", allow_pickle=False)
        else:  # format 3
            idf = np.load(folder / "arrays.npz", allow_pickle=False)["idf"]
        known = {}
        for shard in reuse.shards if reuse is not None else ():
            if shard.file_id is not None:
                known[(shard.name, shard.file_id)] = shard
        loaded = []
        for s in meta["shards"]:
            if shards is not None and s["name"] not in shards:
                continue
            path = folder / "shards" / s["name"]
            same = known.get((s["name"], _file_id(_postings_file(path))))
            if same is not None:
                same.source = path
                loaded.append(same)
            else:
                loaded.append(_load_shard(path, s["name"], s.get("docs")))
        return cls(
            vocabulary=TermList.load(folder)
            if has_terms(folder)
            else json.loads((folder / "vocab.json").read_text("utf-8")),
            idf=idf,
            shards=loaded,
            version=meta["version"],
            params=Params.from_json(meta["params"]),
            tokenizer_version=meta["tokenizer_version"],
            avgdl=meta["avgdl"],
            idf_docs=meta["idf_docs"],
            # a part: entries superseded by shards it did not load count too
            artifact_ids=None
            if shards is None
            else [(s["name"], _read_ids(folder / "shards" / s["name"])) for s in meta["shards"]],
        )


_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """This process's pool of ``threads`` threads (made after any fork: a pool's threads do
    not survive one)."""
    key = (os.getpid(), threads)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = ThreadPoolExecutor(threads, thread_name_prefix="revive-search")
    return pool


def _superseded(
    sequence: list[tuple[str, Any]], held: Sequence[Shard], n_docs: int
) -> np.ndarray | None:
    """Positions of the ``held`` shards whose id appears again in a later shard of
    ``sequence`` ((name, ids) of every shard, in order); None if there are none."""
    if len(sequence) < 2:
        return None
    by_name = {s.name: s for s in held}
    out = np.zeros(n_docs, bool)
    later: Any = None
    for name, ids in reversed(sequence):
        ids = ids if isinstance(ids, np.ndarray) else np.asarray(ids, dtype=object)
        shard = by_name.get(name)
        if shard is not None and later is not None and len(later) and len(ids):
            out[shard.offset : shard.offset + shard.n_docs] = np.isin(ids, later)
        later = ids if later is None else np.concatenate([later, ids])
    return out if out.any() else None


def _read_ids(folder: Path) -> Any:
    if (folder / "ids.npy").exists():
        return np.load(folder / "ids.npy", mmap_mode="r")
    return json.loads((folder / "ids.json").read_text("utf-8"))


def read_meta(folder: str | Path) -> dict[str, Any]:
    """An artifact's meta.json (shard names and sizes, version) without loading it."""
    return json.loads((Path(folder) / "meta.json").read_text("utf-8"))


def _file_id(path: Path) -> tuple[int, ...]:
    """The file behind a path (hard links share it; a recycled inode has another mtime)."""
    st = path.stat()
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


def _postings_file(folder: Path) -> Path:
    """The file whose identity names a shard's postings (format 4: indices.npy)."""
    return folder / "indices.npy" if (folder / "indices.npy").exists() else folder / "postings.npz"


def _save_shard(shard: Shard, target: Path) -> None:
    source = shard.source
    target.mkdir(parents=True, exist_ok=True)
    files = ("postings.npz", "ids.npy", "ids.json", *(f"{a}.npy" for a in SHARD_ARRAYS))
    if source is not None and Path(source).resolve() != target.resolve():
        for name in files:
            if (Path(source) / name).exists():
                try:
                    os.link(Path(source) / name, target / name)
                except OSError:
                    shutil.copy2(Path(source) / name, target / name)
        return
    for name in SHARD_ARRAYS:
        np.save(target / f"{name}.npy", np.ascontiguousarray(getattr(shard, name)))
    if isinstance(shard.ids, np.ndarray):
        np.save(target / "ids.npy", shard.ids, allow_pickle=False)
    else:
        (target / "ids.json").write_text(json.dumps(shard.ids, ensure_ascii=False), "utf-8")


def _load_shard(folder: Path, name: str, n_docs: int | None = None) -> Shard:
    """A shard's arrays memory-mapped read-only (format 4): nothing is read until a search
    touches it, and every process mapping the same files shares their pages."""
    if (folder / "indices.npy").exists():
        arrays = [np.load(folder / f"{a}.npy", mmap_mode="r") for a in SHARD_ARRAYS]
        ids = _read_ids(folder)
        docs = n_docs if n_docs is not None else len(ids)
        shard = Shard(*arrays, int(docs), ids, name)
    else:  # format 3
        z = np.load(folder / "postings.npz", allow_pickle=False)
        shard = Shard(
            z["indptr"], z["indices"], z["data"], int(z["n_docs"]), _read_ids(folder), name
        )
    shard.source, shard.file_id = folder, _file_id(_postings_file(folder))
    return shard


def _pad_rows(m: sp.csr_matrix, rows: int) -> sp.csr_matrix:
    if m.shape[0] == rows:
        return m
    indptr = np.concatenate([m.indptr, np.full(rows - m.shape[0], m.indptr[-1], m.indptr.dtype)])
    return sp.csr_matrix((m.data, m.indices, indptr), shape=(rows, m.shape[1]))


class _Explainer:
    """``pick_terms`` for many documents against one query, on arrays: the query's terms are
    split into words and bigrams and ordered by name once; per document only the few picked
    terms become strings (search_row explains all its results with one call of ``many``)."""

    def __init__(self, names: Sequence[str], n: int) -> None:
        self.names, self.n = list(names), n
        self.gram = np.fromiter((t.startswith(BIGRAM_MARK) for t in names), bool, len(names))
        rank = np.empty(len(names), np.int64)
        rank[np.argsort(np.asarray(names, dtype=object), kind="stable")] = np.arange(len(names))
        self.rank = rank

    def many(self, contrib: np.ndarray) -> list[tuple[tuple[str, float], ...]]:
        """``pick_terms`` of every column (terms × documents; a zero contribution is no
        term): one sort orders the terms of all columns, the first ``n`` words of each are
        taken with array masks, and only a column with fewer words looks at its bigrams."""
        n_docs = contrib.shape[1]
        if not n_docs:
            return []
        ranks = np.broadcast_to(self.rank[:, None], contrib.shape)
        order = np.lexsort((ranks, -contrib), axis=0)  # per column: weight down, then name
        ordered = np.take_along_axis(contrib, order, axis=0)
        nonzero = ordered != 0
        is_gram = self.gram[order]
        words = nonzero & ~is_gram
        words &= np.cumsum(words, axis=0) <= self.n
        cols, rows = np.nonzero(words.T)  # column by column, in each column's order
        picked: list[list[tuple[str, float]]] = [[] for _ in range(n_docs)]
        names = self.names
        for j, i, w in zip(
            cols.tolist(), order[rows, cols].tolist(), ordered[rows, cols].tolist(), strict=True
        ):
            picked[j].append((names[i], w))
        grams = nonzero & is_gram
        for j in range(n_docs):
            mine = picked[j]
            if len(mine) >= self.n:
                continue
            at = np.flatnonzero(grams[:, j])
            seen = " ".join(w for w, _ in mine)
            for i, w in zip(order[at, j].tolist(), ordered[at, j].tolist(), strict=True):
                term = names[i][len(BIGRAM_MARK) :]
                if term not in seen:
                    mine.append((term, w))
                    seen += " " + term
                    if len(mine) >= self.n:
                        break
        return [
            tuple((t, round(w, 4)) for t, w in sorted(mine, key=lambda t: (-t[1], t[0])))
            for mine in picked
        ]


def pick_terms(pairs: Iterable[tuple[str, float]], n: int) -> tuple[tuple[str, float], ...]:
    """Top ``n`` (term, weight) by weight, words first; bigrams (mark stripped) fill in."""
    words: list[tuple[str, float]] = []
    grams: list[tuple[str, float]] = []
    for term, weight in pairs:
        if term.startswith(BIGRAM_MARK):
            grams.append((term[len(BIGRAM_MARK) :], weight))
        else:
            words.append((term, weight))
    words.sort(key=lambda t: (-t[1], t[0]))
    grams.sort(key=lambda t: (-t[1], t[0]))
    picked = words[:n]
    seen = " ".join(w for w, _ in picked)
    for gram, weight in grams:
        if len(picked) >= n:
            break
        if gram not in seen:
            picked.append((gram, weight))
            seen += " " + gram
    return tuple((t, round(w, 4)) for t, w in sorted(picked, key=lambda t: (-t[1], t[0])))


def _terms_at(vocabulary: Sequence[str], columns: np.ndarray) -> list[str]:
    if isinstance(vocabulary, TermList):
        return vocabulary.at(columns)
    return [vocabulary[t] for t in columns.tolist()]


def _bigrams(vocabulary: Sequence[str]) -> np.ndarray:
    """Per term: is it a character bigram? (A mapped vocabulary stores the answer.)"""
    if isinstance(vocabulary, TermList):
        return np.asarray(vocabulary.bigram, np.bool_)
    return np.fromiter((t.startswith(BIGRAM_MARK) for t in vocabulary), np.bool_, len(vocabulary))


def _column_weight(vocabulary: Sequence[str], params: Params) -> np.ndarray:
    """Per term: ``params.bigram_weight`` for a character bigram, 1 for a word."""
    return np.where(_bigrams(vocabulary), np.float32(params.bigram_weight), np.float32(1.0)).astype(
        np.float32
    )


def _columns(term_index: Mapping[str, int], terms: Sequence[str]) -> np.ndarray:
    """The column of each of ``terms``, −1 when unknown (one search for a mapped vocabulary)."""
    if isinstance(term_index, TermTable):
        return term_index.columns(terms)
    return np.fromiter((term_index.get(t, -1) for t in terms), np.int64, len(terms))


def _weigh(
    row: np.ndarray,
    col: np.ndarray,
    counts: np.ndarray,
    n_rows: int,
    term_weight: np.ndarray,
    params: Params,
    avgdl: float | None = None,
) -> np.ndarray:
    """Weights of the entries (``row``, ``col``) with term counts ``counts``: tf times
    ``term_weight[col]``, rows L2-normalised. Query rows (``avgdl`` None): tf = 1 + ln tf (or
    raw); document rows: tf per ``params.doc_tf``, rows divided by ‖d‖^doc_norm_power. The one
    weighting of both ``build_index`` and ``Index.vectorize``."""
    counts = counts.astype(np.float64)
    if avgdl is None:
        tf = 1.0 + np.log(counts) if params.sublinear_tf else counts
        norm_power = 1.0
    else:
        dl = np.bincount(row, weights=counts, minlength=n_rows)
        tf = doc_tf(counts, dl[row], avgdl, params)
        norm_power = params.doc_norm_power
    data = tf.astype(np.float32) * term_weight[col]
    norms = np.sqrt(np.bincount(row, weights=data.astype(np.float64) ** 2, minlength=n_rows))
    norms[norms == 0] = 1.0
    return (data / (norms**norm_power)[row]).astype(np.float32)


def _vectorize(
    token_lists: Iterable[Sequence[str]],
    term_index: Mapping[str, int],
    term_weight: np.ndarray,
    params: Params,
    avgdl: float | None = None,
) -> sp.csr_matrix:
    """Query rows (``avgdl`` None) or document rows (docs × terms, CSR, float32); terms
    outside ``term_index`` are dropped."""
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    n = 0
    for n, tokens in enumerate(token_lists, start=1):
        c = Counter(tokens)
        found = _columns(term_index, list(c))
        known = found >= 0
        rows.extend([n - 1] * int(known.sum()))
        cols.extend(found[known].tolist())
        counts.extend(np.fromiter(c.values(), np.int64, len(c))[known].tolist())
    row = np.asarray(rows, dtype=np.int64)
    col = np.asarray(cols, dtype=np.int64)
    data = _weigh(row, col, np.asarray(counts), n, term_weight, params, avgdl)
    m = sp.csr_matrix((data, (row, col)), shape=(n, len(term_index)), dtype=np.float32)
    m.sort_indices()
    return m


def doc_tf(counts: np.ndarray, dl: np.ndarray, avgdl: float, params: Params) -> np.ndarray:
    """Document-side tf weight: BM25 saturation (default), 1 + ln tf, or raw counts."""
    if params.doc_tf == "bm25":
        k1, b = params.k1, params.b
        return counts * (k1 + 1.0) / (counts + k1 * (1.0 - b + b * dl / max(avgdl, 1e-9)))
    if params.doc_tf == "log":
        return 1.0 + np.log(counts)
    return counts


def count_terms(token_lists: Iterable[Sequence[str]]) -> tuple[list[str], sp.csr_matrix]:
    """(terms in first-seen order, docs × terms CSR of counts, float32): the one pass over
    the tokens; everything after it is vectorised."""
    term_ids: dict[str, int] = {}
    cols: list[int] = []
    lengths: list[int] = []
    for tokens in token_lists:
        cols.extend([term_ids.setdefault(t, len(term_ids)) for t in tokens])
        lengths.append(len(tokens))
    return list(term_ids), counts_matrix(np.asarray(cols, np.int32), lengths, len(term_ids))


def counts_matrix(cols: np.ndarray, lengths: Sequence[int], n_terms: int) -> sp.csr_matrix:
    """docs × terms counts from the concatenated term ids of each document and their
    lengths (duplicates summed)."""
    lengths = np.asarray(lengths, np.int64)
    rows = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    m = sp.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(len(lengths), n_terms))
    m.sum_duplicates()
    return m


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    """Smooth IDF: ln((1 + n) / (1 + df)) + 1."""
    return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)


def _weighted_shard(
    counts: sp.csr_matrix,
    ids: Sequence[Any],
    weight: np.ndarray,
    vocabulary: Sequence[str],
    params: Params,
    avgdl: float,
    name: str,
    colmap: np.ndarray | None = None,
) -> Shard:
    """A shard from docs × terms counts (columns in vocabulary order, or turned into it by
    ``colmap``; ``weight``: IDF × the word/bigram weight per term): weigh the entries, then
    transpose to term-major (a linear pass; no sorting of triplets). BM25 documents — the
    product's weighting — go through compiled kernels that repeat ``_weigh``'s arithmetic
    operation for operation (the same floats, tested); other weightings through ``_weigh``."""
    counts = sp.csr_matrix(counts)
    n_docs = counts.shape[0]
    if params.doc_tf == "bm25":
        if colmap is None:
            colmap = np.arange(counts.shape[1], dtype=np.int32)
        cols, data, squares = kernels.weigh_bm25(
            counts.indptr,
            counts.indices,
            counts.data,
            colmap,
            weight,
            float(params.k1),
            float(params.b),
            max(avgdl, 1e-9),
        )
        norms = np.sqrt(squares)
        norms[norms == 0] = 1.0
        n_terms = int(cols.max()) + 1 if len(cols) else 0
        indptr, indices, weights = kernels.transpose_shard(
            counts.indptr,
            cols,
            data,
            norms**params.doc_norm_power,
            float(params.posting_floor),
            n_terms,
        )
        dtype = np.dtype(params.weight_dtype)
        return Shard(indptr, indices, weights.astype(dtype), n_docs, id_array(ids), name)
    return _weighted_shard_numpy(counts, ids, weight, vocabulary, params, avgdl, name, colmap)


def _weighted_shard_numpy(
    counts: sp.csr_matrix,
    ids: Sequence[Any],
    weight: np.ndarray,
    vocabulary: Sequence[str],
    params: Params,
    avgdl: float,
    name: str,
    colmap: np.ndarray | None = None,
) -> Shard:
    """``_weighted_shard`` through ``_weigh`` and scipy (any weighting)."""
    n_docs = counts.shape[0]
    if colmap is not None:
        counts = sp.csr_matrix((counts.data, colmap[counts.indices], counts.indptr), counts.shape)
    row = np.repeat(np.arange(n_docs, dtype=np.int64), np.diff(counts.indptr))
    col = counts.indices.astype(np.int64)
    data = _weigh(row, col, counts.data, n_docs, weight, params, avgdl)
    m = sp.csr_matrix((data, counts.indices, counts.indptr), shape=(n_docs, len(vocabulary)))
    if params.posting_floor > 0:
        m.data[m.data < params.posting_floor] = 0.0
        m.eliminate_zeros()
    matrix_t = m.T.tocsr()  # terms × docs, indices sorted
    n_terms = int(col.max()) + 1 if len(col) else 0
    matrix_t = matrix_t[:n_terms] if n_terms < matrix_t.shape[0] else matrix_t
    return Shard.from_matrix(matrix_t, id_array(ids), name, np.dtype(params.weight_dtype))


_BUILD_THREADS = max(
    1,
    min(
        4,
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1),
    ),
)


def _shards(
    counts: sp.csr_matrix,
    ids: Sequence[Any],
    idf: np.ndarray,
    vocabulary: Sequence[str],
    params: Params,
    avgdl: float,
    step: int,
    name: Any,
    colmap: np.ndarray | None = None,
) -> list[Shard]:
    """Consecutive ranges of ``step`` documents as weighted shards named ``name(n)`` (one
    empty shard for no documents)."""
    ids = list(ids) if not isinstance(ids, np.ndarray) else ids
    n = counts.shape[0]

    weight = idf * _column_weight(vocabulary, params)  # per term: IDF × word/bigram weight

    def shard(number: int, start: int) -> Shard:
        return _weighted_shard(
            counts[start : start + step],
            ids[start : start + step],
            weight,
            vocabulary,
            params,
            avgdl,
            name(number),
            colmap,
        )

    starts = list(enumerate(range(0, max(n, 1), step)))
    threads = min(_BUILD_THREADS, len(starts))
    if threads <= 1:
        return [shard(number, start) for number, start in starts]
    # numpy and scipy's sparse routines release the GIL on large arrays: shards are weighed
    # side by side, each exactly as it would be alone
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(lambda pair: shard(*pair), starts))


def build_from_counts(
    terms: Sequence[str],
    counts: sp.csr_matrix,
    ids: Sequence[Any],
    *,
    version: Any,
    params: Params | None = None,
    tokenizer_version: str = TOKENIZER_VERSION,
    shard_docs: int | None = None,
) -> Index:
    """Vocabulary (sorted), IDF and weighted shards from docs × terms counts whose columns
    are ``terms`` (any order). Shards are consecutive ranges of ``shard_docs`` documents (at
    most 65,536)."""
    params = params or Params()
    n = counts.shape[0]
    if n != len(ids):
        raise ValueError("counts and ids differ in length")
    counts = sp.csr_matrix(counts)
    df = kernels.column_counts(counts.indices, len(terms))
    keep = (df >= params.min_df) & (df <= params.max_df * n)
    names = np.asarray(terms, dtype=object)
    order = np.argsort(names[keep].astype(str), kind="stable")  # vocabulary in sorted order
    vocabulary = [str(t) for t in names[keep][order]]
    new_id = np.full(len(terms), -1, np.int64)
    new_id[np.flatnonzero(keep)[order]] = np.arange(len(vocabulary))
    colmap = None
    if keep.all():  # the usual case: the shards renumber the columns as they weigh them
        remapped, colmap = counts, new_id.astype(np.int32)
    else:
        coo = counts.tocoo()
        col = new_id[coo.col]
        sel = col >= 0
        remapped = sp.csr_matrix(
            (coo.data[sel], (coo.row[sel], col[sel])),
            shape=(n, len(vocabulary)),
            dtype=np.float32,
        )
        del coo, col, sel
    idf = _idf(df[keep][order].astype(np.float64), n)
    avgdl = float(remapped.data.sum(dtype=np.float64) / n) if n else 1.0  # mean kept tokens
    step = min(shard_docs or MAX_SHARD_DOCS, MAX_SHARD_DOCS)
    shards = _shards(
        remapped, ids, idf, vocabulary, params, avgdl, step, lambda n: f"s{n:03d}", colmap
    )
    return Index(
        vocabulary=vocabulary,
        idf=idf,
        shards=shards,
        version=version,
        params=params,
        tokenizer_version=tokenizer_version,
        avgdl=avgdl,
        idf_docs=n,
    )


def build_index(
    token_lists: Sequence[Sequence[str]],
    ids: Sequence[Any],
    *,
    version: Any,
    params: Params | None = None,
    tokenizer_version: str = TOKENIZER_VERSION,
    shard_docs: int | None = None,
) -> Index:
    """Vocabulary/IDF (smooth: ln((1+n)/(1+df)) + 1) and the weighted, sharded postings."""
    if len(token_lists) != len(ids):
        raise ValueError("token_lists and ids differ in length")
    terms, counts = count_terms(token_lists)
    return build_from_counts(
        terms,
        counts,
        ids,
        version=version,
        params=params,
        tokenizer_version=tokenizer_version,
        shard_docs=shard_docs,
    )


def rank_against(
    query_tokens: Sequence[str],
    doc_token_lists: Sequence[Sequence[str]],
    doc_ids: Sequence[Any],
    index: Index,
    top_k: int = 20,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    query_id: Any = None,
) -> list[Candidate]:
    """Reverse direction (patent → open demands): score one token list against a small set of
    texts in the index's IDF space. ``left_id`` = ``query_id``, ``right_id`` = a doc id."""
    if not doc_ids:
        return []
    qm = index.vectorize([query_tokens])
    docs = index.vectorize(doc_token_lists, query=True)
    rows = score_block(qm, docs.T, list(doc_ids), top_k, min_score=min_score)[0]
    out = []
    for doc_id, score, position in rows:
        shared = qm.multiply(docs[position]).tocsr()
        pairs = [
            (index.vocabulary[t], float(w))
            for t, w in zip(shared.indices, shared.data, strict=True)
        ]
        terms = pick_terms(pairs, index.params.explain_terms)
        out.append(Candidate(query_id, doc_id, round(score, 6), terms))
    return out
