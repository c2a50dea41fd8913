"""What a served strength was measured to mean (engine/reliability.py)."""

from __future__ import annotations

import numpy as np
import pytest

from revive.engine import reliability, shipped_model, shipped_reliability


def test_knots_follow_the_observed_shares_and_never_fall():
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 4000)
    # the truth flattens at 0.6 above p = 0.6: an over-confident top
    y = (rng.uniform(0, 1, 4000) < np.minimum(p, 0.6)).astype(int)
    measured = reliability.fit(p, y, [False] * 4000, "m1")
    knots = measured.knots["other"]
    shares = [s for _, s in knots]
    assert shares == sorted(shares)
    assert measured.observed(0.99, False) == pytest.approx(0.6, abs=0.06)
    assert measured.observed(0.25, False) == pytest.approx(0.25, abs=0.05)
    assert measured.pairs == {"short": 0, "other": 4000}
    assert measured.observed(0.4, True) == 0.4  # nothing measured for short postings: as is


def test_adjacent_violators_are_pooled_by_weight():
    assert reliability._monotone([0.1, 0.5, 0.3, 0.6], [1, 1, 3, 1]) == [0.1, 0.35, 0.35, 0.6]


def test_it_round_trips_as_json(tmp_path):
    measured = reliability.fit([0.1, 0.2, 0.9, 0.95], [0, 0, 1, 0], [True] * 4, "m2")
    path = tmp_path / "r.json"
    measured.save(path)
    import json

    again = reliability.Reliability.from_json(json.loads(path.read_text("utf-8")))
    assert again == measured


def test_short_is_thin_or_at_most_eight_content_words():
    assert reliability.is_short(3, False) and reliability.is_short(20, True)
    assert not reliability.is_short(9, False)


def test_the_shipped_measure_is_of_the_shipped_model():
    """A refit of the shipped model must be measured again (``revive fit-strength`` writes both;
    ``revive fit-reliability`` measures the model as it is)."""
    measured = shipped_reliability()
    assert measured is not None and measured.model_version == shipped_model().version
    assert measured.pairs["short"] > 1000 and measured.pairs["other"] > 10000
    # over-confident at the top, and more so for short postings
    assert measured.observed(0.99, False) < 0.8 and measured.observed(0.6, True) < 0.5


def test_a_shown_share_names_the_judged_pairs_it_rests_on():
    """A designer read 「约 62% 确实切合」 with no count behind it: ``basis`` is how many judged
    pairs the share near ``p`` was measured on — its bin's, with the bins pooled into it."""
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 4000)
    y = (rng.uniform(0, 1, 4000) < np.minimum(p, 0.6)).astype(int)
    measured = reliability.fit(p, y, [False] * 4000, "m1")
    assert measured.basis(0.1, False) == 2000  # the lower half of the pairs is one bin
    assert measured.basis(0.66, False) == 1200  # the next 30 %
    # the flat top: the bins from 80 % to 99 % of the pairs were pooled into one share
    shares = [s for _, s in measured.knots["other"]]
    assert shares[2] == shares[3] == shares[4] == shares[5] != shares[6]
    assert measured.basis(0.85, False) == measured.basis(0.98, False) == 400 + 200 + 120 + 40
    assert measured.basis(0.999, False) == 40  # the top 1 %, a share of its own
    assert measured.basis(0.5, True) is None  # nothing measured for short postings
    shipped = shipped_reliability()
    assert shipped.basis(0.99, False) < shipped.pairs["other"]
