"""What a served strength turned out to mean: the share of judged pairs that were relevant, by
the probability the model gave them — measured out of fold on the real postings, for short
postings and the rest apart.

The strength model is calibrated where most candidates lie, but not at its top: on the 1,598
real postings (5-fold cross-validated by posting, judged top-10 pairs) the 1 % of pairs it
rated highest averaged 0.76 and 60 % of them were relevant; for short postings (thin, or at most
eight content words) the highest 1 % averaged 0.91 and 70 % were relevant, and the share levels
off from 0.3 up (a tester saw 「可能性超过 95%」 on a two-word posting). The probability still
ranks, sets the tiers and the bar; what a person is told is this measured share
(``Reliability.observed``), so the platform never promises more than it has seen.

``fit`` bins the out-of-fold probabilities at fixed quantiles, takes each bin's mean
probability and share relevant as a knot, makes the shares non-decreasing (pool adjacent
violators, weighted by the bins' pairs), and interpolates linearly between knots (from (0, 0)
below the first; the last share above the last). Plain JSON beside the model
(resources/strength_reliability.json, written by ``revive fit-strength``), with the version
of the model it was measured for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from revive.engine.text import shipped_json

# Quantiles of the judged pairs' probabilities where the bins end: fine at the top, where the
# model's confidence outruns what it has seen.
EDGES = (0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 1.0)
SHORT_WORDS = 8  # a posting with at most this many content words (or thin) counts as short
GROUPS = ("short", "other")


def is_short(words: int, thin: bool) -> bool:
    return bool(thin) or int(words) <= SHORT_WORDS


def _monotone(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Pool adjacent violators: the non-decreasing sequence closest to ``values`` (weighted)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([float(v), float(w), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    return [b[0] for b in blocks for _ in range(int(b[2]))]


@dataclass(frozen=True)
class Reliability:
    model_version: str
    # per group: ((mean probability, share relevant), ...) ascending in both
    knots: Mapping[str, tuple[tuple[float, float], ...]]
    pairs: Mapping[str, int]

    def observed(self, p: float, short: bool) -> float:
        """The share of judged pairs near probability ``p`` that were relevant."""
        knots = self.knots.get("short" if short else "other") or ()
        if not knots:
            return float(p)
        xs = [0.0, *(k[0] for k in knots)]
        ys = [0.0, *(k[1] for k in knots)]
        return float(np.interp(float(p), xs, ys))

    def basis(self, p: float, short: bool) -> int | None:
        """How many judged pairs the share shown for ``p`` rests on: those of the bin whose
        mean probability is nearest ``p``, with the bins pooled into it (equal shares after
        ``_monotone``) — the denominator a page names beside 「约 X%」. None when nothing
        was measured for the group."""
        group = "short" if short else "other"
        knots = self.knots.get(group) or ()
        sizes = _bin_sizes(int(self.pairs.get(group, 0)))
        if not knots or len(sizes) != len(knots):
            return None
        at = min(range(len(knots)), key=lambda i: abs(knots[i][0] - float(p)))
        share = knots[at][1]
        lo = hi = at
        while lo > 0 and knots[lo - 1][1] == share:
            lo -= 1
        while hi + 1 < len(knots) and knots[hi + 1][1] == share:
            hi += 1
        return sum(sizes[lo : hi + 1])

    def to_json(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "knots": {g: [list(k) for k in ks] for g, ks in self.knots.items()},
            "pairs": dict(self.pairs),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reliability:
        knots = {g: tuple((float(a), float(b)) for a, b in ks) for g, ks in data["knots"].items()}
        return cls(str(data["model_version"]), knots, {g: int(n) for g, n in data["pairs"].items()})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=1), "utf-8")


def _bin_sizes(n: int) -> list[int]:
    """The number of pairs in each bin ``fit`` makes of ``n`` pairs (empty bins skipped)."""
    sizes, lo = [], 0
    for edge in EDGES:
        hi = int(round(edge * n))
        if hi > lo:
            sizes.append(hi - lo)
            lo = hi
    return sizes


def fit(
    probabilities: Sequence[float],
    labels: Sequence[int],
    short: Sequence[bool],
    model_version: str,
) -> Reliability:
    """Knots per group from out-of-fold probabilities and labels (1: relevant)."""
    p = np.asarray(probabilities, np.float64)
    y = np.asarray(labels, np.float64)
    s = np.asarray(short, bool)
    knots: dict[str, tuple[tuple[float, float], ...]] = {}
    pairs: dict[str, int] = {}
    for group, mask in (("short", s), ("other", ~s)):
        gp, gy = p[mask], y[mask]
        pairs[group] = int(mask.sum())
        if not len(gp):
            knots[group] = ()
            continue
        order = np.argsort(gp, kind="stable")
        means, shares, weights, lo = [], [], [], 0
        for size in _bin_sizes(len(gp)):  # the bins ``basis`` counts again from ``pairs``
            idx = order[lo : lo + size]
            means.append(float(gp[idx].mean()))
            shares.append(float(gy[idx].mean()))
            weights.append(float(size))
            lo += size
        knots[group] = tuple(
            (round(m, 4), round(v, 4))
            for m, v in zip(means, _monotone(shares, weights), strict=True)
        )
    return Reliability(model_version, knots, pairs)


@lru_cache(maxsize=1)
def shipped_reliability() -> Reliability | None:
    """The measurement shipped beside the model (None if the file is absent)."""
    data = shipped_json("strength_reliability.json")
    return None if data is None else Reliability.from_json(data)
