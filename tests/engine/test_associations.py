"""The associations learned from judged pairs (strength.Associations): which patent words go
with a posting word, a candidate's value from them, and each judged posting's own counts kept
out of its own value."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from revive.engine.strength import (
    Accepted,
    Associations,
    JudgedPairs,
    OwnPairs,
    PoolRows,
    StrengthModel,
    calibrate,
    fit,
)

# Patents by id: their words (as ``text_words`` gives them). 废水 goes with 污水 in the
# relevant patents of two postings; 装置 is everywhere (no lift); 格栅 is in one relevant
# patent only (not enough distinct patents).
WORDS = {
    "a": frozenset({"废水", "氨氮", "装置"}),
    "b": frozenset({"废水", "絮凝", "装置", "格栅"}),
    "c": frozenset({"电池", "装置"}),
    "d": frozenset({"门禁", "装置"}),
    "e": frozenset({"焊接", "装置"}),
    "f": frozenset({"涂层", "装置"}),
    "g": frozenset({"轴承", "装置"}),
    "h": frozenset({"电机", "装置"}),
    "i": frozenset({"绕组", "装置"}),
    "j": frozenset({"定子"}),
}
POSTINGS = [
    ({"污水": 2.0, "养殖": 1.0}, ["a"]),  # two postings using 污水, each with a relevant patent
    ({"污水": 2.0, "处理": 0.5}, ["b"]),
    ({"污水": 2.0}, []),  # unanswered: counts nothing
    ({"电池": 1.0}, ["c"]),
]


def _table(**kw) -> Associations:
    # one pseudo-posting at the background share (the shipped prior, 50, would shrink a toy
    # table's lifts from two postings under the bar)
    kw.setdefault("mu", 1.0)
    return Associations.count(POSTINGS, WORDS, **kw)


def test_a_patent_word_in_the_relevant_patents_of_several_postings_is_an_associate():
    table = _table()
    found = dict(table.associates("污水"))
    assert "废水" in found and found["废水"] == pytest.approx(
        np.log((2 + 2 / 10) / ((2 + 1) * (2 / 10)))
    )
    assert "装置" not in found  # in nearly every patent: no lift over the background
    assert "格栅" not in found  # one relevant patent holds it: not enough
    assert table.associates("电池") == ()  # one posting: not enough


def test_a_candidate_is_valued_by_the_associates_its_text_holds():
    table = _table()
    weights = {"污水": 3.0, "成本": 1.0}
    texts = ["一种养殖废水的处理方法", "一种电池外壳", "污水处理池"]
    value = table.value(weights, texts)
    lift = dict(table.associates("污水"))["废水"]
    assert value[0] == pytest.approx(3.0 / 4.0 * lift)  # 废水: the 污水 share of the weight
    assert value[1] == 0.0
    # the posting's own word is not its own associate: the lexical features count it
    assert value[2] == 0.0


def test_a_word_split_across_two_candidates_texts_does_not_count():
    table = _table()
    value = table.value({"污水": 1.0}, ["含有废", "水的方法"])
    assert value.tolist() == [0.0, 0.0]


def test_a_judged_posting_s_own_counts_are_taken_out_of_its_own_value():
    table = _table()
    own = OwnPairs(frozenset({"污水", "养殖"}), True, {"废水": 1, "氨氮": 1, "装置": 1})
    assert "废水" in dict(table.associates("污水"))
    # without its own relevant patent, one posting is left behind 污水 → 废水: not enough
    assert "废水" not in dict(table.associates("污水", own))
    assert table.value({"污水": 1.0}, ["养殖废水"], own).tolist() == [0.0]
    # a posting that did not use the word leaves its associates alone
    other = OwnPairs(frozenset({"电池"}), True, {"废水": 1})
    assert table.associates("污水", other) == table.associates("污水")


def test_only_the_words_kept_may_be_associates():
    table = _table(keep=lambda v: v != "废水")
    assert "废水" not in dict(table.associates("污水"))
    assert "絮凝" not in table.background  # only associates' background shares are stored


def test_the_table_survives_the_model_file():
    table = _table()
    model = StrengthModel(("score",), (0.0,), (1.0,), (1.0,), 0.0, associations=table)
    again = StrengthModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again.associations == table
    texts = ["一种养殖废水的处理方法", "一种电池外壳"]
    assert np.allclose(
        again.associations.value({"污水": 1.0}, texts), table.value({"污水": 1.0}, texts)
    )


def _pools(rng, n: int, with_values: bool) -> list[PoolRows]:
    """Synthetic judged pools where the ``translated`` value carries part of the label."""
    out = []
    for i in range(n):
        k = 10
        labels = (rng.random(k) < 0.2).astype(int)
        rows = np.column_stack(
            [rng.random(k) + labels * 0.3, rng.random(k), rng.random(k), np.full(k, 1.0 + i % 3)]
        )
        values = labels * rng.random(k) * 2 + rng.random(k) * 0.2
        out.append(
            PoolRows(f"d{i}", rows, labels, 10, False, translated=values if with_values else None)
        )
    return out


def test_the_second_stage_reads_the_translated_value_per_pair_and_reorders_by_it():
    rng = np.random.default_rng(5)
    pools = _pools(rng, 120, True)
    x = np.vstack([p.rows for p in pools])
    y = np.concatenate([p.labels for p in pools])
    table = _table()
    model = calibrate(fit(x, y), pools, associations=table)
    assert model.calibration is not None and "translated" in model.calibration.features
    assert model.associations == table
    at = model.calibration.features.index("translated")
    assert model.calibration.coef[at] > 0
    # two candidates alike but for their texts: the one holding an associate ranks higher
    rows = np.vstack([pools[0].rows[0], pools[0].rows[0]])
    p = model.strengths(
        rows, words=10, texts=["一种电池外壳", "养殖废水处理"], weights={"污水": 1.0}
    )
    assert p[1] > p[0]


def test_without_values_or_a_table_the_second_stage_goes_without_it():
    rng = np.random.default_rng(6)
    pools = _pools(rng, 60, False)
    x = np.vstack([p.rows for p in pools])
    y = np.concatenate([p.labels for p in pools])
    model = calibrate(fit(x, y), pools, associations=_table())
    assert model.calibration is not None and "translated" not in model.calibration.features
    assert model.associations is None
    model = calibrate(fit(x, y), _pools(rng, 60, True))
    assert "translated" not in model.calibration.features


def test_a_relevant_patent_another_posting_shares_stays_counted_when_one_is_left_out():
    # Three postings using 污水; two share the relevant patent a. Without the third, a and b
    # still hold 废水: two distinct patents, two postings — still an associate.
    postings = [({"污水": 1.0}, ["a"]), ({"污水": 1.0}, ["b"]), ({"污水": 1.0}, ["a"])]
    table = Associations.count(postings, WORDS, mu=1.0)
    assert "废水" in dict(table.associates("污水"))
    shared = OwnPairs(frozenset({"污水"}), True, {"废水": 1, "氨氮": 1, "装置": 1}, {})
    assert "废水" in dict(table.associates("污水", shared))
    # counted as if its patent were its alone, the associate would wrongly go
    alone = OwnPairs(frozenset({"污水"}), True, {"废水": 1, "氨氮": 1, "装置": 1})
    assert "废水" not in dict(table.associates("污水", alone))


def _judged(mu: float = 1.0) -> JudgedPairs:
    """What ``_table`` counts, kept as a release keeps it: the answered postings, their
    relevant patents' words and every patent's words counted as background."""
    return JudgedPairs(
        2,
        3.0,
        mu,
        tuple((tuple(sorted(w)), tuple(ids)) for w, ids in POSTINGS if ids),
        {d: WORDS[d] for _, ids in POSTINGS for d in ids},
        dict(Counter(v for words in WORDS.values() for v in words)),
        len(WORDS),
    )


def test_the_kept_judged_pairs_count_the_same_table_again():
    judged = _judged()
    assert judged.table() == _table()
    again = JudgedPairs.from_json(json.loads(json.dumps(judged.to_json())))
    assert again == judged and again.table() == _table()


def test_accepted_pairs_are_counted_as_judged_relevant_pairs_are():
    """Officers' accepted pairs (a refit, matching.learning): each accepted patent is a
    relevant patent of its demand; its words count only where the judged patents have them
    (a share is known); the background stays the judged sets'."""
    judged = _judged()
    assert judged.table().associates("鱼塘") == ()
    accepted = Accepted(
        tuple(({"鱼塘"}, {300 + i: frozenset({"废水", "鱼粉"})}) for i in range(3))
        + (({"污水"}, {201: frozenset({"废水"})}),)
    )
    table = judged.table(accepted)
    assert table.accepted == accepted
    # 鱼塘 → 废水: three demands, three distinct patents; 鱼粉 has no known share
    assert table.pairs["鱼塘"] == {"废水": (3, 3)} and table.postings["鱼塘"] == 3
    assert dict(table.associates("鱼塘"))["废水"] == pytest.approx(
        np.log((3 + 2 / 10) / ((3 + 1) * (2 / 10)))
    )
    assert table.value({"鱼塘": 1.0}, ["养殖废水"])[0] > 0
    # the judged counts stay and the accepted ones add: 污水 → 废水 (2, 2) + (1, 1)
    assert table.pairs["污水"]["废水"] == (3, 3) and table.postings["污水"] == 3
    assert table.background == {"废水": 2 / 10}
    assert Accepted.from_json(json.loads(json.dumps(accepted.to_json()))) == accepted
    assert judged.table() == _table()  # the kept pairs are left as they were


def test_a_patent_both_judged_and_accepted_is_one_patent():
    judged = _judged()
    # a, already relevant to a 污水 posting, accepted for another: two postings, one patent
    # more only where it is new
    table = judged.table(Accepted(((frozenset({"污水"}), {"a": WORDS["a"]}),)))
    assert table.pairs["污水"]["废水"] == (3, 2)
