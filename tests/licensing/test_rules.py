"""revive.licensing.rules: one test per rule, violated and satisfied, with boundary values.

Pure: no app, no database.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from revive.inventory.models import EntryStatus, PatentType
from revive.licensing import rules
from revive.licensing.rules import PatentFacts, add_years, validate
from tests.licensing.helpers import valid_body

PATENT = PatentFacts(
    patent_type=PatentType.INVENTION,
    patentees="甲大学",
    status=EntryStatus.ENTERED,
    legal_status="有效",
)


def facts(**kw) -> PatentFacts:
    return PatentFacts(**{**PATENT.__dict__, **kw})


def errors_of(body=None, patent: PatentFacts = PATENT) -> list[tuple[str, str]]:
    return validate(body if body is not None else valid_body(), patent)[1]


def keys_of(body=None, patent: PatentFacts = PATENT) -> list[str]:
    return [k for k, _ in errors_of(body, patent)]


def test_valid_declaration_breaks_no_rule():
    terms, errors = validate(valid_body(), PATENT)
    assert errors == []
    assert terms.fee_mode.value == "lump_sum"
    assert str(terms.lump_sum_wan) == "50"


# ---------------------------------------------------------------------------- fee mode


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # 一次性付费: a lump sum, and nothing else
        (valid_body(), []),
        (valid_body(lump_sum_wan=None), ["lump_sum_wan"]),
        (valid_body(royalty_sales_pct="3"), ["royalty_sales_pct"]),
        (valid_body(royalty_profit_pct="3"), ["royalty_profit_pct"]),
        (valid_body(entry_fee_wan="5"), ["entry_fee_wan"]),
        # 提成: exactly one royalty rate, no fixed fee
        (valid_body(fee_mode="royalty", lump_sum_wan=None, royalty_sales_pct="3"), []),
        (valid_body(fee_mode="royalty", lump_sum_wan=None, royalty_profit_pct="10"), []),
        (valid_body(fee_mode="royalty", lump_sum_wan=None), ["royalty"]),
        (
            valid_body(
                fee_mode="royalty", lump_sum_wan=None, royalty_sales_pct="3", royalty_profit_pct="9"
            ),
            ["royalty"],
        ),
        (valid_body(fee_mode="royalty", royalty_sales_pct="3"), ["lump_sum_wan"]),
        (
            valid_body(
                fee_mode="royalty", lump_sum_wan=None, entry_fee_wan="5", royalty_sales_pct="3"
            ),
            ["entry_fee_wan"],
        ),
        # 入门费+提成: an entry fee and one rate
        (
            valid_body(
                fee_mode="entry_plus_royalty",
                lump_sum_wan=None,
                entry_fee_wan="5",
                royalty_sales_pct="3",
            ),
            [],
        ),
        (
            valid_body(fee_mode="entry_plus_royalty", lump_sum_wan=None, royalty_sales_pct="3"),
            ["entry_fee_wan"],
        ),
        (
            valid_body(fee_mode="entry_plus_royalty", lump_sum_wan=None, entry_fee_wan="5"),
            ["royalty"],
        ),
        (
            valid_body(fee_mode="entry_plus_royalty", entry_fee_wan="5", royalty_profit_pct="10"),
            ["lump_sum_wan"],
        ),
    ],
    ids=lambda v: None,
)
def test_fee_mode_must_match_the_amounts(body, expected):
    assert keys_of(body) == expected


@pytest.mark.parametrize("mode", ["", "free", "买断"])
def test_fee_mode_is_required_and_must_be_known(mode):
    assert keys_of(valid_body(fee_mode=mode)) == ["fee_mode"]


def test_fee_mode_accepts_the_chinese_label():
    body = valid_body(fee_mode="入门费+提成", lump_sum_wan=None, entry_fee_wan="1")
    body["royalty_profit_pct"] = "5"
    terms, errors = validate(body, PATENT)
    assert errors == []
    assert terms.fee_mode.value == "entry_plus_royalty"


# ---------------------------------------------------------------------------- caps


@pytest.mark.parametrize(
    ("key", "mode", "ok", "too_much"),
    [
        ("lump_sum_wan", "lump_sum", "2000", "2000.01"),
        ("entry_fee_wan", "entry_plus_royalty", "2000.00", "2000.01"),
        ("royalty_sales_pct", "royalty", "20", "20.01"),
        ("royalty_profit_pct", "royalty", "40", "40.01"),
    ],
)
def test_caps_allow_the_limit_itself_and_refuse_a_cent_more(key, mode, ok, too_much):
    def body(value):
        b = {"fee_mode": mode, "start_date": "2025-01-01", "end_date": "2026-01-01", key: value}
        if mode == "entry_plus_royalty":
            b["royalty_sales_pct"] = "5"
        return b

    assert errors_of(body(ok)) == []
    errors = errors_of(body(too_much))
    assert [k for k, _ in errors] == [key]
    assert "一般不超过" in errors[0][1]


def test_caps_are_module_constants():
    assert (rules.MAX_FIXED_FEE_WAN, rules.MAX_ROYALTY_SALES_PCT) == (2000, 20)
    assert (rules.MAX_ROYALTY_PROFIT_PCT, rules.MIN_PERIOD_YEARS) == (40, 1)


def test_caps_follow_the_constants(monkeypatch):
    monkeypatch.setattr(rules, "MAX_FIXED_FEE_WAN", Decimal("100"))
    assert keys_of(valid_body(lump_sum_wan="100.01")) == ["lump_sum_wan"]
    assert keys_of(valid_body(lump_sum_wan="100")) == []


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("lump_sum_wan", "lump_sum"),
        ("entry_fee_wan", "entry_plus_royalty"),
        ("royalty_sales_pct", "royalty"),
        ("royalty_profit_pct", "royalty"),
    ],
)
def test_amounts_must_not_be_negative_zero_is_allowed(key, mode):
    base = {"fee_mode": mode, "start_date": "2025-01-01", "end_date": "2026-01-01"}
    if mode == "entry_plus_royalty":
        base["royalty_sales_pct"] = "5"
    assert errors_of({**base, key: "0"}) == []
    errors = errors_of({**base, key: "-0.01"})
    [(error_key, message)] = errors
    assert error_key == key and message.endswith("不能为负数")


# ---------------------------------------------------------------------------- period


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ("2025-01-01", "2025-12-31", True),  # exactly one year, both days counted
        ("2025-01-01", "2025-12-30", False),  # one day short
        ("2024-02-29", "2025-02-27", True),  # leap-day start: up to the day before the 28th
        ("2024-02-29", "2025-02-26", False),
        ("2023-03-01", "2024-02-28", False),  # 365 days, but across a leap day: not a year
        ("2023-03-01", "2024-02-29", True),
        ("2025-06-01", "2025-01-01", False),  # ends before it starts
    ],
)
def test_period_is_at_least_one_calendar_year(start, end, ok):
    errors = errors_of(valid_body(start_date=start, end_date=end))
    assert (errors == []) is ok
    if not ok:
        assert [k for k, _ in errors] == ["end_date"]


def test_add_years_moves_a_leap_day_to_the_28th():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert add_years(date(2025, 1, 31), 1) == date(2026, 1, 31)


@pytest.mark.parametrize("key", ["start_date", "end_date"])
def test_dates_are_required_and_parsed(key):
    assert keys_of(valid_body(**{key: ""})) == [key]
    assert keys_of(valid_body(**{key: "2025-13-01"})) == [key]


@pytest.mark.parametrize("day", ["9999-12-31", "9999-01-01", "0001-01-01"])
def test_a_day_at_the_calendars_end_is_refused_not_a_500(day):
    """A security review: a start in 9999 plus the period's years overflowed the calendar."""
    errors = errors_of(valid_body(start_date=day, end_date=day))
    assert {k for k, _ in errors} >= {"start_date"}
    assert any("1985–2100" in m for _, m in errors)


