"""The conversion funnel on the constructed pipeline: counts, nesting, rates with denominators,
breakdowns, and SQL-only work (statement count independent of the data)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.dashboard import funnel
from revive.dashboard.funnel import STEPS, Counts, rate_dict
from revive.dashboard.scope import scope_for
from revive.deals.models import ContractKind, DealEvent, Stage
from revive.errors import NotFoundError, PermissionDenied
from revive.extensions import db
from revive.inventory.models import EntryStatus
from revive.templating import format_rate
from tests.dashboard.helpers import make_contract, make_deal, make_evaluation
from tests.factories import make_patent, make_user

PLATFORM = Counts(13, 7, 3, 6, 5, 2)
UNI_A = Counts(10, 4, 2, 3, 2, 1)
UNI_B = Counts(3, 3, 1, 3, 3, 1)
MATERIALS = Counts(4, 2, 1, 2, 1, 0)
ENERGY = Counts(5, 2, 1, 1, 1, 1)


def counts_for(user, university_id=None) -> Counts:
    return funnel.funnel_counts(scope_for(user, university_id).patents())


@pytest.mark.parametrize("role", [Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR])
def test_regional_roles_count_every_university(pipeline, role):
    # 评价: p1, e1, b1 (p3's evaluation does not count: not entered).
    # 推送: p1, p2, e1, b1, b2, b3 (d7 is on p6, which is 退回: not in the pool).
    # 对接: p1 (d1 reached 已接洽 before failing), e1, b1, b2, b3; p2's deals never got there.
    # 签约: e1 (two contracts, counted once), b2.
    assert counts_for(make_user(role)) == PLATFORM


def test_university_and_college_scopes(pipeline):
    w = pipeline.world
    assert counts_for(w.admin_a) == UNI_A
    assert counts_for(w.admin_b) == UNI_B
    assert counts_for(w.college_admin_a) == MATERIALS
    assert counts_for(pipeline.users["energy_admin"]) == ENERGY


def test_regional_filter_narrows_to_one_university(pipeline):
    officer = pipeline.users["o1"]
    assert counts_for(officer, pipeline.world.uni_b.id) == UNI_B
    assert scope_for(officer, pipeline.world.uni_b.id).label == "全平台 · 乙大学"


def test_regional_filter_must_name_a_university(pipeline):
    with pytest.raises(NotFoundError):
        scope_for(pipeline.users["o1"], pipeline.ent_x.id)  # an enterprise, not a university
    with pytest.raises(NotFoundError):
        scope_for(pipeline.users["o1"], 999_999)


def test_university_admin_cannot_widen_scope_with_filter(pipeline):
    w = pipeline.world
    assert counts_for(w.admin_a, w.uni_b.id) == UNI_A


@pytest.mark.parametrize("role", [Role.INVENTOR, Role.ENTERPRISE])
def test_roles_without_funnel_scope_are_refused(pipeline, role):
    with pytest.raises(PermissionDenied):
        scope_for(make_user(role))


def test_every_step_is_a_subset_of_its_base(pipeline):
    for c in (PLATFORM, UNI_A, UNI_B, MATERIALS, ENERGY):
        for step in STEPS:
            if step.base:
                assert c.get(step.key) <= c.get(step.base), (step.key, c)


def test_failed_deal_counts_as_contacted_only_if_history_reached_contacted(pipeline):
    """d1 (p1) went 已推荐 → 已接洽 → 未成交: 对接. d6 (p2) went 已推荐 → 未成交: not 对接.
    Dropping d1's 已接洽 event takes p1 out of 对接."""
    w = pipeline.world
    assert counts_for(w.college_admin_a).contacted == 1
    d1 = pipeline.deals["d1"]
    db.session.execute(
        sa.delete(DealEvent).where(
            DealEvent.deal_id == d1.id, DealEvent.to_stage == Stage.CONTACTED
        )
    )
    db.session.commit()
    assert counts_for(w.college_admin_a).contacted == 0


def test_contract_alone_counts_as_contacted(pipeline):
    """A contract recorded on a deal whose stage was never moved still means the sides met."""
    d7 = pipeline.deals["d7"]  # on p6 (退回); put it back in the pool to see it counted
    pipeline.patents["p6"].status = EntryStatus.ENTERED
    pipeline.patents["p6"].entered_at = pipeline.now
    pipeline.patents["p6"].submitted_at = pipeline.now
    pipeline.patents["p6"].trl, pipeline.patents["p6"].value_grade = 4, 3
    pipeline.patents["p6"].transfer_willingness = "willing"
    make_contract(d7, ContractKind.EQUITY, "1", date(2024, 6, 1))
    db.session.commit()
    c = counts_for(pipeline.users["energy_admin"])
    assert (c.entered, c.pushed, c.contacted, c.signed) == (3, 2, 2, 2)


def test_rates_name_their_denominators():
    c = UNI_A
    assert c.rate("entered") == "40.0%（4 / 10）"
    assert c.rate("evaluated") == "50.0%（2 / 4）"
    assert c.rate("pushed") == "75.0%（3 / 4）"  # base of 推送 is 入库, not 评价
    assert c.rate("contacted") == "66.7%（2 / 3）"
    assert c.rate("signed") == "50.0%（1 / 2）"
    assert funnel.rate_name(funnel.STEP_BY_KEY["pushed"]) == "推送率（推送数 / 入库数）"
    assert Counts().rate("signed") == "—（0 / 0）"


