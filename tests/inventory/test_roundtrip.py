"""Export → import is the identity on anything the platform can hold (property tests).

Records are generated through the field table: raw cells as people type them (lists with any
separator, IPC codes spelled loosely, enum synonyms, prices with 万元, formula-like text,
control characters …), parsed by ``fields.validate_record``, stored through the service the
form uses, exported (CSV and XLSX) and imported again as a dry run: nothing new, nothing
changed, nothing invalid. The demo data gets the same check in tests/demo/test_roundtrip.py.
"""

from __future__ import annotations

from datetime import date
from itertools import count

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from revive.accounts.models import Role
from revive.common.spreadsheets import csv_chunks, safe_cell, xlsx_chunks
from revive.extensions import db
from revive.imports import services as imports
from revive.imports.models import ImportRowError, ImportStatus
from revive.inventory import export, queries, services
from revive.inventory.appno import make_application_no
from revive.inventory.fields import (
    FIELDS_BY_KEY,
    IMPORT_FIELDS,
    canonical,
    display_value,
    same_value,
    validate_record,
)
from revive.inventory.models import ImplementationStatus, PatentType, TransferMode, Willingness
from tests.factories import make_college, make_org, make_user

TODAY = date.today()
SEPARATORS = [";", "；", "、", ",", "，", "\n", " ; ", "、 "]
CHARS = list("专利材料方法装置一种的和与及复合高强度锂电池张王李赵伟芳强")
CHARS += list("abcXYZN019 \t\n'\"=+-@#!?/;；,，、()（）[]【】.%_")
CHARS += ["\x01", "\u3000", "\r", "\x7f"]
TRICKY = [
    "#N/A",
    "'=1+2",
    "''x",
    "'",
    "=SUM(A1)",
    "+86 10 1234",
    "-",
    "@x",
    "  多  空格 ",
    "_x0041_",
]

text = st.one_of(st.text(st.sampled_from(CHARS), max_size=40), st.sampled_from(TRICKY))
name = st.one_of(
    st.text(st.sampled_from(list("张王李赵伟芳强明华")), min_size=1, max_size=4),
    st.sampled_from(["John Smith", "示范大学", "某某科技有限公司", "O'Neil"]),
)
ipc = st.tuples(
    st.sampled_from("ABCDEFGH"),
    st.integers(1, 99),
    st.sampled_from("ABCDKLMNQ"),
    st.integers(1, 9999),
    st.integers(0, 999999),
    st.sampled_from(["{}{:02d}{} {}/{:02d}", "{}{:02d}{}{}/{:02d}", "{}{:02d}{} {} / {:02d}"]),
    st.booleans(),
).map(lambda t: t[5].format(t[0], t[1], t[2], t[3], t[4]).lower() if t[6] else t[5].format(*t[:5]))


def joined(items: st.SearchStrategy[str], max_size: int = 4) -> st.SearchStrategy[str]:
    return st.tuples(
        st.lists(items, min_size=1, max_size=max_size), st.sampled_from(SEPARATORS)
    ).map(lambda t: t[1].join(t[0]))


def enum_raw(enum_cls, synonyms=()) -> st.SearchStrategy:
    return st.one_of(
        st.none(),
        st.sampled_from([m.label for m in enum_cls] + [m.value for m in enum_cls] + list(synonyms)),
    )


