"""Annual fees (年费): the CNIPA table as data, the next fee and its due date, the fee
reduction (费减), the institution's setting, and where the figures are shown."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.errors import PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import fees, services
from revive.inventory.fees import DEFAULT_TABLE, load_table, next_fee, patent_year
from revive.inventory.models import (
    EntryStatus,
    FeeSetting,
    ImplementationStatus,
    Patent,
    PatentType,
)
from tests.factories import make_college, make_org, make_patent, make_user

INV, U, D = PatentType.INVENTION, PatentType.UTILITY, PatentType.DESIGN


def fee(kind=INV, filed=date(2018, 3, 5), granted=date(2020, 6, 1), today=date(2026, 12, 6), **kw):
    args = {"legal_status": "有效", "patentees": "甲大学", "reduction_pct": 0}
    args.update(kw)
    return next_fee(
        patent_type=kind,
        filing_date=filed,
        grant_date=granted,
        today=today,
        table=load_table(DEFAULT_TABLE),
        **args,
    )


def test_the_packaged_table_is_the_cnipa_schedule_with_its_source():
    table = load_table(DEFAULT_TABLE)
    by_type = {t: f.fees for t, f in table.types.items()}
    assert by_type[INV] == (
        (1, 3, 900),
        (4, 6, 1200),
        (7, 9, 2000),
        (10, 12, 4000),
        (13, 15, 6000),
        (16, 20, 8000),
    )
    assert by_type[U] == ((1, 3, 600), (4, 5, 900), (6, 8, 1200), (9, 10, 2000))
    assert by_type[D] == ((1, 3, 600), (4, 5, 900), (6, 8, 1200), (9, 10, 2000), (11, 15, 3000))
    assert (table.single_pct, table.joint_pct, table.years_from_grant) == (85, 70, 10)
    assert "专利收费标准" in table.source and "财税〔2016〕78号" in table.reduction_source
    assert table.checked


@pytest.mark.parametrize(
    ("filed", "on", "year"),
    [
        (date(2018, 3, 5), date(2018, 3, 5), 1),
        (date(2018, 3, 5), date(2019, 3, 4), 1),
        (date(2018, 3, 5), date(2019, 3, 5), 2),
        (date(2016, 2, 29), date(2017, 2, 28), 2),  # anniversary of 29 Feb: 28 Feb
        (date(2016, 2, 29), date(2017, 2, 27), 1),
    ],
)
def test_patent_years_run_from_the_filing_date(filed, on, year):
    assert patent_year(filed, on) == year


def test_next_fee_is_the_following_years_due_on_the_next_anniversary():
    # filed 2018-03-05, today 2026-12-06: patent year 9, the fee for year 10 due 2027-03-05
    f = fee()
    assert (f.year, f.due, f.full, f.reduction_pct, f.amount) == (
        10,
        date(2027, 3, 5),
        4000,
        0,
        Decimal("4000.00"),
    )
    # on the anniversary itself year 10 has begun: the next is year 11, a year later
    f = fee(today=date(2027, 3, 5))
    assert (f.year, f.due) == (11, date(2028, 3, 5))


@pytest.mark.parametrize(
    ("kind", "filed", "today", "expected"),
    [
        (INV, date(2024, 1, 10), date(2024, 6, 1), (2, 900)),
        (INV, date(2021, 1, 10), date(2024, 6, 1), (5, 1200)),
        (U, date(2021, 1, 10), date(2024, 6, 1), (5, 900)),
        (U, date(2016, 1, 10), date(2024, 6, 1), (10, 2000)),
        (U, date(2015, 1, 10), date(2024, 6, 1), None),  # year 10 of 10: the last
        (INV, date(2005, 1, 10), date(2024, 6, 1), (21, None)),  # beyond 20 years
        (D, date(2021, 7, 1), date(2031, 8, 1), (12, 3000)),  # 15-year term since 2021-06-01
        (D, date(2014, 7, 1), date(2023, 8, 1), None),  # filed before: 10 years
        (INV, date(2010, 1, 10), date(2024, 6, 1), (16, 8000)),
    ],
)
def test_fee_per_type_and_year(kind, filed, today, expected):
    f = fee(kind, filed=filed, granted=filed.replace(year=filed.year + 1), today=today)
    if expected is None or expected[1] is None:
        assert f is None
    else:
        assert (f.year, f.full) == expected


def test_no_fee_before_grant_or_after_lapse():
    assert fee(granted=None) is None
    assert fee(filed=None) is None
    assert fee(legal_status="失效") is None
    assert fee(legal_status="审中") is None
    assert fee(legal_status=None) is not None  # not filled in: granted counts as in force


def test_reduction_85_sole_70_joint_only_within_ten_years_of_grant():
    # granted 2020-06-01 in patent year 3 (filed 2018-03-05): reduced up to year 12
    sole = fee(reduction_pct=85)
    assert (sole.year, sole.reduction_pct, sole.amount) == (10, 85, Decimal("600.00"))
    joint = fee(reduction_pct=85, patentees="甲大学；乙公司")
    assert (joint.reduction_pct, joint.amount) == (70, Decimal("1200.00"))
    assert fee(reduction_pct=70).amount == Decimal("1200.00")
    late = fee(reduction_pct=85, today=date(2029, 12, 1))  # fee for year 13: beyond
    assert (late.year, late.reduction_pct, late.amount) == (13, 0, Decimal("6000.00"))
    last = fee(reduction_pct=85, today=date(2028, 12, 1))  # year 12: grant year 3 + 9
    assert (last.year, last.reduction_pct) == (12, 85)


def test_the_table_file_can_be_overridden(app, tmp_path, monkeypatch):
    data = json.loads(DEFAULT_TABLE.read_text(encoding="utf-8"))
    data["types"]["invention"]["fees"][3] = [10, 12, 4500]
    path = tmp_path / "fees.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setitem(app.config, "REVIVE_ANNUAL_FEE_TABLE", str(path))
    assert load_table().types[INV].fee(10) == 4500
    monkeypatch.setitem(app.config, "REVIVE_ANNUAL_FEE_TABLE", str(tmp_path / "missing.json"))
    with pytest.raises(fees.FeeTableError, match="年费标准文件不存在"):
        load_table()
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(fees.FeeTableError, match="年费标准文件无法读取"):
        fees._load(path)


# ---------------------------------------------------------------------------- the setting


@pytest.fixture
def uni(app):
    org = make_org("示范大学")
    return {"org": org, "admin": make_user(Role.UNIVERSITY_ADMIN, organization=org)}


def test_setting_defaults_then_is_set_by_the_school_admin_and_audited(app, uni):
    org, admin = uni["org"], uni["admin"]
    assert fees.reduction_for(org.id) == fees.Reduction(85, True)
    services.set_fee_reduction(org.id, 70, actor=admin)
    assert fees.reduction_for(org.id) == fees.Reduction(70, False)
    services.set_fee_reduction(org.id, 0, actor=admin)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity == "organization").order_by(AuditEvent.id)
    ).all()
    assert [e.data["changes"]["reduction_pct"] for e in events] == [[None, 70], [70, 0]]
    assert events[0].data["default_was"] == 85
    assert all(e.actor_id == admin.id and e.organization_id == org.id for e in events)
    with pytest.raises(ValidationFailed, match="减缴比例只能是"):
        services.set_fee_reduction(org.id, 50, actor=admin)
    with pytest.raises(PermissionDenied):
        services.set_fee_reduction(make_org("别的大学").id, 85, actor=admin)
    college_admin = make_user(Role.COLLEGE_ADMIN, organization=org, college=make_college(org))
    with pytest.raises(PermissionDenied):
        services.set_fee_reduction(org.id, 85, actor=college_admin)
    assert db.session.get(FeeSetting, org.id).reduction_pct == 0


def test_pages_show_the_fee_and_the_setting(client, auth, uni):
    org = uni["org"]
    granted = make_patent(
        org,
        filing_date=date(2018, 3, 5),
        grant_date=date(2020, 6, 1),
        legal_status="有效",
    )
    pending = make_patent(org, filing_date=date(2023, 3, 5))
    auth.login(uni["admin"])
    page = client.get(f"/patents/{granted.id}").get_data(as_text=True)
    assert 'id="annual-fee"' in page and "年年费" in page and "前缴纳" in page
    assert "尚未授权" in client.get(f"/patents/{pending.id}").get_data(as_text=True)
    listing = client.get("/patents/").get_data(as_text=True)
    assert "下次年费" in listing and " 前</span>" in listing
    page = client.get("/patents/annual-fees").get_data(as_text=True)
    assert "8,000" in page and "财税〔2016〕78号" in page and "（尚未设置，使用平台默认值）" in page
    resp = client.post("/patents/annual-fees/reduction", data={"reduction_pct": "70"})
    assert resp.status_code == 302
    page = client.get("/patents/annual-fees").get_data(as_text=True)
    assert "当前：<strong>70%</strong>" in page
    resp = client.post("/patents/annual-fees/reduction", data={"reduction_pct": "abc"})
    assert "减缴比例只能是" in client.get(resp.location).get_data(as_text=True)


# ---------------------------------------------------------------------------- idle inventory


def test_idle_cost_counts_granted_valid_unimplemented_and_what_abandoning_saves(app, uni):
    org = uni["org"]
    chem = make_college(org, "化学学院")
    today = date(2026, 12, 6)
    base = {"filing_date": date(2018, 3, 5), "grant_date": date(2020, 6, 1)}  # year 10: 4000
    make_patent(org, college=chem, legal_status="有效", **base)  # idle
    make_patent(org, college=chem, **base)  # idle (legal status not filled in)
    make_patent(
        org,
        college=chem,
        status=EntryStatus.ABANDON,
        implementation_status=ImplementationStatus.NOT_IMPLEMENTED,
        **base,
    )  # idle, 建议放弃
    make_patent(org, implementation_status=ImplementationStatus.LICENSED, **base)  # used
    make_patent(org, legal_status="失效", **base)  # lapsed
    make_patent(org, filing_date=date(2024, 1, 1))  # not granted
    make_patent(make_org("别的大学"), **base)  # outside the scope
    services.set_fee_reduction(org.id, 0, actor=uni["admin"])
    cost = fees.idle_cost(Patent.institution_id == org.id, today)
    assert (cost.total.idle, cost.total.idle_cost) == (3, Decimal("12000.00"))
    assert (cost.total.abandon, cost.total.abandon_cost) == (1, Decimal("4000.00"))
    assert [(c.name, c.idle) for c in cost.colleges] == [("化学学院", 3)]
    assert cost.reduction_note == "未计费减"
    services.set_fee_reduction(org.id, 85, actor=uni["admin"])
    cost = fees.idle_cost(Patent.institution_id == org.id, today)
    assert cost.total.idle_cost == Decimal("1800.00")
    assert "85%" in cost.reduction_note


def test_university_dashboard_shows_the_idle_cost_with_its_denominator(client, auth, uni):
    org = uni["org"]
    chem = make_college(org, "化学学院")
    base = {"filing_date": date(2018, 3, 5), "grant_date": date(2020, 6, 1)}
    make_patent(org, college=chem, legal_status="有效", **base)
    make_patent(org, college=chem, status=EntryStatus.ABANDON, **base)
    auth.login(uni["admin"])
    page = client.get("/").get_data(as_text=True)
    assert "闲置专利年维持费" in page and "建议放弃可节省" in page
    assert "2 件闲置专利（已授权、有效、未实施）未来 12 个月应缴年费合计" in page
    assert "1 件「建议放弃」的闲置专利的年费；占闲置专利年维持费 50.0%" in page
    assert 'id="chart-idle-fees"' in page and 'id="table-idle-fees"' in page
    export = client.get("/dashboard/export/idle-fees.csv")
    assert export.status_code == 200
    text = export.get_data(as_text=True)
    assert "化学学院" in text and "合计" in text
    auth.logout()
    auth.login(make_user(Role.REGULATOR))
    assert "闲置专利年维持费" not in client.get("/").get_data(as_text=True)
    assert client.get("/dashboard/export/idle-fees.csv").status_code == 403


# ---------------------------------------------------------------------------- the term


@pytest.mark.parametrize(
    ("kind", "filed", "ended"),
    [
        (PatentType.INVENTION, date(2006, 12, 7), date(2026, 12, 7)),  # ends today
        (PatentType.INVENTION, date(2006, 12, 8), None),  # ends tomorrow
        (PatentType.UTILITY, date(2014, 5, 27), date(2024, 5, 27)),  # a user's finding
        (PatentType.UTILITY, date(2016, 12, 8), None),
        (PatentType.DESIGN, date(2016, 3, 1), date(2026, 3, 1)),  # filed before 2021-06-01: 10
        (PatentType.DESIGN, date(2021, 6, 1), None),  # 15 years
        (PatentType.INVENTION, None, None),  # no 申请日: counted in term
    ],
)
def test_the_term_ends_on_the_anniversary_of_filing_and_sql_agrees(app, kind, filed, ended):
    """A user found a utility model filed in 2014 still 有效, matched 强, pushed and licensed."""
    today = date(2026, 12, 7)
    granted = filed.replace(year=filed.year + 2) if filed else None
    patent = make_patent(
        patent_type=kind, filing_date=filed, grant_date=granted, legal_status="有效"
    )
    assert fees.expired_on(patent, today) == ended
    in_term = db.session.scalar(
        sa.select(sa.func.count()).where(Patent.id == patent.id, fees.in_term_clause(today))
    )
    assert in_term == (0 if ended else 1)
    if ended:
        reason = fees.patent_fee(patent, today).reason
        assert reason == f"保护期已于 {ended.isoformat()} 届满，不再缴纳年费"


def test_an_application_under_examination_pays_later_not_no_more(app):
    """A tester read 「审中：不再缴纳年费」 on a pending application: its fees have not begun."""
    today = date(2026, 12, 7)
    base = {"filing_date": date(2022, 3, 1), "grant_date": date(2024, 3, 1)}
    pending = make_patent(legal_status="审中", **base)
    assert fees.patent_fee(pending, today).reason == "法律状态为「审中」：授权后才缴纳年费"
    lapsed = make_patent(legal_status="失效", **base)
    assert fees.patent_fee(lapsed, today).reason == "法律状态为「失效」：不再缴纳年费"