# ---------------------------------------------------------------------------- patent rights


@pytest.mark.parametrize(
    "patentees", ["甲大学；乙公司", "甲大学;乙公司", "甲大学、乙公司", "甲大学,乙公司"]
)
def test_co_owned_patent_needs_every_co_owners_consent(patentees):
    patent = facts(patentees=patentees)
    errors = errors_of(valid_body(), patent)
    assert [k for k, _ in errors] == ["co_owners_consent"]
    assert "甲大学、乙公司" in errors[0][1]
    assert errors_of(valid_body(co_owners_consent="1"), patent) == []


@pytest.mark.parametrize("patentees", ["甲大学", "甲大学；甲大学", "", None])
def test_single_owner_needs_no_consent(patentees):
    assert errors_of(valid_body(), facts(patentees=patentees)) == []


def test_exclusive_licence_in_force_blocks_the_declaration():
    assert keys_of(valid_body(exclusive_licence_in_force="1")) == ["exclusive_licence_in_force"]
    assert keys_of(valid_body(exclusive_licence_in_force="0")) == []


def test_annual_fee_grace_period_blocks_the_declaration():
    assert keys_of(valid_body(in_fee_grace_period=True)) == ["in_fee_grace_period"]
    assert keys_of(valid_body(in_fee_grace_period=False)) == []