@st.composite
def records(draw, colleges: list[str], serials) -> dict:
    """One raw record, as a person would type it; mostly valid (invalid ones are skipped)."""
    year = draw(st.integers(2003, TODAY.year))
    kind = draw(st.sampled_from([1, 2, 3]))
    filed = draw(st.dates(date(year, 1, 1), min(date(year, 12, 31), TODAY)))
    granted = draw(st.one_of(st.none(), st.dates(filed, TODAY)))
    willingness = draw(enum_raw(Willingness, ["愿意转化", "暂不转化"]))
    not_now = willingness in ("暂不", "not_now", "暂不转化")
    modes = draw(
        st.lists(st.sampled_from([m.label for m in TransferMode] + ["许可", "入股", "合作研发"]))
    )
    raw = {
        "application_no": make_application_no(year, kind, next(serials)),
        "title": draw(text.filter(lambda t: t.strip(" \t\n\r\x01\x7f\u3000'") != "")),
        "patent_type": draw(
            st.sampled_from([None, PatentType(["invention", "utility", "design"][kind - 1]).label])
        ),
        "patentees": draw(st.one_of(st.none(), joined(name, 3))),
        "inventors": draw(st.one_of(st.none(), joined(name, 6))),
        "contact_name": draw(st.one_of(st.none(), name)),
        "contact_phone": draw(
            st.sampled_from([None, "0571-88888888", "+86 138 0013 8000", "010-1234567转123"])
        ),
        "contact_email": draw(st.sampled_from([None, "Zhang.Wei@Example.EDU.cn", "a_b@x.org"])),
        "college": draw(st.sampled_from([None, *colleges])),
        "filing_date": draw(
            st.sampled_from(
                [
                    filed,
                    filed.isoformat(),
                    f"{filed.year}年{filed.month}月{filed.day}日",
                    filed.strftime("%Y/%m/%d"),
                ]
            )
        ),
        "grant_date": granted,
        "legal_status": draw(st.sampled_from([None, "有效", "审中", "失效"])),
        "ipc_main": draw(st.one_of(st.none(), ipc)),
        "ipc_all": draw(st.one_of(st.none(), joined(ipc, 5))),
        "industry_code": draw(st.one_of(st.none(), text)),
        "emerging_industry": draw(st.one_of(st.none(), text)),
        "tech_field": draw(st.one_of(st.none(), text)),
        "abstract": draw(st.one_of(st.none(), text)),
        "problem_solved": draw(st.one_of(st.none(), text)),
        "advantages": draw(st.one_of(st.none(), text)),
        "prospects": draw(st.one_of(st.none(), text)),
        "is_funded": draw(st.sampled_from([None, "是", "否", True, False, "Y", "无"])),
        "implementation_status": draw(enum_raw(ImplementationStatus, ["未转化", "产业化"])),
        "transfer_willingness": willingness,
        "transfer_modes": None
        if not_now or not modes
        else draw(st.sampled_from(SEPARATORS)).join(modes),
        "trl": draw(
            st.one_of(st.none(), st.integers(1, 9), st.integers(1, 9).map(lambda n: f"TRL{n}"))
        ),
        "value_grade": draw(
            st.one_of(
                st.none(), st.integers(1, 5).map(lambda n: "★" * n), st.integers(1, 5).map(str)
            )
        ),
        "asking_price": draw(
            st.one_of(
                st.none(),
                st.decimals(0, 99999, places=draw(st.integers(0, 3))).map(str),
                st.sampled_from(["1,200万元", "0", "12.5万", "100.10"]),
            )
        ),
        "partner_companies": draw(st.one_of(st.none(), joined(name, 2))),
    }
    return raw


SERIALS = count(1_000_000)


@pytest.mark.parametrize("key", [f.key for f in IMPORT_FIELDS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_value_survives_export_and_import(key, data):
    """Field by field (no database): a parsed value is its own canonical form, i.e. what
    an export cell of it parses back to."""
    raw = data.draw(records(["材料学院"], SERIALS))
    result = validate_record(raw)
    assume(result.ok)
    value = result.values[key]
    assert FIELDS_BY_KEY[key].parse_value(safe_cell(display_value(key, value))) == value
    assert canonical(key, value) == value


@pytest.mark.parametrize(
    ("key", "stored", "imported"),
    [
        ("transfer_modes", "license,assignment", "assignment,license"),
        ("ipc_all", "C22C 38/02; B22F 10/28", "B22F 10/28; C22C 38/02"),
        ("ipc_all", "c22c38/02，B22F10/28;C22C 38/02", "B22F 10/28; C22C 38/02"),
        ("ipc_main", "C22C38/02", "C22C 38/02"),
        ("inventors", "张伟、王芳,李强", "张伟；王芳；李强"),
        ("title", "  一种  材料 ", "一种 材料"),
    ],
)
def test_stored_values_in_another_spelling_compare_equal(key, stored, imported):
    """A record stored otherwise (by hand, an older rule) is not "changed" by re-importing
    the same data, and its export is already in the canonical form."""
    assert same_value(key, stored, imported)
    if key != "title":  # free text is exported as stored; lists and codes canonically
        assert display_value(key, stored) == display_value(key, imported)


def test_inventor_order_is_data():
    assert not same_value("inventors", "张伟；王芳", "王芳；张伟")


def _export(admin, fmt: str, path) -> None:
    rows = map(export.row_values, queries.export_rows(admin, queries.parse_filters({})))
    chunks = (
        xlsx_chunks(export.header(), rows, "专利盘点")
        if fmt == "xlsx"
        else csv_chunks(export.header(), rows)
    )
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_inventories_export_and_reimport_unchanged(app, tmp_path_factory, data):
    org = make_org()
    colleges = [make_college(org, "材料学院").name, make_college(org, "信息学院（软件学院）").name]
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    raws = data.draw(st.lists(records(colleges, SERIALS), min_size=1, max_size=6))
    raws = [r for r in raws if validate_record(r).ok]
    assume(raws)
    for raw in raws:
        services.create_patent(raw, institution_id=org.id, actor=admin)
    folder = tmp_path_factory.mktemp("roundtrip")
    for fmt in ("csv", "xlsx"):
        path = folder / f"inventory.{fmt}"
        _export(admin, fmt, path)
        job = imports.create_patent_import(path, actor=admin, institution_id=org.id, enqueue=False)
        job = imports.validate_job(job.id)
        assert job.status == ImportStatus.VALIDATED, job.error
        errors = db.session.scalars(
            sa.select(ImportRowError).where(ImportRowError.job_id == job.id)
        ).all()
        assert [(e.column, e.value, e.message) for e in errors] == []
        counts = job.preview_counts
        assert (counts["new"], counts["changed"], counts["invalid"]) == (0, 0, 0), counts
        assert counts["unchanged"] == len(raws)
