"""The tier rule (pure) and its SQL mirror agree; thresholds are configurable."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from revive.evaluations.queries import tier_sql
from revive.evaluations.tiers import (
    DEFAULT_RULES,
    Tier,
    TierFacts,
    compute_tier,
    rules_from_mapping,
)
from revive.extensions import db


def facts(grade=3, trl=5, willingness="willing", n=0, avg=None, mx=None, interested=0):
    return TierFacts(grade, trl, willingness, n, avg, mx, interested)


CASES = [
    # (facts, tier, why)
    (facts(grade=5, willingness="not_now", n=3, avg=5.0, mx=5, interested=3), Tier.D, "暂不转化"),
    (facts(n=2, avg=2.0, mx=3), Tier.D, "two enterprises say no"),
    (facts(n=2, avg=2.5, mx=3), Tier.C, "2.5 is not below the D threshold; not liked either"),
    (facts(n=1, avg=1.0, mx=1), Tier.C, "one bad evaluation is not enough for D"),
    (facts(grade=5, trl=4, n=1, avg=5.0, mx=5), Tier.A, "双五星 at TRL 4"),
    (facts(grade=5, trl=3, n=1, avg=5.0, mx=5), Tier.B, "双五星 below A's TRL"),
    (facts(grade=5, trl=4, n=3, avg=2.0, mx=5), Tier.D, "D (market said no) beats 双五星"),
    (facts(grade=3, trl=5, n=2, avg=4.0, mx=5, interested=1), Tier.A, "strong average"),
    (facts(grade=3, trl=5, n=2, avg=4.0, mx=5, interested=0), Tier.B, "no cooperation intent"),
    (facts(grade=3, trl=5, n=1, avg=5.0, mx=5, interested=1), Tier.B, "one 5★ is not A"),
    (facts(grade=3, trl=3, n=3, avg=4.5, mx=5, interested=2), Tier.B, "immature for A"),
    (facts(grade=2, n=1, avg=3.5, mx=4), Tier.B, "liked: avg at the B threshold"),
    (facts(grade=2, n=1, avg=3.0, mx=3), Tier.C, "lukewarm"),
    (facts(grade=4, trl=6), Tier.B, "unevaluated, high self grade, pilot-scale"),
    (facts(grade=5, trl=5), Tier.C, "unevaluated, immature: self-rating alone is not enough"),
    (facts(grade=3, trl=9), Tier.C, "unevaluated, middling self grade"),
    (facts(grade=5, trl=9), Tier.B, "self-ratings alone never reach A"),
    (facts(grade=None, trl=None, willingness=None), Tier.C, "incomplete data"),
]


@pytest.mark.parametrize(("f", "tier", "why"), CASES, ids=[c[2] for c in CASES])
def test_tier_rule(f, tier, why):
    result = compute_tier(f)
    assert result.tier == tier, why
    assert result.reasons and all(result.reasons)


def test_double_five_needs_both_sides():
    assert facts(grade=5, mx=5, n=1, avg=5.0).double_five
    assert not facts(grade=4, mx=5, n=1, avg=5.0).double_five
    assert not facts(grade=5, mx=4, n=1, avg=4.0).double_five
    assert not facts(grade=5).double_five


def test_thresholds_are_configurable():
    f = facts(grade=3, trl=5, n=2, avg=4.0, mx=4, interested=1)
    assert compute_tier(f).tier == Tier.A
    stricter = rules_from_mapping({"a_min_avg": 4.5})
    assert stricter.a_min_avg == 4.5 and stricter.d_max_avg == DEFAULT_RULES.d_max_avg
    assert compute_tier(f, stricter).tier == Tier.B
    assert rules_from_mapping('{"a_min_trl": 7}').a_min_trl == 7
    assert rules_from_mapping(None) is DEFAULT_RULES


@pytest.mark.parametrize(
    "bad", [{"nonsense": 1}, {"a_min_avg": "high"}, {"a_min_trl": True}, "[1, 2]"]
)
def test_bad_configuration_is_refused(bad):
    with pytest.raises(ValueError, match="tier thresholds?|JSON object"):
        rules_from_mapping(bad)


# Boundary values around every threshold of the default rules.
GRID = list(
    itertools.product(
        (None, 1, 3, 4, 5),  # self grade
        (None, 3, 4, 6),  # TRL
        ("willing", "not_now", None),
        (
            (0, None, None),
            (1, 3.0, 3),
            (1, 3.5, 4),
            (1, 5.0, 5),
            (2, 2.0, 3),
            (2, 2.5, 3),
            (2, 4.0, 5),
            (3, 4.5, 5),
        ),  # (n, avg, max)
        (0, 1),  # interested
    )
)


GRID_TABLE = sa.Table(
    "tier_grid_test",
    sa.MetaData(),
    sa.Column("i", sa.Integer, primary_key=True),
    sa.Column("grade", sa.Integer),
    sa.Column("trl", sa.Integer),
    sa.Column("willingness", sa.String(20)),
    sa.Column("n", sa.Integer),
    sa.Column("avg", sa.Float),
    sa.Column("mx", sa.Integer),
    sa.Column("interested", sa.Integer),
)


@pytest.fixture
def grid(app):
    """The GRID as rows of a scratch table (dropped after the test)."""
    rows = [
        {
            "i": i,
            "grade": g,
            "trl": t,
            "willingness": w,
            "n": n,
            "avg": avg,
            "mx": mx,
            "interested": interested if n else 0,
        }
        for i, (g, t, w, (n, avg, mx), interested) in enumerate(GRID)
    ]
    GRID_TABLE.create(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(GRID_TABLE.insert(), rows)
        yield rows
    finally:
        db.session.rollback()  # release the session's lock on the table (PostgreSQL)
        GRID_TABLE.drop(db.engine)


@pytest.mark.parametrize("rules", [DEFAULT_RULES, rules_from_mapping({"d_min_evals": 1})])
def test_sql_mirror_agrees_with_the_rule(grid, rules):
    c = GRID_TABLE.c
    expr = tier_sql(
        rules,
        grade=c.grade,
        trl=c.trl,
        willingness=c.willingness,
        n=c.n,
        avg=c.avg,
        mx=c.mx,
        interested=c.interested,
        not_now="not_now",
    )
    got = dict(db.session.execute(sa.select(c.i, expr)).all())
    assert len(got) == len(grid)
    tiers_seen = set()
    for r in grid:
        facts_ = TierFacts(
            r["grade"], r["trl"], r["willingness"], r["n"], r["avg"], r["mx"], r["interested"]
        )
        expected = compute_tier(facts_, rules).tier
        tiers_seen.add(expected)
        assert got[r["i"]] == expected.value, r
    assert tiers_seen == set(Tier)  # the grid exercises every tier