def test_pledged_patent_needs_the_pledgees_consent():
    assert keys_of(valid_body(pledged="on")) == ["pledgee_consent"]
    assert keys_of(valid_body(pledged="on", pledgee_consent="on")) == []
    assert keys_of(valid_body(pledged="", pledgee_consent="")) == []


@pytest.mark.parametrize("ptype", [PatentType.UTILITY, PatentType.DESIGN])
def test_utility_models_and_designs_need_an_evaluation_report(ptype):
    patent = facts(patent_type=ptype)
    errors = errors_of(valid_body(), patent)
    assert [k for k, _ in errors] == ["evaluation_report_no"]
    assert ptype.label in errors[0][1]
    assert errors_of(valid_body(evaluation_report_no="  "), patent) != []
    assert errors_of(valid_body(evaluation_report_no="PJ2024-00123"), patent) == []


def test_invention_needs_no_evaluation_report():
    assert errors_of(valid_body(evaluation_report_no=""), PATENT) == []


# ---------------------------------------------------------------------------- the patent


@pytest.mark.parametrize("status", [s for s in EntryStatus if s != EntryStatus.ENTERED])
def test_patent_must_be_entered(status):
    errors = errors_of(valid_body(), facts(status=status))
    assert [k for k, _ in errors] == ["patent"]
    assert status.label in errors[0][1]


def test_patent_with_an_active_declaration_cannot_declare_again():
    assert keys_of(valid_body(), facts(has_active_declaration=True)) == ["patent"]


@pytest.mark.parametrize(
    ("legal", "ok"), [("有效", True), (None, True), ("失效", False), ("审中", False)]
)
def test_patent_must_be_valid(legal, ok):
    assert (errors_of(valid_body(), facts(legal_status=legal)) == []) is ok


# ---------------------------------------------------------------------------- parsing, all at once


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("lump_sum_wan", "五十"),
        ("lump_sum_wan", "1.234"),
        ("lump_sum_wan", "NaN"),
        ("lump_sum_wan", True),
        ("pledged", "也许"),
        ("evaluation_report_no", "X" * 101),
        ("terms", "条" * 2001),
    ],
)
def test_bad_formats_get_one_message_on_their_field(key, value):
    assert keys_of(valid_body(**{key: value})) == [key]


def test_json_numbers_and_booleans_are_accepted():
    body = valid_body(lump_sum_wan=12.5, pledged=True, pledgee_consent=True)
    terms, errors = validate(body, PATENT)
    assert errors == []
    assert str(terms.lump_sum_wan) == "12.5"
    assert terms.pledged and terms.pledgee_consent


def test_every_violated_rule_is_reported_at_once():
    body = {
        "fee_mode": "entry_plus_royalty",
        "lump_sum_wan": "10",
        "entry_fee_wan": "2500",
        "royalty_sales_pct": "25",
        "royalty_profit_pct": "45",
        "start_date": "2024-02-29",
        "end_date": "2025-02-26",
        "exclusive_licence_in_force": "1",
        "in_fee_grace_period": "1",
        "pledged": "1",
    }
    patent = facts(
        patent_type=PatentType.UTILITY,
        patentees="甲大学；乙公司",
        status=EntryStatus.PENDING_SCHOOL,
        has_active_declaration=True,
    )
    keys = keys_of(body, patent)
    assert sorted(keys) == sorted(
        [
            "patent",  # not entered
            "patent",  # already declared
            "lump_sum_wan",  # not part of this mode
            "royalty",  # two rates
            "entry_fee_wan",  # > 2000
            "royalty_sales_pct",  # > 20
            "royalty_profit_pct",  # > 40
            "end_date",  # < 1 year
            "co_owners_consent",
            "exclusive_licence_in_force",
            "in_fee_grace_period",
            "pledgee_consent",
            "evaluation_report_no",
        ]
    )


def test_a_day_that_does_not_exist_and_an_absurd_amount_read_plainly():
    """The form was right and the day was not (2027-02-30): say so rather than ask for a
    format the input already has; 1e308 is not printed out in 309 digits."""
    errors = dict(
        errors_of(
            {
                "fee_mode": "lump_sum",
                "lump_sum_wan": "1e308",
                "start_date": "2027-02-30",
                "end_date": "2028-01-01",
            }
        )
    )
    assert errors["start_date"] == "许可起始日不存在：2027-02-30（请核对月份和日期）"
    assert errors["lump_sum_wan"].endswith("（填写：数值过大）")


def test_a_patent_whose_rights_left_the_university_cannot_be_declared():
    assert errors_of(patent=facts(rights_gone="已转让（实施状态：已转让）")) == [
        ("patent", "该专利已转让（实施状态：已转让），专利权已不属于本单位，不能声明开放许可")
    ]
    assert rules.check_patent(facts(rights_gone=None)) == []