def test_to_dict_carries_both_rates():
    steps = {s["key"]: s for s in UNI_A.to_dict()["steps"]}
    assert steps["inventoried"]["rate_of_base"] is None
    assert steps["signed"]["rate_of_base"] == {
        "numerator": 1,
        "denominator": 2,
        "value": 0.5,
        "display": "50.0%（1 / 2）",
    }
    assert steps["signed"]["rate_of_inventoried"]["display"] == "10.0%（1 / 10）"
    assert steps["pushed"]["base"] == "entered"
    assert "受邀评价不必经过推送" in steps["evaluated"]["definition"]


def test_the_steps_follow_the_pipeline_and_name_their_denominators():
    """A trial read 评价 before 推送 as the wrong way round: an enterprise evaluates a patent
    pushed to it (or one it was invited to), so 推送 comes first; 评价 still narrows 入库 (an
    invited enterprise evaluates a patent never pushed), which the chart's bars say."""
    assert [s.label for s in STEPS] == ["盘点", "入库", "推送", "评价", "对接", "签约"]
    assert [funnel.axis_label(s) for s in STEPS][2:4] == ["推送（/ 入库数）", "评价（/ 入库数）"]
    assert [s["key"] for s in UNI_A.to_dict()["steps"]][2:4] == ["pushed", "evaluated"]
    # the stored order (SQL columns, cached lists) is unchanged: cached figures read back right
    assert funnel.KEYS[2:4] == ("evaluated", "pushed")
    assert funnel._decode_grouped(funnel._encode_grouped({1: UNI_A})) == {1: UNI_A}
    assert Counts(13, 7, 3, 6, 5, 2) == UNI_A + UNI_B  # noqa: SIM300


def test_breakdown_by_university_lists_idle_universities(pipeline):
    lines = {x.name: x.counts for x in funnel.by_university(sa.true())}
    assert lines == {"甲大学": UNI_A, "乙大学": UNI_B, "丙学院": Counts()}
    assert funnel.total_of(funnel.by_university(sa.true())) == PLATFORM


def test_breakdown_by_college_includes_empty_and_unassigned(pipeline):
    w = pipeline.world
    scope = scope_for(w.admin_a)
    lines = {x.name: x.counts for x in funnel.by_college(scope.patents(), w.uni_a.id)}
    assert lines == {
        "材料学院": MATERIALS,
        "能源学院": ENERGY,
        "外国语学院": Counts(),
        "未指定学院": Counts(1, 0, 0, 0, 0, 0),
    }


def test_breakdown_by_industry_uses_gbt4754_sections(pipeline):
    scope = scope_for(pipeline.world.admin_a)
    lines = [(x.key, x.name, x.counts) for x in funnel.by_industry(scope.patents())]
    assert lines == [
        ("C", "C 制造业", Counts(2, 2, 2, 2, 2, 1)),  # p1 ("c3670 …") and e1
        ("D", "D 电力、热力、燃气及水生产和供应业", Counts(1, 1, 0, 0, 0, 0)),  # " D4420 …"
        ("other", "未标注门类代码", Counts(1, 1, 0, 1, 0, 0)),  # p2 "锂电池"
        ("none", "未填写行业", Counts(6, 0, 0, 0, 0, 0)),
    ]
    assert funnel.total_of(funnel.by_industry(scope.patents())) == UNI_A


def _statements(fn) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_funnel_statement_count_does_not_grow_with_data(pipeline):
    """Figures come from GROUP BY statements, not from loading patents or deals one by one."""
    clause = scope_for(pipeline.world.admin_a).patents()
    uni_id = pipeline.world.uni_a.id

    def run():
        funnel.funnel_counts(clause)
        funnel.by_industry(clause)
        funnel.by_college(clause, uni_id)

    before = _statements(run)
    officer = pipeline.users["o1"]
    for i in range(10):
        p = make_patent(
            pipeline.world.uni_a, college=pipeline.world.a_energy, status=EntryStatus.ENTERED
        )
        deal = make_deal(
            pipeline.demands["D3"],
            p,
            officer,
            [Stage.CONTACTED, Stage.SIGNED],
            now=pipeline.now,
            due_in_days=1,
        )
        make_evaluation(p, pipeline.ent_y)
        if i % 2:
            make_contract(deal, ContractKind.LICENSE, "1", date(2024, 1, 1))
    db.session.commit()
    db.session.expire_all()

    assert _statements(run) == before
    assert before <= 4  # funnel 1, industry 1, college 2 (figures + the college names)
    assert funnel.funnel_counts(clause) == Counts(20, 14, 12, 13, 12, 6)


@pytest.mark.parametrize(
    ("numerator", "denominator", "display"),
    [
        (0, 21133, "0.0%（0 / 21133）"),  # none at all: 0.0% is true
        (8, 21133, "<0.1%（8 / 21133）"),  # 0.04%: not "none"
        (1, 2000, "0.1%（1 / 2000）"),  # 0.05% rounds up to a shown 0.1%
        (21132, 21133, ">99.9%（21132 / 21133）"),  # not "all"
        (21133, 21133, "100.0%（21133 / 21133）"),
        (3, 0, "—（3 / 0）"),
    ],
)
def test_small_shares_are_not_shown_as_none(numerator, denominator, display):
    assert format_rate(numerator, denominator) == display
    assert rate_dict(numerator, denominator)["display"] == display  # the API and the export
