"""Match strength: the probability that a candidate is relevant to the demand, its tier
(强 / 中 / 弱), and the re-ranking of a demand's candidates by that probability.

The index's cosine alone hardly tells a good candidate from a bad one on real postings. Four
features, each measured on the judged real-demand set (eval/real, RESULTS.md), carry most of
what lexical evidence can say:

* ``score`` — the index's cosine (words + character bigrams);
* ``chars`` — the cosine of the two texts' *characters* (boilerplate and function words
  removed, sublinear tf × character IDF): Chinese compounds that share characters but not
  words (涂料/涂层, 硅单晶/单晶硅) and single-character terms count here;
* ``coverage`` — the share of the demand's specific words (IDF over patents × specificity
  over postings) that the patent contains;
* ``demand_mass`` — ln(1 + the demand's specific weight): the sum of IDF × specificity over
  the words of the demand the index knows (``demand_mass``), the same for every candidate of
  a demand. A short or vague posting covered by a few words gets a high ``coverage`` that
  means little; this moves its whole list down, which is what abstention needs (5-fold CV
  over ten fold draws: abstention at 90 % of relevant pairs shown higher in every draw, mean
  +0.06; strength AUC +0.006; eval/real/RESULTS.md).

A logistic model over the standardised features gives the pair's probability (logistic
regression is Platt-calibrated by construction; ``revive eval`` prints its reliability table).
A second stage (``Calibration``, fitted by ``calibrate``) recalibrates it with what the
posting's whole pool says (``POSTING``: the pool's best first-stage logit, ``demand_mass``, the
index's top score, the posting's content words and thin flag, the pool's best character
cosine and coverage, how often the words it shares with its candidates led to a relevant
patent in the judged pairs, and whether judged postings using its words had one — the
``WordRates``): a posting with nothing good moves its whole list below the bar, which is what
abstention needs (1,000 real postings, 10 shuffled 5-fold splits: strength AUC 0.708 → 0.729
and unanswerable postings abstaining 0.22 → 0.29 with the word rates, 93 % of relevant pairs
still shown; eval/real/RESULTS.md). One column of the second stage is the pair's own: its
``translated`` value (``Associations``: which patent words judged pairs showed to go with the
posting's words — 污水 → 废水, 电机 → 定子), the only one that moves a candidate within its
posting's list (real set, 5-fold CV: nDCG@10 0.524 → 0.563; RESULTS.md, session 40).
The model is plain JSON (no pickle): fitted with scikit-learn by ``fit`` + ``calibrate`` on
judged pairs and pools, and refitted from officers' decisions by the matching worker; a file
without ``calibration`` is one-stage.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from revive.engine.text import (
    BIGRAM_MARK,
    demand_specificity,
    normalize,
    shipped_json,
    stopwords,
)

FEATURES = ("score", "chars", "coverage", "demand_mass")
POOL = 30  # candidates re-ranked per demand (the index's top POOL)
# The second stage (``Calibration``) reads the pair's first-stage logit beside what the
# posting's whole pool says: its best first-stage logit, the demand's specific weight, the
# index's best score, ln(1 + the posting's content words), its thin flag, and the pool's best
# character cosine and best coverage; the pool's best word rate (``WordRates``): whether the
# words the posting shares with its candidates have led to relevant patents in judged pairs;
# and whether judged postings using its words had a relevant patent (``WordRates.answered``).
POSTING = (
    "pair",
    "pool_max",
    "demand_mass",
    "top_score",
    "words",
    "thin",
    "chars_max",
    "coverage_max",
    "rate_max",
    "answers",
    "translated",
)
RATE_SMOOTHING = 10.0  # pseudo-pairs at the base rate (5 and 20 measured a little worse)
ANSWER_SMOOTHING = 5.0  # pseudo-postings at the base rate (2 measured the same)
# The associations (``Associations``): a patent word is an associate of a posting word when at
# least this many judged postings using the word had a relevant patent holding it, and as many
# distinct relevant patents hold it …
ASSOCIATION_SUPPORT = 2
ASSOCIATION_LIFT = 3.0  # … and it is at least this many times likelier there than at large
# Pseudo-postings at the background share: a lift from few postings is shrunk toward none
# (real set, 5-fold CV nDCG@10: 1 0.5626, 20 0.5673, 50 0.5702, 100 0.5698; shuffled splits
# 0-2 mean 1 0.5609, 30 0.564, 50 0.5656, 100 0.5643; held out by round, up on 4 of 5)
ASSOCIATION_PRIOR = 50.0
# A word's associates: its best this many by lift (CV nDCG@10 on the real set, one split:
# 10 0.5405, 20 0.5495, 30 0.5530, 50 0.5513, all 0.5502; fewer also make it faster. Ranked
# by the lift with one posting fewer behind it, 0.5533; by postings, then lift, 0.5486)
ASSOCIATION_TOP = 30

# ---------------------------------------------------------------------------- characters


@lru_cache(maxsize=1)
def _stop_chars() -> dict[int, None]:
    """Function characters (the one-character stopwords: 的, 了, 和 …) to delete."""
    drop, _ = stopwords()
    return {ord(w): None for w in drop if len(w) == 1}


_NON_CJK = re.compile(r"[^\u3400-\u9fff]+")


def content_chars(text: str | None, *, normalized: bool = False) -> str:
    """The CJK characters of a text that carry content: function characters (的, 了, 和 …),
    Latin, digits and punctuation removed. Boilerplate (本发明, 所述) stays: its characters
    are in almost every document, so their IDF leaves them nearly weightless (removing the
    phrases too measured no better and cost twice the time)."""
    text = (text or "") if normalized else normalize(text)
    return _NON_CJK.sub("", text).translate(_stop_chars())


class CharProfile:
    """Character IDF over a document collection (smooth, as the index's word IDF), indexed
    by code point (CJK is in the Basic Multilingual Plane)."""

    FILE = "chars.npy"

    def __init__(self, idf: np.ndarray) -> None:
        self.idf = idf.astype(np.float32)

    @classmethod
    def build(cls, texts: Iterable[str | None]) -> CharProfile:
        df = np.zeros(65536, np.int64)
        n = 0
        for text in texts:
            chars = np.unique(np.frombuffer(content_chars(text).encode("utf-16-le"), np.uint16))
            df[chars] += 1
            n += 1
        return cls(np.log((1.0 + n) / (1.0 + df)) + 1.0)

    def save(self, folder: str | Path) -> None:
        np.save(Path(folder) / self.FILE, self.idf.astype(np.float16), allow_pickle=False)

    @classmethod
    def load(cls, folder: str | Path) -> CharProfile | None:
        path = Path(folder) / cls.FILE
        return cls(np.load(path, allow_pickle=False)) if path.exists() else None

    def vector(
        self, text: str | None, *, normalized: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """(code points, weights) of a text: (1 + ln tf) × IDF, L2-normalised."""
        codes = np.frombuffer(
            content_chars(text, normalized=normalized).encode("utf-16-le"), np.uint16
        )
        if not len(codes):
            return codes, np.zeros(0, np.float32)
        chars, counts = np.unique(codes, return_counts=True)
        weights = (1.0 + np.log(counts)) * self.idf[chars]
        norm = float(np.sqrt((weights**2).sum())) or 1.0
        return chars, (weights / norm).astype(np.float32)

    def cosines(
        self, query: str | None, texts: Sequence[str | None], *, normalized: bool = False
    ) -> np.ndarray:
        """The character cosine of ``query`` with each of ``texts``, computed for all of them
        at once (one array pipeline per pool instead of one per text): equal to
        ``cosine(vector(query), vector(text))`` for each text."""
        out = np.zeros(len(texts))
        q_chars, q_weights = self.vector(query, normalized=normalized)
        if not len(q_chars) or not len(texts):
            return out
        codes = [
            np.frombuffer(content_chars(t, normalized=normalized).encode("utf-16-le"), np.uint16)
            for t in texts
        ]
        sizes = np.fromiter(map(len, codes), np.int64, len(codes))
        if not sizes.sum():
            return out
        docs = np.repeat(np.arange(len(texts), dtype=np.int64), sizes)
        keys, counts = np.unique(docs << 16 | np.concatenate(codes), return_counts=True)
        doc, char = keys >> 16, keys & 0xFFFF
        weights = (1.0 + np.log(counts)) * self.idf[char]
        norms = np.sqrt(np.bincount(doc, weights**2, minlength=len(texts)))
        dense_q = np.zeros(65536, np.float64)
        dense_q[q_chars] = q_weights
        dots = np.bincount(doc, weights * dense_q[char], minlength=len(texts))
        np.divide(dots, norms, out=out, where=norms > 0)
        return out

    @staticmethod
    def cosine(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> float:
        common, ia, ib = np.intersect1d(a[0], b[0], assume_unique=True, return_indices=True)
        return float((a[1][ia] * b[1][ib]).sum()) if len(common) else 0.0


# ---------------------------------------------------------------------------- the demand


def demand_mass(term_index: Mapping[str, int], idf: np.ndarray, tokens: Iterable[str]) -> float:
    """ln(1 + Σ IDF × specificity) over the distinct words of a demand (``demand_tokens``)
    that the index knows, character bigrams left out: the weight ``Candidate.coverage`` is a
    share of (``Index.specificity`` summed over the query's words)."""
    return float(np.log1p(sum(asked_weights(term_index, idf, set(tokens)).values())))


# ---------------------------------------------------------------------------- the model


def asked_words(term_index: Mapping[str, int], tokens: Iterable[str]) -> tuple[str, ...]:
    """The posting's words (its demand tokens, no character bigrams) the index knows, once
    each, sorted: what ``StrengthModel.answers`` reads."""
    return tuple(sorted({t for t in tokens if not t.startswith(BIGRAM_MARK) and t in term_index}))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class Calibration:
    """The second stage: a logistic regression over ``POSTING`` (standardised) that turns
    the pair's first-stage logit into the probability served, using what the posting's pool
    says (a vague posting whose best candidate is middling moves its whole list down). Its
    weight on ``pair`` is positive; within a posting the order is the first stage's, moved
    only by the pair's ``translated`` value when the model has associations."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def logit(self, rows: np.ndarray) -> np.ndarray:
        return _linear(self, rows)


def _linear(stage: Calibration | StrengthModel, rows: np.ndarray) -> np.ndarray:
    """A stage's logit: the rows standardised by its mean and scale, weighed by its coef."""
    x = (np.asarray(rows, np.float64) - np.asarray(stage.mean)) / np.asarray(stage.scale)
    return x @ np.asarray(stage.coef) + stage.intercept


Tally = tuple[Counter, Counter]  # per word: relevant pairs, judged pairs
_PAIR = re.compile(r"\[\s+(-?\d+),\s+(-?\d+)\s+\]")


@dataclass(frozen=True)
class WordRates:
    """How often a shared word led to a relevant patent: for each specific word a demand and
    a patent share (``Candidate.matched``, the words of ``coverage``), of the judged pairs
    sharing it, how many were relevant. Learned from judgements where IDF × specificity is a
    rule: words such as 智能 or 控制 are rare enough to weigh but, shared, rarely mean a fit.

    A pair's value is the mean over its shared words of the smoothed log-odds of relevance
    (``smooth`` pseudo-pairs at the ``base`` rate) minus the base log-odds: 0 for words never
    judged, below 0 for words whose pairs were seldom relevant. The second stage reads the
    pool's best value — a posting-level signal (do its words lead anywhere?), which leaves the
    order within a posting alone. On the real dev set, 10 shuffled 5-fold splits: strength
    AUC 0.708 → 0.724, unanswerable postings abstaining at the bar 0.22 → 0.27 with 93 % of
    relevant pairs still shown; as a pair feature it reordered lists for the worse (nDCG
    −0.02; eval/real/RESULTS.md).

    The same counting over postings (``answered``) gives ``StrengthModel.answers``: for each
    word a posting uses, of the judged postings using it, how many had a relevant patent
    (16 of the 18 postings using 污水 did, 6 of the 18 using 噪声); the second stage reads
    the posting's mean. With both:
    AUC 0.729, abstaining 0.29."""

    base: float
    smooth: float
    counts: Mapping[str, tuple[int, int]]

    @staticmethod
    def tally(pool: PoolRows) -> Tally:
        """The relevant and judged pairs per shared word of one pool's judged candidates."""
        return WordRates.tally_pairs(pool.matched, pool.labels.tolist())

    @staticmethod
    def tally_pairs(matched: Iterable[Iterable[str]], labels: Iterable[int]) -> Tally:
        """The relevant and judged pairs per shared word: ``matched`` each pair's shared
        words, ``labels`` its label (1 relevant, 0 not, -1 unjudged: not counted). Pairs
        without words (a file or row written before them) count nothing."""
        relevant, seen = Counter(), Counter()
        for words, label in zip(matched, labels, strict=False):
            if label >= 0:
                seen.update(words)
                if label:
                    relevant.update(words)
        return relevant, seen

    @staticmethod
    def answered(pool: PoolRows) -> Tally:
        """The posting's words (``asked``) counted once, as answered when a relevant patent
        was judged for it (``answered``; else when its pool holds a judged relevant
        candidate): the counts of ``answers``."""
        asked = Counter(set(pool.asked))
        answered = pool.answered if pool.answered is not None else (pool.labels == 1).any()
        return (asked if answered else Counter()), asked

    @classmethod
    def count(
        cls,
        pools: Iterable[PoolRows],
        smooth: float = RATE_SMOOTHING,
        by: Callable[[PoolRows], Tally] | None = None,
        extra: Tally | None = None,
    ) -> WordRates:
        """The rates over ``pools``: of shared words in judged pairs (``tally``), or ``by``
        another tally (``answered``: of postings' words in answered postings); ``extra``:
        counts from elsewhere added (officers' decisions)."""
        by = by or cls.tally
        relevant, seen = Counter(), Counter()
        if extra is not None:
            relevant.update(extra[0])
            seen.update(extra[1])
        for pool in pools:
            r, s = by(pool)
            relevant.update(r)
            seen.update(s)
        total = sum(seen.values())
        base = sum(relevant.values()) / total if total else 0.1
        base = min(max(base, 1e-3), 1 - 1e-3)
        counts = {w: (relevant[w], seen[w]) for w in sorted(seen)}
        return cls(base, smooth, counts)

    def value(self, words: Iterable[str], leave_out: Tally | None = None) -> float:
        """The mean smoothed log-odds lift of ``words``; ``leave_out``: pairs whose counts
        are taken away first (a training posting's own, so the second stage is not fitted on
        values its own labels made)."""
        words = list(words)
        if not words:
            return 0.0
        if leave_out is None:
            lift = self._lift
            return sum(lift.get(w, 0.0) for w in words) / len(words)
        relevant, seen = leave_out
        return sum(
            self._lifted(r - relevant[w], s - seen[w])
            for w in words
            for r, s in [self.counts.get(w, (0, 0))]
        ) / len(words)

    def _lifted(self, relevant: int, seen: int) -> float:
        base, m = self.base, self.smooth
        p = (relevant + m * base) / (seen + m)
        return math.log(p / (1 - p)) - math.log(base / (1 - base))

    @cached_property
    def _lift(self) -> dict[str, float]:
        """Each counted word's value, computed once (the serving path asks per candidate)."""
        return {w: self._lifted(r, s) for w, (r, s) in self.counts.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "smooth": self.smooth,
            "counts": {w: list(c) for w, c in self.counts.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WordRates:
        counts = {str(w): (int(c[0]), int(c[1])) for w, c in data["counts"].items()}
        return cls(float(data["base"]), float(data["smooth"]), counts)


@dataclass(frozen=True)
class OwnPairs:
    """A judged posting's own part of the ``Associations``' counts, taken out of its own
    values (as ``WordRates`` takes out its own pairs), so the second stage is not fitted on
    values its own judgements made: its specific words, whether it had a relevant patent,
    per patent word how many of its relevant patents hold it, and (``exclusive``) per word of
    its own, per patent word, how many of those patents no other judged posting using that
    word had as relevant (the distinct patents it alone added; None: all of ``held``, which
    takes out too many where postings share a relevant patent)."""

    asked: frozenset[str]
    answered: bool
    held: Mapping[str, int]
    exclusive: Mapping[str, Mapping[str, int]] | None = None


@dataclass(frozen=True)
class Associations:
    """Which patent words go with a posting word, learned from judged pairs: a translation
    model (Berger & Lafferty 1999, IBM Model 1's p(target | source), here p(patent word |
    posting word)). Enterprises and patents name one thing differently — 污水 / 废水 / 污泥,
    电机 / 定子 / 绕组, 焊接 / 焊缝, 涂料 / 涂层 — and lexical features see only shared words.

    For a posting word u: ``postings[u]`` judged postings using it had a relevant patent;
    ``pairs[u][v]`` = (of those, how many had a relevant patent holding the patent word v; how
    many distinct relevant patents hold v). t(v|u) = (c + μ p(v)) / (n + μ), p(v) the share of
    the judged and pooled patents holding v (``background``); v is an associate of u when c
    and the distinct patents reach ``support`` and the lift t(v|u) / p(v) reaches ``tau``.

    A candidate's value (``value``): over the posting's specific words (weighted by IDF ×
    specificity, as ``coverage``), the weighted mean of the best ln-lift of an associate that
    the patent's text holds (0 when none) — the word itself excluded, which the lexical
    features already count. The second stage reads it per pair (``translated``), so it moves
    a candidate within its posting's list. On the real dev set, 5-fold CV: nDCG@10 0.5244 →
    0.5626, strength AUC 0.7348 → 0.7468 (eval/real/RESULTS.md, session 40)."""

    support: int
    tau: float
    mu: float
    postings: Mapping[str, int]
    background: Mapping[str, float]
    pairs: Mapping[str, Mapping[str, tuple[int, int]]]
    # The officers' accepted pairs counted in beside the judged ones (a refit's table,
    # ``JudgedPairs.table``): what its stored form keeps instead of the table.
    accepted: Accepted | None = field(default=None, compare=False)

    @classmethod
    def count(
        cls,
        postings: Iterable[tuple[Iterable[str], Iterable[Any]]],
        words_of: Mapping[Any, frozenset[str]],
        *,
        keep: Callable[[str], bool] | None = None,
        support: int = ASSOCIATION_SUPPORT,
        tau: float = ASSOCIATION_LIFT,
        mu: float = ASSOCIATION_PRIOR,
        background: tuple[Mapping[str, int], int] | None = None,
    ) -> Associations:
        """The table from judged postings: each posting's specific words and its relevant
        patents' ids (none: unanswered, counts nothing); ``words_of``: the words of every
        judged or pooled patent (the background, and the relevant patents' words); ``keep``:
        which patent words may be associates (the shipped table: those a reason may show).
        ``background``: how many of the judged or pooled patents hold each word, and how many
        there are, when ``words_of`` holds only the relevant ones (``JudgedPairs``).
        Stored are the pairs that pass with one posting taken out at most (``associates``
        decides with the counts it is given)."""
        n: Counter = Counter()
        c: dict[str, Counter] = {}
        patents: dict[str, set[Any]] = {}
        for asked, relevant in postings:
            relevant = [d for d in relevant if d in words_of]
            if not relevant:
                continue
            held = frozenset().union(*(words_of[d] for d in relevant))
            for u in set(asked):
                n[u] += 1
                c.setdefault(u, Counter()).update(held)
                patents.setdefault(u, set()).update(relevant)
        if background is None:
            docs: Mapping[str, int] = Counter(v for words in words_of.values() for v in words)
            total = max(1, len(words_of))
        else:
            docs, total = background[0], max(1, background[1])
        background: dict[str, float] = {}
        pairs: dict[str, dict[str, tuple[int, int]]] = {}
        for u in sorted(c):
            frequent = {v: k for v, k in c[u].items() if k >= support and (keep is None or keep(v))}
            if not frequent:
                continue
            distinct = Counter(
                v for d in patents[u] for v in words_of[d] if v in frequent
            )  # distinct relevant patents holding v
            # the most a lift can be with one posting out (n one less, c the same)
            at_most = max(1, n[u] - 1)
            lifted = []
            for v, k in frequent.items():
                lift = _lift(k, at_most, docs[v] / total, mu)
                if distinct[v] >= support and lift >= math.log(tau):
                    lifted.append((-lift, v))
            # All of them, though ``associates`` serves the best ASSOCIATION_TOP: with a judged
            # posting's own counts out (its value when the second stage is fitted, and in
            # ``revive eval``), others take the place of those it alone made.
            kept = {v: (c[u][v], distinct[v]) for _, v in sorted(lifted)}
            for v in kept:
                background[v] = docs[v] / total
            if kept:
                pairs[u] = dict(sorted(kept.items()))
        return cls(
            support,
            tau,
            mu,
            {u: n[u] for u in sorted(pairs)},
            dict(sorted(background.items())),
            pairs,
        )

    def associates(self, u: str, own: OwnPairs | None = None) -> tuple[tuple[str, float], ...]:
        """u's associates and their ln-lift, ``own``'s counts taken out when it used u."""
        if own is None or u not in own.asked:
            served = self._served
            if u not in served:  # per word as asked: a new process pays for the words it meets
                served[u] = self._of(u, None)
            return served[u]
        return self._of(u, own)

    def _of(self, u: str, own: OwnPairs | None) -> tuple[tuple[str, float], ...]:
        table = self.pairs.get(u)
        if not table:
            return ()
        n = self.postings[u] - (1 if own is not None and own.answered else 0)
        bar = math.log(self.tau)
        out = []
        alone: Mapping[str, int] = {}
        if own is not None:
            alone = own.held if own.exclusive is None else own.exclusive.get(u, {})
        for v, (c, k) in table.items():
            if own is not None:
                c -= 1 if v in own.held else 0
                k -= alone.get(v, 0)
            if c < self.support or k < self.support:
                continue
            lift = _lift(c, n, self.background[v], self.mu)
            if lift >= bar:
                out.append((v, lift))
        if len(out) > ASSOCIATION_TOP:  # the best by lift (ties by word)
            out = sorted(out, key=lambda x: (-x[1], x[0]))[:ASSOCIATION_TOP]
        return tuple(out)

    @cached_property
    def _served(self) -> dict[str, tuple[tuple[str, float], ...]]:
        return {}

    def value(
        self,
        weights: Mapping[str, float],
        texts: Sequence[str],
        own: OwnPairs | None = None,
    ) -> np.ndarray:
        """Each candidate's value: ``weights`` the posting's specific words and their weights
        (``asked_weights``), ``texts`` the candidates' normalised texts; an associate counts
        when the text holds it."""
        out = np.zeros(len(texts))
        total = sum(weights.values())
        if not texts or total <= 0:
            return out
        # the posting's associates by patent word: [(which of its words, lift)]
        by_word: dict[str, list[tuple[int, float]]] = {}
        asked = list(weights)
        for j, u in enumerate(asked):
            for v, lift in self.associates(u, own):
                if v != u:
                    by_word.setdefault(v, []).append((j, lift))
        if not by_word:
            return out
        # The posting's associates found in each text in one pass: an Aho–Corasick automaton
        # (pyahocorasick, C) over them, whose values say which of the posting's words each
        # serves. A substring test of each in each of 30 candidates took 17 ms a posting, one
        # automaton over the whole table 5 ms (its common words match everywhere).
        import ahocorasick

        finder = ahocorasick.Automaton()
        for v, hits in by_word.items():
            finder.add_word(v, hits)
        finder.make_automaton()
        best = np.zeros((len(texts), len(asked)))
        for i, text in enumerate(texts):
            row = [0.0] * len(asked)
            for _, hits in finder.iter(text):
                for j, lift in hits:
                    if lift > row[j]:
                        row[j] = lift
            best[i] = row
        return best @ np.asarray([weights[u] for u in asked]) / total

    def to_json(self) -> dict[str, Any]:
        return {
            "support": self.support,
            "tau": self.tau,
            "mu": self.mu,
            "postings": dict(self.postings),
            "background": dict(self.background),  # unrounded: lifts tie and sit on the bar
            # one line per posting word: "v c k;v c k"
            "pairs": {
                u: ";".join(f"{v} {c} {k}" for v, (c, k) in t.items())
                for u, t in self.pairs.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Associations:
        pairs = {}
        for u, line in data["pairs"].items():
            table = {}
            for item in line.split(";"):
                v, c, k = item.rsplit(" ", 2)
                table[v] = (int(c), int(k))
            pairs[str(u)] = table
        return cls(
            int(data["support"]),
            float(data["tau"]),
            float(data["mu"]),
            {str(u): int(n) for u, n in data["postings"].items()},
            {str(v): float(p) for v, p in data["background"].items()},
            pairs,
        )


@dataclass(frozen=True)
class Accepted:
    """Officers' accepted pairs as the associations count them: per demand with an accepted
    patent, its words (``matcher.demand_words``) and each accepted patent's words
    (``text.text_words``) by patent id (matching.learning)."""

    demands: tuple[tuple[frozenset[str], Mapping[Any, frozenset[str]]], ...]

    def to_json(self) -> list[dict[str, Any]]:
        return [
            {
                "words": " ".join(sorted(words)),
                "patents": {str(p): " ".join(sorted(held)) for p, held in patents.items()},
            }
            for words, patents in self.demands
        ]

    @classmethod
    def from_json(cls, data: Sequence[Mapping[str, Any]]) -> Accepted:
        return cls(
            tuple(
                (
                    frozenset(d["words"].split()),
                    {int(p): frozenset(held.split()) for p, held in d["patents"].items()},
                )
                for d in data
            )
        )


@dataclass(frozen=True)
class JudgedPairs:
    """What the shipped ``Associations`` were counted from, kept so a refit can count them
    again with officers' accepted pairs beside them (resources/strength_associations.json,
    written by ``revive fit-strength``): each answered judged posting's specific words and
    its relevant patents' keys, those patents' words (only the words an associate may be),
    and how many of the judged or pooled patents hold each such word, of how many.

    A table cannot simply have the accepted pairs' counts added to it: it stores only the
    pairs that passed, so a pair one judged posting and one accepted one hold together would
    be lost while the word's postings grew, and its associates thinned (replayed on the real
    set, adding them so lowered the later demands' nDCG@10 0.5571 → 0.5521 where counting
    them again raised it to 0.5631)."""

    support: int
    tau: float
    mu: float
    postings: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    words: Mapping[str, frozenset[str]]
    docs: Mapping[str, int]
    total: int

    def table(self, accepted: Accepted | None = None) -> Associations:
        """The associations counted from the judged pairs, and from ``accepted`` too: each
        accepted patent is a relevant patent of its demand, its words limited to those the
        judged patents have (whose share is known and which passed the judged table's
        ``keep``); the background stays the judged and pooled patents' (an accepted one's
        pool is not stored). A patent is known by its key: the platform's patents (ids) are
        never the judged sets' (corpus record ids), the replay's are (``revive eval
        --replay``, where counting a patent both judged and accepted as two distinct ones
        lowered the later demands' nDCG@10 to 0.5547 from 0.5627)."""
        postings: list[tuple[Iterable[str], Iterable[Any]]] = list(self.postings)
        words: dict[Any, frozenset[str]] = dict(self.words)
        if accepted is not None:
            for asked, patents in accepted.demands:
                for p, held in patents.items():
                    # a patent judged relevant too is one patent (its distinct count)
                    words.setdefault(p, frozenset(v for v in held if v in self.docs))
                postings.append((asked, list(patents)))
        table = Associations.count(
            postings,
            words,
            support=self.support,
            tau=self.tau,
            mu=self.mu,
            background=(self.docs, self.total),
        )
        return replace(table, accepted=accepted) if accepted is not None else table

    def to_json(self) -> dict[str, Any]:
        return {
            "support": self.support,
            "tau": self.tau,
            "mu": self.mu,
            "postings": [[" ".join(w), " ".join(ids)] for w, ids in self.postings],
            "words": {d: " ".join(sorted(v)) for d, v in sorted(self.words.items())},
            "docs": dict(sorted(self.docs.items())),
            "total": self.total,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JudgedPairs:
        return cls(
            int(data["support"]),
            float(data["tau"]),
            float(data["mu"]),
            tuple((tuple(w.split()), tuple(ids.split())) for w, ids in data["postings"]),
            {str(d): frozenset(v.split()) for d, v in data["words"].items()},
            {str(v): int(n) for v, n in data["docs"].items()},
            int(data["total"]),
        )

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False), "utf-8")


@lru_cache(maxsize=1)
def judged_associations() -> JudgedPairs | None:
    """What the shipped associations were counted from (None: a release without it)."""
    data = shipped_json("strength_associations.json")
    return None if data is None else JudgedPairs.from_json(data)


def _lift(c: int, n: int, p: float, mu: float) -> float:
    """ln t(v|u) / p(v): ``c`` of ``n`` postings behind the pair, ``p`` v's background share,
    ``mu`` pseudo-postings at it."""
    return math.log((c + mu * p) / ((n + mu) * p))


def asked_weights(
    term_index: Mapping[str, int], idf: np.ndarray, asked: Iterable[str]
) -> dict[str, float]:
    """The weights ``Associations.value`` reads: IDF × specificity of each of the posting's
    words the index knows (``asked_words``; no character bigrams), as ``coverage`` weighs them."""
    out = {}
    for w in asked:
        col = term_index.get(w)
        if col is not None and not w.startswith(BIGRAM_MARK):
            weight = float(idf[col]) * demand_specificity(w)
            if weight > 0:
                out[w] = weight
    return out


def posting_rows(
    pair: np.ndarray,
    rows: np.ndarray,
    features: Sequence[str],
    words: int,
    thin: bool,
    rates: np.ndarray | None = None,
    names: Sequence[str] = POSTING,
    answer: float = 0.0,
    translated: np.ndarray | None = None,
) -> np.ndarray:
    """The second stage's rows of one pool (columns ``names``, of ``POSTING``): ``pair`` its
    first-stage logits, ``rows`` its feature rows (columns in ``features`` order, which hold
    ``FEATURES``), ``words`` the posting's content words, ``thin`` its thin flag, ``rates``
    each candidate's ``WordRates.value`` (None: 0), ``answer`` the posting's value of
    ``StrengthModel.answers``, ``translated`` each candidate's ``Associations.value`` (None:
    0)."""
    col = {f: i for i, f in enumerate(features)}
    n = len(pair)
    out = np.empty((n, len(names)))
    if not n:
        return out
    values = {
        "pair": pair,
        "pool_max": pair.max(),
        "demand_mass": rows[0, col["demand_mass"]],
        "top_score": rows[:, col["score"]].max(),
        "words": np.log1p(max(0, words)),
        "thin": float(thin),
        "chars_max": rows[:, col["chars"]].max(),
        "coverage_max": rows[:, col["coverage"]].max(),
        "rate_max": 0.0 if rates is None or not len(rates) else float(np.max(rates)),
        "answers": answer,
        "translated": np.zeros(n) if translated is None else np.asarray(translated, np.float64),
    }
    for i, name in enumerate(names):
        out[:, i] = values[name]
    return out


@dataclass(frozen=True)
class StrengthModel:
    """Logistic regression over standardised features, as plain numbers.

    ``strong``: the probability from which a candidate is 强; ``bar``: below it a candidate
    is 弱, and a demand whose best candidate is below it abstains (暂无合适专利). Both are
    defaults the platform's settings may override."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    bar: float = 0.1
    strong: float = 0.35
    version: str = "judged"
    trained: dict[str, Any] = field(default_factory=dict)
    # The second stage; None in a one-stage model (a file written before it existed).
    calibration: Calibration | None = None
    # The word rates the second stage reads (``rate_max``, ``answers``); None when it does not.
    rates: WordRates | None = None
    answers: WordRates | None = None
    # The associations the second stage's ``translated`` reads; None when it does not.
    associations: Associations | None = None

    def logit(self, rows: np.ndarray) -> np.ndarray:
        """The first stage's logit per row of ``rows`` (columns in ``features`` order)."""
        return _linear(self, rows)

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """The first stage's P(relevant) per row of ``rows`` (columns in ``features`` order):
        the pair alone, what decisions (stored features, no pool) can be scored by."""
        return _sigmoid(self.logit(rows))

    def strengths(
        self,
        rows: np.ndarray,
        *,
        words: int = 0,
        thin: bool = False,
        matched: Sequence[Iterable[str]] = (),
        asked: Iterable[str] = (),
        leave_out: PoolRows | None = None,
        texts: Sequence[str] = (),
        weights: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """P(relevant) served for each candidate of one posting's pool: the first stage,
        recalibrated by the second when the model has one. ``rows``: the whole pool's feature
        rows (``features`` order); ``words``, ``thin``: the posting's content words and thin
        flag (``DemandReading``); ``matched``: each candidate's shared specific words
        (``Candidate.matched``), for the word rates; ``asked``: the posting's words the index
        knows (``asked_words``); ``leave_out``: this posting's own judged pool, taken out of
        the word rates (scoring a posting the model was fitted on as if it had not seen its
        judgements — ``revive eval``); ``texts``: each candidate's normalised text and
        ``weights`` the posting's specific words (``asked_weights``), for the associations."""
        rows = np.asarray(rows, np.float64)
        if self.calibration is None:
            return _sigmoid(self.logit(rows))
        posting = self.posting(
            rows,
            words=words,
            thin=thin,
            matched=matched,
            asked=asked,
            leave_out=leave_out,
            texts=texts,
            weights=weights,
        )
        return _sigmoid(self.calibration.logit(posting))

    def posting(
        self,
        rows: np.ndarray,
        *,
        words: int,
        thin: bool,
        matched: Sequence[Iterable[str]],
        asked: Iterable[str],
        leave_out: PoolRows | None,
        texts: Sequence[str] = (),
        weights: Mapping[str, float] | None = None,
        translated: np.ndarray | None = None,
    ) -> np.ndarray:
        """The second stage's input rows for one pool (``strengths``' arguments;
        ``translated``: the pool's ``Associations.value``s when already known)."""
        stage = self.calibration
        assert stage is not None
        rates, answer = None, 0.0
        if self.rates is not None and "rate_max" in stage.features:
            own = None if leave_out is None else WordRates.tally(leave_out)
            rates = np.asarray([self.rates.value(m, own) for m in matched])
        if self.answers is not None and "answers" in stage.features:
            own = None if leave_out is None else WordRates.answered(leave_out)
            answer = self.answers.value(set(asked), own)
        wanted = self.associations is not None and "translated" in stage.features
        if translated is None and wanted and weights and len(texts) == len(rows):
            assert self.associations is not None
            translated = self.associations.value(
                weights, texts, None if leave_out is None else leave_out.own
            )
        return posting_rows(
            self.logit(rows),
            rows,
            self.features,
            words,
            thin,
            rates,
            stage.features,
            answer,
            translated,
        )

    def tier(self, p: float, bar: float | None = None, strong: float | None = None) -> str:
        """'strong' | 'medium' | 'weak' (强 / 中 / 弱). Below the bar is weak whatever
        ``strong`` says (a bar set above the strong threshold leaves no 中)."""
        bar = self.bar if bar is None else bar
        strong = self.strong if strong is None else strong
        return "weak" if p < bar else "strong" if p >= strong else "medium"

    def to_json(self) -> dict[str, Any]:
        out = asdict(replace(self, rates=None, answers=None, associations=None))
        out["rates"] = None if self.rates is None else self.rates.to_json()
        out["answers"] = None if self.answers is None else self.answers.to_json()
        out["associations"] = _associations_json(self)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StrengthModel:
        known = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in data.items() if k in known}
        for key in ("features", "mean", "scale", "coef"):
            values[key] = tuple(values[key])
        stage = values.get("calibration")
        if stage is not None:
            values["calibration"] = Calibration(
                **{k: tuple(v) if isinstance(v, list) else v for k, v in stage.items()}
            )
        for key in ("rates", "answers"):
            if values.get(key) is not None:
                values[key] = WordRates.from_json(values[key])
        if values.get("associations") is not None:
            values["associations"] = _associations_from(values["associations"])
        return cls(**values)

    def save(self, path: str | Path) -> None:
        text = json.dumps(self.to_json(), ensure_ascii=False, indent=1)
        # a word's counts on its own line ("word": [relevant, seen]), not four
        text = _PAIR.sub(r"[\1, \2]", text)
        Path(path).write_text(text, "utf-8")

    @classmethod
    def load(cls, path: str | Path) -> StrengthModel:
        return cls.from_json(json.loads(Path(path).read_text("utf-8")))


# A model whose associations are the shipped model's (a refit from officers' decisions keeps
# the judged sets' table) stores this reference, not a 1.7 MB copy per refit row.
_SHIPPED_TABLE = {"shipped": True}


def _associations_json(model: StrengthModel) -> dict[str, Any] | None:
    table = model.associations
    if table is None:
        return None
    if _shipped_file_loaded():
        shipped = shipped_model()
        if model is not shipped and table is shipped.associations:
            return dict(_SHIPPED_TABLE)
        if model is not shipped and table.accepted is not None and judged_associations():
            # counted again from the release's judged pairs and these (``_associations_from``)
            return {**_SHIPPED_TABLE, "accepted": table.accepted.to_json()}
    return table.to_json()


def _associations_from(data: Mapping[str, Any]) -> Associations | None:
    """A stored table, or the shipped model's (the reference a refit stores; a release with
    a newer judged table serves that one), or — a refit that counted officers' accepted
    pairs — the table counted again from the release's judged pairs and those (about a
    second, once per process and version)."""
    if not data.get("shipped"):
        return Associations.from_json(data)
    judged = judged_associations()
    if data.get("accepted") and judged is not None:
        return judged.table(Accepted.from_json(data["accepted"]))
    return shipped_model().associations


def _shipped_file_loaded() -> bool:
    return shipped_model.cache_info().currsize > 0


@lru_cache(maxsize=1)
def shipped_model() -> StrengthModel:
    """The model fitted on the judged sets (resources/strength_model.json)."""
    raw = resources.files("revive.engine.resources").joinpath("strength_model.json")
    return StrengthModel.from_json(json.loads(raw.read_text("utf-8")))


@dataclass(frozen=True)
class PoolRows:
    """One judged posting's whole pool, for the second stage: every candidate's feature rows
    (``FEATURES`` order), its label (1 relevant, 0 not, -1 unjudged), the index's scores are
    the ``score`` column; the posting's content words and thin flag; the candidates' ids in
    row order when the pool was assessed here (``benchmark.trust.pool_rows``), empty when
    read from the training file; each candidate's shared specific words (``matched``, for
    ``WordRates``; empty in a training file written before them) and the posting's words the
    index knows (``asked``, for ``WordRates.answered``; empty likewise)."""

    demand: str
    rows: np.ndarray
    labels: np.ndarray
    words: int
    thin: bool
    ids: tuple[Any, ...] = ()
    matched: tuple[tuple[str, ...], ...] = ()
    asked: tuple[str, ...] = ()
    answered: bool | None = None  # a relevant patent was judged (None: read the labels)
    # each candidate's ``Associations.value`` (its own counts out), when it was computed
    translated: np.ndarray | None = None
    own: OwnPairs | None = None  # its part of the associations' counts (``OwnPairs``)


@lru_cache(maxsize=1)
def _training() -> tuple[PoolRows, ...]:
    """resources/strength_training.csv: every candidate of each judged posting's pool, with
    its label (empty: unjudged) and the posting's content words and thin flag."""
    folder = resources.files("revive.engine.resources")
    raw = folder.joinpath("strength_training.csv")
    header, *lines = raw.read_text("utf-8").splitlines()
    asked: dict[str, tuple[tuple[str, ...], bool]] = {}
    postings = folder.joinpath("strength_postings.csv")
    if postings.is_file():  # each judged posting's words the index knows, and if it is answered
        for line in postings.read_text("utf-8").splitlines()[1:]:
            name, demand, answered, words = line.split(",", 3)
            asked[f"{name}:{demand}"] = tuple(words.split()), answered == "1"
    cols = header.split(",")
    at = {name: i for i, name in enumerate(cols)}
    feats = [at[f] for f in FEATURES]
    grouped: dict[str, list[list[str]]] = {}
    for line in lines:
        cells = line.split(",")
        grouped.setdefault(f"{cells[at['set']]}:{cells[at['demand']]}", []).append(cells)
    out = []
    for demand, cells in grouped.items():
        first = cells[0]
        out.append(
            PoolRows(
                demand,
                np.asarray([[float(c[i]) for i in feats] for c in cells], np.float64),
                np.asarray([int(c[at["relevant"]] or -1) for c in cells], int),
                int(first[at["words"]]) if "words" in at else 0,
                first[at["thin"]] == "1" if "thin" in at else False,
                matched=(
                    tuple(tuple(c[at["matched"]].split()) for c in cells) if "matched" in at else ()
                ),
                asked=asked[demand][0] if demand in asked else (),
                answered=asked[demand][1] if demand in asked else None,
                translated=(
                    np.asarray([float(c[at["translated"]]) for c in cells])
                    if "translated" in at
                    else None
                ),
            )
        )
    return tuple(out)


def judged_pools() -> tuple[PoolRows, ...]:
    """The judged postings' pools the shipped model's second stage was fitted on."""
    return _training()


def judged_pairs(pools: Iterable[PoolRows]) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The judged pairs of ``pools`` (the first stage's training rows): feature rows in
    ``FEATURES`` order, labels (relevant = 1) and each pair's posting."""
    rows, labels, groups = [np.zeros((0, len(FEATURES)))], [np.zeros(0, int)], []
    for pool in pools:
        judged = pool.labels >= 0
        rows.append(pool.rows[judged])
        labels.append(pool.labels[judged])
        groups += [pool.demand] * int(judged.sum())
    return np.vstack(rows), np.concatenate(labels), tuple(groups)


@lru_cache(maxsize=1)
def judged_rows() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """The judged pairs the shipped model was fitted on (resources/strength_training.csv):
    feature rows in ``FEATURES`` order, labels (relevant = 1) and demand ids ("set:id")."""
    return judged_pairs(_training())


def fit(
    rows: np.ndarray,
    labels: Sequence[int],
    *,
    features: Sequence[str] = FEATURES,
    weights: Sequence[float] | None = None,
    c: float = 1.0,
    **meta: Any,
) -> StrengthModel:
    """Fit the logistic model (scikit-learn) on feature rows and 0/1 labels."""
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(rows, np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, np.asarray(labels, int), sample_weight=weights)
    return StrengthModel(
        features=tuple(features),
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        **meta,
    )


def calibrate(
    model: StrengthModel,
    pools: Sequence[PoolRows],
    *,
    c: float = 1.0,
    extra: Tally | None = None,
    associations: Associations | None = None,
) -> StrengthModel:
    """``model`` with a second stage (``Calibration``) fitted on the judged pairs of
    ``pools`` over ``POSTING``, the pair logits being ``model``'s own first stage, and the
    ``WordRates`` of those pools — shared words in judged pairs (``rates``), postings' words
    in answered postings (``answers``) — each pool's values with its own judgements left out.
    ``extra``: shared-word counts from outside the pools (officers' decisions), added to
    ``rates``. When no pool carries shared words or asked words (a training file written
    before them), the second stage goes without ``rate_max`` or ``answers``; without
    ``associations`` (or pools without their ``translated`` values), without ``translated``.
    Should the fit weigh the pair logit at or below zero (it would reorder a posting's list),
    the model is returned one-stage."""
    from sklearn.linear_model import LogisticRegression

    one_stage = replace(model, calibration=None, rates=None, answers=None, associations=None)
    if set(model.features) != set(FEATURES):
        return one_stage  # the pool values read FEATURES
    cols = [FEATURES.index(f) for f in model.features]
    with_words = any(len(pool.matched) for pool in pools)
    with_asked = any(len(pool.asked) for pool in pools)
    with_translated = associations is not None and all(
        pool.translated is not None for pool in pools if len(pool.rows)
    )
    names = tuple(
        n
        for n in POSTING
        if (n != "rate_max" or with_words)
        and (n != "answers" or with_asked)
        and (n != "translated" or with_translated)
    )
    zeros = (0.0,) * len(names)
    draft = replace(
        model,
        calibration=Calibration(names, zeros, (1.0,) * len(names), zeros, 0.0),
        rates=WordRates.count(pools, extra=extra) if with_words else None,
        answers=(
            WordRates.count(pools, ANSWER_SMOOTHING, WordRates.answered) if with_asked else None
        ),
        associations=associations if with_translated else None,
    )
    x, y = [], []
    for pool in pools:
        if not len(pool.rows):
            continue
        posting = draft.posting(
            pool.rows[:, cols],
            words=pool.words,
            thin=pool.thin,
            matched=pool.matched,
            asked=pool.asked,
            leave_out=pool,
            translated=pool.translated,
        )
        judged = pool.labels >= 0
        x.append(posting[judged])
        y.append(pool.labels[judged])
    rows, labels = np.vstack(x), np.concatenate(y)
    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=c, max_iter=2000).fit((rows - mean) / scale, labels)
    if fitted.coef_[0][0] <= 0:
        return one_stage
    stage = Calibration(
        features=names,
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in fitted.coef_[0]),
        intercept=float(fitted.intercept_[0]),
    )
    return replace(draft, calibration=stage)


# ---------------------------------------------------------------------------- assessing


@dataclass(frozen=True, slots=True)
class Assessed:
    """A candidate after assessment: its features, probability and tier."""

    doc_id: Any
    score: float
    chars: float
    coverage: float
    strength: float
    tier: str
    terms: tuple[tuple[str, float], ...] = ()
    matched: frozenset[str] = frozenset()
    demand_mass: float = 0.0

    def row(self, features: Sequence[str] = FEATURES) -> list[float]:
        return [float(getattr(self, f)) for f in features]


def assess(
    demand_text: str,
    candidates: Sequence[Any],
    texts: Mapping[Any, str],
    chars: CharProfile | None,
    model: StrengthModel | None = None,
    *,
    bar: float | None = None,
    strong: float | None = None,
    normalized: bool = False,
    mass: float = 0.0,
    words: int = 0,
    thin: bool = False,
    asked: Iterable[str] = (),
    leave_out: PoolRows | None = None,
    weights: Mapping[str, float] | None = None,
) -> list[Assessed]:
    """Features, probability and tier of each candidate (``revive.engine.Candidate`` from
    ``Index.query``), best first (by probability, then by score). ``texts``: the candidates'
    text (title + abstract …) by id, for the character feature; ``chars``: the index's
    character profile (None: the feature is 0); ``normalized``: the texts are already
    ``normalize``d; ``mass``: the demand's ``demand_mass``; ``words``, ``thin``: the posting's
    content words and thin flag (``DemandReading``), read by the model's second stage;
    ``asked``: the posting's words the index knows (``asked_words``); ``leave_out``: the
    posting's own judged pool, out of the word rates (``strengths``); ``weights``: the
    posting's specific words weighed (``asked_weights``), for the model's associations."""
    model = model or shipped_model()
    held = [texts.get(c.right_id, "") for c in candidates]
    if not normalized:  # once, for the characters and the associations alike
        demand_text, held, normalized = normalize(demand_text), [normalize(t) for t in held], True
    if chars is not None:
        char_cos_of = chars.cosines(demand_text, held, normalized=True)
    else:
        char_cos_of = np.zeros(len(candidates))
    out: list[Assessed] = []
    rows = []
    for c, char_cos in zip(candidates, char_cos_of.tolist(), strict=True):
        values = {"score": c.score, "chars": char_cos, "coverage": c.coverage, "demand_mass": mass}
        rows.append([values[f] for f in model.features])
        out.append((c, char_cos))
    if not out:
        return []
    probs = model.strengths(
        np.asarray(rows),
        words=words,
        thin=thin,
        matched=[c.matched for c, _ in out],
        asked=asked,
        leave_out=leave_out,
        texts=held if model.associations is not None and weights else (),
        weights=weights,
    )
    assessed = [
        Assessed(
            c.right_id,
            c.score,
            round(char_cos, 6),
            c.coverage,
            round(float(p), 6),
            model.tier(float(p), bar, strong),
            c.terms,
            c.matched,
            round(mass, 6),
        )
        for (c, char_cos), p in zip(out, probs, strict=True)
    ]
    order = sorted(
        range(len(assessed)), key=lambda i: (-assessed[i].strength, -assessed[i].score, i)
    )
    return [assessed[i] for i in order]


def abstains(assessed: Sequence[Assessed], bar: float) -> bool:
    """A demand abstains (暂无合适专利) when no candidate reaches the bar."""
    return not any(a.strength >= bar for a in assessed)
