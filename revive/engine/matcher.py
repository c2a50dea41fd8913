"""Matching a demand the way the product shows it: read the posting, query the index for a
pool, assess and re-rank the pool by strength, cut to the top k, decide abstention, group the
candidates by sub-need and give each the spans both texts share.

    results = match_demands(index, chars, model, demands, texts_of=…, top_k=20)

``demands``: (id, title, description) triples. ``texts_of(ids)``: the patents' texts (title +
abstract …) by id, for the character feature and the reasons — the caller owns where they come
from (the database in the platform, a dict in evaluation and benchmarks).

``match_demands`` is two steps, usable apart when the index is searched in parts (a fan-out
over the shards, each part on another worker):

    gather(index, demands, …) -> [Pooled]        the pool of each demand (index search)
    propose(pooled, lexicon=…, chars, model, …)  assess, re-rank, cut, abstain, reasons

    pool_part(part_index, demands, …)            one part's contribution (JSON-able)
    merge_pools([part results], …) -> [Pooled]   the pools one process would have gathered
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from revive.engine.index import Index
from revive.engine.reasons import Reason, SpanFinder, filler, generic_cutoff
from revive.engine.strength import (
    POOL,
    Assessed,
    CharProfile,
    StrengthModel,
    asked_weights,
    asked_words,
    assess,
    demand_mass,
)
from revive.engine.terms import TermList, has_terms
from revive.engine.text import BIGRAM_MARK, demand_tokens, normalize
from revive.engine.types import Candidate
from revive.engine.understand import DemandReading, Need, content_words, read_demand

NEED_POOL = 3  # candidates each sub-need adds to the pool of a multi-need posting


@dataclass(frozen=True, slots=True)
class Proposal:
    """One candidate as shown: the assessment, the sub-need it answers (index into
    ``DemandMatch.reading.needs``) and the reasons (spans both texts share)."""

    assessed: Assessed
    need: int = 0
    reasons: tuple[Reason, ...] = ()

    @property
    def doc_id(self) -> Any:
        return self.assessed.doc_id


@dataclass(frozen=True)
class DemandMatch:
    demand_id: Any
    reading: DemandReading
    proposals: tuple[Proposal, ...]  # best first
    abstain: bool  # no candidate reaches the bar: 暂无合适专利

    @property
    def text(self) -> str:
        return f"{self.reading.title}。{self.reading.text}"


@dataclass(frozen=True)
class Pooled:
    """What the index found for one demand: its reading and its pool — the whole posting's
    top ``pool``, then (a multi-need posting) each sub-need's best few not among them, scored
    against the whole posting."""

    demand_id: Any
    reading: DemandReading
    candidates: tuple[Candidate, ...]


class Lexicon(Protocol):
    """What the reasons need of an index: its vocabulary, IDF and document count."""

    term_index: Mapping[str, int]
    idf: np.ndarray

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class Vocabulary:
    """An index's vocabulary and IDF without its postings (``read_vocabulary``): enough for
    the reasons where the shards are searched elsewhere."""

    term_index: Mapping[str, int]
    idf: np.ndarray
    n_docs: int

    def __len__(self) -> int:
        return self.n_docs


def read_vocabulary(folder: str | Path, n_docs: int | None = None) -> Vocabulary:
    """The vocabulary and IDF of a saved index. ``n_docs``: its live document count
    (``len(index)``; default: the documents the artifact lists, superseded entries included)."""
    import json

    folder = Path(folder)
    if has_terms(folder):  # format 5: the mapped table, shared by every process
        terms = TermList.load(folder).table
    else:
        vocabulary = json.loads((folder / "vocab.json").read_text("utf-8"))
        terms = {t: i for i, t in enumerate(vocabulary)}
    if (folder / "idf.npy").exists():  # formats 4 and 5
        idf = np.load(folder / "idf.npy", allow_pickle=False)
    else:  # format 3
        idf = np.load(folder / "arrays.npz", allow_pickle=False)["idf"]
    idf = np.asarray(idf, np.float32)
    if n_docs is None:
        n_docs = int(json.loads((folder / "meta.json").read_text("utf-8"))["docs"])
    return Vocabulary(terms, idf, n_docs)


def demand_query_text(reading: DemandReading) -> str:
    return f"{reading.title}。{reading.text}" if reading.text else reading.title


def demand_words(title: str, text: str) -> frozenset[str]:
    """A demand's words as the strength model's associations count them (``Associations``)
    where no index is at hand (officers' accepted pairs, matching.learning): its tokens once
    read (``read_demand``), no character bigrams. The matcher also holds them to its index's
    vocabulary (``asked_weights``); a word the index lacks is never asked, so counting it
    changes no candidate's value."""
    reading = read_demand(title, text)
    return frozenset(
        t for t in demand_tokens(reading.title, reading.text) if not t.startswith(BIGRAM_MARK)
    )


def match_demands(
    index: Index,
    chars: CharProfile | None,
    model: StrengthModel,
    demands: Sequence[tuple[Any, str, str]],
    *,
    texts_of: Callable[[Sequence[Any]], Mapping[Any, str]],
    top_k: int = 20,
    pool: int = POOL,
    min_score: float = 0.0,
    allowed: Sequence[Collection[Any] | np.ndarray | None] | None = None,
    exclude: Sequence[Collection[Any] | None] | None = None,
    bar: float | None = None,
    strong: float | None = None,
    reasons: bool = True,
) -> list[DemandMatch]:
    """See the module docstring. ``allowed`` / ``exclude``: per demand, as ``Index.query``."""
    pooled = gather(
        index, demands, pool=pool, min_score=min_score, allowed=allowed, exclude=exclude
    )
    return propose(
        pooled,
        lexicon=index,
        chars=chars,
        model=model,
        texts_of=texts_of,
        top_k=top_k,
        bar=bar,
        strong=strong,
        reasons=reasons,
    )


def _read(demands: Sequence[tuple[Any, str, str]]) -> tuple[list[DemandReading], list[list[str]]]:
    readings = [read_demand(title, text) for _, title, text in demands]
    return readings, [demand_tokens(r.title, r.text) for r in readings]


def gather(
    index: Index,
    demands: Sequence[tuple[Any, str, str]],
    *,
    pool: int = POOL,
    min_score: float = 0.0,
    allowed: Sequence[Collection[Any] | np.ndarray | None] | None = None,
    exclude: Sequence[Collection[Any] | None] | None = None,
) -> list[Pooled]:
    """Read each posting and query the index for its pool (see ``Pooled``)."""
    readings, queries = _read(demands)
    ids = [d for d, _, _ in demands]
    found = index.query(
        queries,
        top_k=pool,
        min_score=min_score,
        allowed=allowed,
        exclude=exclude,
        query_ids=ids,
    )
    found = _with_sub_needs(index, readings, queries, found, ids, min_score, allowed, exclude)
    return [
        Pooled(demand_id, reading, tuple(rows))
        for demand_id, reading, rows in zip(ids, readings, found, strict=True)
    ]


def propose(
    pooled: Sequence[Pooled],
    *,
    lexicon: Lexicon,
    chars: CharProfile | None,
    model: StrengthModel,
    texts_of: Callable[[Sequence[Any]], Mapping[Any, str]],
    top_k: int = 20,
    bar: float | None = None,
    strong: float | None = None,
    reasons: bool = True,
) -> list[DemandMatch]:
    """Assess each pool, keep the best ``top_k`` by strength, decide abstention (no candidate
    reaches ``bar``), assign each candidate its sub-need and its reasons."""
    bar = model.bar if bar is None else bar
    # Each patent's text normalised once (it may serve several demands).
    texts = {
        doc: normalize(text)
        for doc, text in texts_of(
            sorted({c.right_id for p in pooled for c in p.candidates}, key=str)
        ).items()
    }
    generic = generic_cutoff(len(lexicon))
    out = []
    for p in pooled:
        reading = p.reading
        text = demand_query_text(reading)
        tokens = demand_tokens(reading.title, reading.text)
        mass = demand_mass(lexicon.term_index, lexicon.idf, tokens)
        asked = asked_words(lexicon.term_index, tokens)
        ranked = assess(
            text,
            p.candidates,
            texts,
            chars,
            model,
            bar=bar,
            strong=strong,
            normalized=True,
            mass=mass,
            words=reading.content_words,
            thin=reading.thin,
            asked=asked,
            weights=asked_weights(lexicon.term_index, lexicon.idf, asked)
            if model.associations is not None
            else None,
        )[:top_k]
        # filler (我国, 体系 …) never places a candidate under a sub-need, as it is never a reason
        need_words = [set(content_words("", need.text)) - filler() for need in reading.needs]
        need_texts = [normalize(need.text) for need in reading.needs]
        weigh = _idf_of(lexicon)
        finder = _finder(lexicon, text, generic) if reasons and ranked else None
        proposals = []
        for a in ranked:
            need = _need_of(need_words, a, weigh, _near(chars, texts.get(a.doc_id, ""), need_texts))
            found = finder.find(texts.get(a.doc_id, ""), normalized=True) if finder else []
            proposals.append(Proposal(a, need, _own_first(found, need_texts, need)))
        abstain = not any(a.strength >= bar for a in ranked)
        out.append(DemandMatch(p.demand_id, reading, tuple(proposals), abstain))
    return out


def _with_sub_needs(
    index: Index,
    readings: Sequence[DemandReading],
    queries: Sequence[list[str]],
    found: list[list[Any]],
    ids: Sequence[Any],
    min_score: float,
    allowed: Any,
    exclude: Any,
) -> list[list[Any]]:
    """For a multi-need posting, each sub-need's best few join the pool, scored against the
    whole posting (a strong match to one need is not diluted away by the others)."""
    out = list(found)
    for row, reading in enumerate(readings):
        if not reading.multi:
            continue
        have = {c.right_id for c in found[row]}
        extra: list[Any] = []
        for rows in _need_rows(index, reading, row, min_score, allowed, exclude):
            extra += [c.right_id for c in rows if c.right_id not in have]
        if not extra:
            continue
        (rescored,) = index.query(
            [queries[row]],
            top_k=len(extra),
            min_score=0.0,
            allowed=[set(extra)],
            query_ids=[ids[row]],
        )
        out[row] = [*found[row], *rescored]
    return out


def _need_rows(
    index: Index, reading: DemandReading, row: int, min_score: float, allowed: Any, exclude: Any
) -> list[list[Candidate]]:
    """Each sub-need's best ``NEED_POOL`` (scored against the sub-need alone)."""
    need_queries = [demand_tokens(reading.title, need.text) for need in reading.needs]
    need_allowed = [allowed[row] if allowed is not None else None] * len(need_queries)
    need_exclude = [exclude[row] if exclude is not None else None] * len(need_queries)
    return index.query(
        need_queries,
        top_k=NEED_POOL,
        min_score=min_score,
        allowed=need_allowed if allowed is not None else None,
        exclude=need_exclude if exclude is not None else None,
    )


# ---------------------------------------------------------------------------- fan-out


def pool_part(
    index: Index,
    demands: Sequence[tuple[Any, str, str]],
    *,
    global_position: Callable[[int], int],
    pool: int = POOL,
    min_score: float = 0.0,
    allowed: Sequence[Collection[Any] | np.ndarray | None] | None = None,
    exclude: Sequence[Collection[Any] | None] | None = None,
) -> list[dict[str, Any]]:
    """(fan-out part) What the shards of ``index`` (a part of an artifact) contribute to each
    demand's pool, as JSON-able dicts for ``merge_pools``: the reading, the part's top
    ``pool`` for the whole posting, each sub-need's top ``NEED_POOL`` (id, score, position)
    and those sub-need candidates scored against the whole posting. ``global_position``: a
    position in this part → the position in the whole artifact (ties are broken by it)."""
    readings, queries = _read(demands)
    ids = [d for d, _, _ in demands]
    found = index.query(
        queries,
        top_k=pool,
        min_score=min_score,
        allowed=allowed,
        exclude=exclude,
        query_ids=ids,
    )

    def rows_json(rows: Sequence[Candidate]) -> list[list[Any]]:
        positions = index.positions([c.right_id for c in rows]).tolist()
        return [
            [
                c.right_id,
                c.score,
                global_position(pos),
                [list(t) for t in c.terms],
                c.coverage,
                sorted(c.matched),
            ]
            for c, pos in zip(rows, positions, strict=True)
        ]

    out = []
    for row, reading in enumerate(readings):
        needs: list[list[list[Any]]] = []
        rescored: list[Candidate] = []
        if reading.multi:
            need_rows = _need_rows(index, reading, row, min_score, allowed, exclude)
            for rows in need_rows:
                positions = index.positions([c.right_id for c in rows]).tolist()
                needs.append(
                    [
                        [c.right_id, c.score, global_position(p)]
                        for c, p in zip(rows, positions, strict=True)
                    ]
                )
            need_ids = {c.right_id for rows in need_rows for c in rows}
            if need_ids:
                (rescored,) = index.query(
                    [queries[row]],
                    top_k=len(need_ids),
                    min_score=0.0,
                    allowed=[need_ids],
                    query_ids=[ids[row]],
                )
        out.append(
            {
                "reading": reading_json(reading),
                "pool": rows_json(found[row]),
                "needs": needs,
                "rescored": rows_json(rescored),
            }
        )
    return out


def merge_pools(demand_id: Any, parts: Sequence[Mapping[str, Any]], *, pool: int = POOL) -> Pooled:
    """One demand's pool from every part's ``pool_part`` answer: exactly what ``gather``
    over the whole artifact returns (best score first, ties by position; the sub-needs'
    extras chosen among the parts' best and scored against the whole posting)."""
    reading = reading_from_json(parts[0]["reading"])

    def best(rows: list[list[Any]], k: int) -> list[list[Any]]:
        return sorted(rows, key=lambda r: (-r[1], r[2]))[:k]

    found = best([r for p in parts for r in p["pool"]], pool)
    candidates = [_candidate(demand_id, r) for r in found]
    if reading.multi:
        have = {r[0] for r in found}
        extra: list[Any] = []
        for need in range(len(reading.needs)):
            rows = [r for p in parts if p["needs"] for r in p["needs"][need]]
            extra += [r[0] for r in best(rows, NEED_POOL) if r[0] not in have]
        wanted = set(extra)
        scored = {r[0]: r for p in parts for r in p["rescored"] if r[0] in wanted}
        candidates += [_candidate(demand_id, r) for r in best(list(scored.values()), len(extra))]
    return Pooled(demand_id, reading, tuple(candidates))


def _candidate(demand_id: Any, row: Sequence[Any]) -> Candidate:
    doc_id, score, _, terms, coverage, matched = row
    return Candidate(
        demand_id,
        doc_id,
        score,
        tuple((str(t), float(w)) for t, w in terms),
        coverage,
        frozenset(matched),
    )


def reading_json(reading: DemandReading) -> dict[str, Any]:
    return {
        "title": reading.title,
        "text": reading.text,
        "needs": [[n.text, n.label] for n in reading.needs],
        "removed": list(reading.removed),
        "thin": reading.thin,
        "content_words": reading.content_words,
    }


def reading_from_json(data: Mapping[str, Any]) -> DemandReading:
    return DemandReading(
        title=data["title"],
        text=data["text"],
        needs=tuple(Need(text, label) for text, label in data["needs"]),
        removed=tuple(data["removed"]),
        thin=bool(data["thin"]),
        content_words=int(data["content_words"]),
    )


# ---------------------------------------------------------------------------- details


def _near(chars: CharProfile | None, text: str, need_texts: Sequence[str]) -> list[float] | None:
    """The character cosine of a (normalised) patent text with each sub-need's text; None for
    a single-need posting or without a character profile."""
    if chars is None or len(need_texts) < 2:
        return None
    return chars.cosines(text, need_texts, normalized=True).tolist()


def _own_first(
    reasons: Sequence[Reason], need_texts: Sequence[str], need: int
) -> tuple[Reason, ...]:
    """A candidate's reasons with those its own sub-need says first (each part in weight
    order): the reasons are spans of the whole posting, and under 子需求 2 a reader takes the
    first chips for what matched that sub-need — 焊接 from the title or 结构件 from sub-need 1
    shown first under 「是否可由三维图型直接生成程序」 read as a wrong match (a user's finding;
    on the 1,598 real postings 573 of the 1,216 candidates shown under a sub-need had such a
    reason). The others stay: they are what the patent shares with the rest of the posting."""
    if len(need_texts) < 2 or not 0 <= need < len(need_texts):
        return tuple(reasons)
    own = need_texts[need]
    return tuple(sorted(reasons, key=lambda r: r.text not in own))  # stable: weight order kept


def _need_of(
    need_words: Sequence[set[str]],
    a: Assessed,
    weigh: Callable[[str], float | None],
    near: Sequence[float] | None = None,
) -> int:
    """The sub-need the candidate answers (0 for a single-need posting): the one of which its
    shared words cover the largest part, words weighed by IDF (``weigh``; unknown words 0) —
    so 拆解 and 自动化 place a dismantling patent under 废旧电池自动化拆解 rather than under a
    longer sub-need that also says 锂 and 回收 — plus ``near``, the character cosine of the
    patent's text with each sub-need's: one shared word apiece did not tell a 生猪饲料 patent
    from 适合我国国情的现代化屠宰技术设备 (by 我国) rather than 肉鸭生物饲料的创制 (by 饲料); the
    characters of the whole text did (a user's finding). Ties: more shared weight, then the
    earlier."""
    if len(need_words) < 2 or not (a.matched or near):
        return 0
    best, best_key = 0, (0.0, 0.0)
    for i, words in enumerate(need_words):
        total = sum(weigh(w) or 0.0 for w in words)
        shared = sum(weigh(w) or 0.0 for w in a.matched & words)
        cosine = near[i] if near is not None and i < len(near) else 0.0
        key = ((shared / total if total else 0.0) + cosine, shared)
        if key > best_key:
            best, best_key = i, key
    return best


def _idf_of(lexicon: Lexicon) -> Callable[[str], float | None]:
    """A word's IDF in the index (None if it does not know the word, or for a bigram term):
    what weighs a word in a reason and in a sub-need's share."""

    def idf_of(word: str) -> float | None:
        col = lexicon.term_index.get(word)
        return (
            float(lexicon.idf[col])
            if col is not None and not word.startswith(BIGRAM_MARK)
            else None
        )

    return idf_of


def _finder(lexicon: Lexicon, demand_text: str, generic: float) -> SpanFinder:
    return SpanFinder(demand_text, _idf_of(lexicon), generic_idf=generic)


def reasons_for(index: Lexicon, demand_text: str, patent_text: str) -> list[Reason]:
    """The reasons of one pair (e.g. a candidate an officer added by hand)."""
    return _finder(index, demand_text, generic_cutoff(len(index))).find(patent_text)
