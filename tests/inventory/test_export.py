"""Exports re-import cleanly (round trip through match_header + validate_record) and are safe."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.clock import format_date
from revive.common.spreadsheets import csv_chunks, xlsx_chunks
from revive.db import utcnow
from revive.extensions import db
from revive.imports import services as imports
from revive.imports.models import ImportStatus
from revive.inventory import export, queries, services, workflow
from revive.inventory.fields import FIELDS, MODEL_KEYS, match_header, validate_record
from revive.inventory.models import EntryStatus, StatusChange
from tests.factories import make_college, make_org, make_patent, make_user
from tests.statements import statements_run

FULL = {
    "application_no": "ZL 2017 1060 1862.3",
    "title": "一种锂电池负极材料及其制备方法",
    "patent_type": "发明专利",
    "patentees": "测试大学；某某公司",
    "inventors": "张三、李四",
    "contact_name": "王老师",
    "contact_phone": "0471-1234567",
    "contact_email": "Wang@Example.edu.cn",
    "college": "材料学院",
    "filing_date": "2017年7月26日",
    "grant_date": "2019/3/1",
    "legal_status": "有效",
    "ipc_main": "H01M4/133",
    "ipc_all": "H01M4/133;H01M4/587",
    "industry_code": "C3841 锂离子电池制造",
    "emerging_industry": "新能源汽车产业",
    "tech_field": "新能源",
    "abstract": "本发明公开了一种负极材料。\n第二段：容量高、循环寿命长。",
    "problem_solved": "现有石墨负极容量低",
    "advantages": "比容量 > 500 mAh/g",
    "prospects": "可用于动力电池",
    "is_funded": "是",
    "implementation_status": "未实施",
    "transfer_willingness": "愿意",
    "transfer_modes": "普通许可、转让",
    "trl": "TRL 6",
    "value_grade": "★★★★",
    "asking_price": "12.5万元",
    "partner_companies": "某某新能源公司",
}


@pytest.fixture
def admin(app):
    user = make_user(Role.UNIVERSITY_ADMIN)
    make_college(user.organization, "材料学院")
    return user


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, so Excel detects the encoding
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[list[str]]:
    wb = load_workbook(io.BytesIO(data), read_only=True)
    rows = [["" if v is None else v for v in row] for row in wb.active.iter_rows(values_only=True)]
    wb.close()
    return rows


def reimport(rows: list[list[str]]) -> list[dict]:
    """What the importer would make of an exported file: header mapping + validate_record."""
    header = [match_header(h) for h in rows[0]]
    assert all(header), "every exported header maps back to a field"
    results = []
    for row in rows[1:]:
        raw = {f.key: value for f, value in zip(header, row, strict=True) if f.importable}
        result = validate_record(raw)
        assert result.ok, result.errors
        results.append(result.values)
    return results


def download(client, fmt: str, **args) -> bytes:
    resp = client.get(f"/patents/export.{fmt}", query_string=args)
    assert resp.status_code == 200
    data = resp.get_data()
    resp.close()
    return data


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_round_trips_through_the_importer(client, auth, admin, fmt):
    patent = services.create_patent(FULL, institution_id=admin.organization_id, actor=admin)
    sparse = services.create_patent(
        {"application_no": "200810012345.3", "title": "只有必填项"},
        institution_id=admin.organization_id,
        actor=admin,
    )
    auth.login(admin)
    rows = (read_csv if fmt == "csv" else read_xlsx)(download(client, fmt, sort="title"))
    assert rows[0] == [f.label for f in FIELDS]
    assert len(rows) == 3
    back = {values["application_no"]: values for values in reimport(rows)}
    for original in (patent, sparse):
        values = back[original.application_no]
        for key in MODEL_KEYS:
            assert values.get(key) == getattr(original, key), key
        assert values.get("college") == (original.college.name if original.college else None)
    assert back[patent.application_no]["asking_price"] == Decimal("12.50")
    status_col = rows[0].index("入库状态")
    assert {r[status_col] for r in rows[1:]} == {"草稿"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_formula_cells_are_neutralised(client, auth, admin, fmt):
    make_patent(
        admin.organization,
        title='=HYPERLINK("http://evil.example","点我")',
        patentees="@SUM(1+1)",
        contact_name="+张三",
        partner_companies="-1+2",
        advantages='＝HYPERLINK("http://evil.example")',
        problem_solved="＠SUM(1+1)",
        prospects="﹦1+1",
    )
    auth.login(admin)
    data = download(client, fmt)
    rows = read_csv(data) if fmt == "csv" else read_xlsx(data)
    row = dict(zip(rows[0], rows[1], strict=True))
    # CSV has no cell types: an apostrophe makes the text plain; a .xlsx says "text" in the
    # cell's type and shows the text exactly as written
    quote = "'" if fmt == "csv" else ""
    assert row["专利名称"] == quote + '=HYPERLINK("http://evil.example","点我")'
    assert row["专利权人"] == quote + "@SUM(1+1)"
    assert row["联系人"] == quote + "+张三"
    assert row["合作企业"] == quote + "-1+2"
    # the full-width signs a Chinese input method types are read as formulas too
    assert row["技术优势及性能指标"] == quote + '＝HYPERLINK("http://evil.example")'
    assert row["所解决的问题"] == quote + "＠SUM(1+1)"
    assert row["产业化前景描述"] == quote + "﹦1+1"
    if fmt == "xlsx":
        wb = load_workbook(io.BytesIO(data))
        cells = [c for c in wb.active[2]]
        assert all(c.data_type != "f" for c in cells)  # no formula anywhere
        assert wb.active["B2"].data_type == "s" or any(c.data_type == "s" for c in cells)


def test_export_applies_the_list_filters_and_the_users_scope(client, auth, admin):
    entered = make_patent(admin.organization, status=EntryStatus.ENTERED, title="入库的")
    make_patent(admin.organization, title="草稿的")
    make_patent(make_org(), status=EntryStatus.ENTERED, title="别校入库的")
    auth.login(admin)
    rows = read_csv(download(client, "csv", status="entered"))
    assert [r[1] for r in rows[1:]] == [entered.title]
    rows = read_csv(download(client, "csv"))
    assert sorted(r[1] for r in rows[1:]) == ["入库的", "草稿的"]


def test_csv_download_headers(client, auth, admin):
    auth.login(admin)
    resp = client.get("/patents/export.csv")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        "filename*=UTF-8''%E4%B8%93%E5%88%A9%E7%9B%98%E7%82%B9-"
        in resp.headers["Content-Disposition"]
    )
    assert read_csv(resp.get_data()) == [[f.label for f in FIELDS]]
    resp.close()
    resp = client.get("/patents/export.pdf")
    assert resp.status_code == 404


def test_the_regulator_exports_no_contact_details(client, auth, admin):
    """A security review exported every university's contact names, phones and e-mails as
    the regulator, whose role is oversight, not contacting inventors."""
    make_patent(
        admin.organization,
        status=EntryStatus.ENTERED,
        title="有联系人的",
        contact_name="张老师",
        contact_phone="13912345678",
        contact_email="zhang@uni.example.edu.cn",
    )
    labels = [f.label for f in FIELDS]
    contact_cols = [labels.index(f.label) for f in FIELDS if f.key.startswith("contact_")]
    assert len(contact_cols) == 3
    auth.login(admin)
    own = read_csv(download(client, "csv"))
    assert [own[1][i] for i in contact_cols] == [
        "张老师",
        "13912345678",
        "zhang@uni.example.edu.cn",
    ]
    auth.logout()
    auth.login(make_user(Role.REGULATOR))
    seen = read_csv(download(client, "csv"))
    assert seen[1][1] == "有联系人的"
    assert [seen[1][i] for i in contact_cols] == ["", "", ""]


# ---------------------------------------------------------------------------- university, 入库日期

ENTRY_FIELDS = {
    "trl": "5",
    "value_grade": "3",
    "transfer_willingness": "愿意",
    "patentees": "甲大学；某某新材料有限公司",
}


def _walk_in(patent, admin, at, monkeypatch, *actions):
    """Move the patent through ``actions`` at the moment ``at`` (UTC), as its school admin."""
    monkeypatch.setattr(workflow, "utcnow", lambda: at)
    for action in actions:
        services.perform_action(patent.id, action, actor=admin, comment="意见")


def test_the_export_names_each_patents_university_and_the_day_it_last_entered_the_pool(
    client, auth, admin, monkeypatch, enqueued
):
    """A provincial trial's regulator export had only 专利权人 (「甲大学；某公司」 in 38 rows)
    and 所属学院: per-university counts could not be rebuilt, and no column said when a
    patent entered the pool (只有更新时间)."""
    admin.organization.name = "甲大学"
    other = make_org("乙大学")
    other_admin = make_user(Role.UNIVERSITY_ADMIN, organization=other)
    # co-owned: the other university registered it, 甲大学 is a co-owner
    shared = services.create_patent(
        {
            "application_no": "201910012345.1",
            "title": "两校共有的专利",
            **ENTRY_FIELDS,
            "patentees": "乙大学；甲大学",
        },
        institution_id=other.id,
        actor=other_admin,
    )
    own = services.create_patent(
        {"application_no": "201810012345.7", "title": "本校入库后退回又入库", **ENTRY_FIELDS},
        institution_id=admin.organization_id,
        actor=admin,
    )
    make_patent(admin.organization, title="本校草稿")
    # entered, reopened (撤回重审) and entered again: 17:30 UTC on 9 March is already
    # 01:30 on 10 March in Beijing, the day the export must say
    first, again = datetime(2026, 3, 1, 2, 0, tzinfo=UTC), datetime(2026, 3, 9, 17, 30, tzinfo=UTC)
    _walk_in(own, admin, first, monkeypatch, "submit", "enter")
    _walk_in(own, admin, first, monkeypatch, "reopen")
    _walk_in(own, admin, again, monkeypatch, "submit", "enter")
    _walk_in(shared, other_admin, first, monkeypatch, "submit", "enter")
    monkeypatch.undo()

    auth.login(make_user(Role.REGULATOR))
    rows = read_csv(download(client, "csv"))
    header = rows[0]
    by_title = {r[1]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert header.index("所属高校（单位）") == header.index("所属学院") - 1
    assert by_title["两校共有的专利"]["所属高校（单位）"] == "乙大学"
    assert by_title["两校共有的专利"]["专利权人"] == "乙大学；甲大学"
    assert by_title["本校入库后退回又入库"]["所属高校（单位）"] == "甲大学"
    assert by_title["本校草稿"]["所属高校（单位）"] == "甲大学"
    # the last entry, on Beijing's calendar
    assert by_title["本校入库后退回又入库"]["入库日期"] == "2026-03-10"
    assert by_title["本校入库后退回又入库"]["入库状态"] == "已入库"
    assert by_title["两校共有的专利"]["入库日期"] == "2026-03-01"
    assert by_title["本校草稿"]["入库日期"] == ""
    # the day the status log shows for its last 入库
    last = db.session.scalar(
        sa.select(sa.func.max(StatusChange.created_at)).where(
            StatusChange.patent_id == own.id, StatusChange.to_status == EntryStatus.ENTERED
        )
    )
    assert format_date(last) == "2026-03-10"
    # per-university counts rebuilt from the file
    counts = Counter(r["所属高校（单位）"] for r in by_title.values() if r["入库状态"] == "已入库")
    assert counts == {"甲大学": 1, "乙大学": 1}


def test_the_new_columns_cost_no_query_per_row(client, auth, admin):
    """The university and the entry day come with the rows (a join), not one query each."""
    other = make_org("乙大学")
    for i in range(2):
        make_patent(admin.organization, status=EntryStatus.ENTERED, title=f"入库专利{i}")
    auth.login(make_user(Role.REGULATOR))
    db.session.expire_all()
    with statements_run() as few:
        assert len(read_csv(download(client, "csv"))) == 3
    for i in range(8):
        make_patent(other if i % 2 else admin.organization, status=EntryStatus.ENTERED)
    db.session.expire_all()
    with statements_run() as many:
        assert len(read_csv(download(client, "csv"))) == 11
    assert len(many) == len(few), many


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_with_the_new_columns_imports_again_unchanged(
    admin, tmp_path, fmt, monkeypatch, enqueued
):
    """所属高校（单位） and 入库日期 are export-only: the import recognises the columns and reads
    nothing from them (the university is the one chosen at upload), so the file a school
    exported comes back with every row unchanged and no row refused."""
    patent = services.create_patent(
        {"application_no": "201810012345.7", "title": "入库的专利", **ENTRY_FIELDS},
        institution_id=admin.organization_id,
        actor=admin,
    )
    services.perform_action(patent.id, "submit", actor=admin)
    services.perform_action(patent.id, "enter", actor=admin)
    services.create_patent(
        {"application_no": "200810012345.3", "title": "草稿"},
        institution_id=admin.organization_id,
        actor=admin,
    )
    header = export.header()
    rows = list(map(export.row_values, queries.export_rows(admin, queries.parse_filters({}))))
    institution, entered_on = header.index("所属高校（单位）"), header.index("入库日期")
    assert {r[institution] for r in rows} == {admin.organization.name}
    assert sorted(r[entered_on] for r in rows) == ["", format_date(utcnow())]
    path = tmp_path / f"inventory.{fmt}"
    chunks = xlsx_chunks(header, rows, "专利盘点") if fmt == "xlsx" else csv_chunks(header, rows)
    path.write_bytes(b"".join(chunks))
    job = imports.create_patent_import(
        path, actor=admin, institution_id=admin.organization_id, enqueue=False
    )
    job = imports.validate_job(job.id)
    assert job.status == ImportStatus.VALIDATED, job.error
    counts = job.preview_counts
    assert (counts["new"], counts["changed"], counts["invalid"], counts["unchanged"]) == (
        0,
        0,
        0,
        2,
    )
    columns = job.header_map["columns"]
    assert "所属高校（单位）" not in columns and "入库日期" not in columns
    assert {"所属高校（单位）", "入库日期", "入库状态", "更新时间"} <= set(
        job.header_map["for_reading"]
    )


def test_a_row_of_another_university_in_an_export_is_refused(admin, tmp_path, enqueued):
    """An export spanning universities (a regulator's, an admin's) imported into one university
    would have filed the others' patents under it: a row whose 所属高校（单位） names another
    university is refused with the reason; the university's own rows import."""
    header = ["申请号", "专利名称", "所属高校（单位）", "所属学院"]
    path = tmp_path / "mixed.csv"
    lines = [
        ",".join(header),
        f"201810012345.7,本校的专利,{admin.organization.name},",
        "201810012346.1,别校的专利,乙理工大学,乙校化工学院",  # one error, not 未知学院 too
        "201810012347.6,没写学校的专利,,",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    job = imports.create_patent_import(
        path, actor=admin, institution_id=admin.organization_id, enqueue=False
    )
    job = imports.validate_job(job.id)
    errors = [(e.line, e.column, e.message) for e in imports.first_errors(job)]
    assert (job.preview_counts["new"], job.preview_counts["invalid"]) == (2, 1), errors
    (error,) = imports.first_errors(job)
    assert (error.line, error.column) == (3, "所属高校（单位）")
    assert "乙理工大学" in error.message and admin.organization.name in error.message
    # a school's own sheet with a 高校 column of short names is not the export's column
    from revive.inventory.appno import make_application_no

    path.write_text(
        f"申请号,专利名称,高校\n{make_application_no(2018, 1, 12348)},简称的专利,简称\n",
        encoding="utf-8",
    )
    job = imports.create_patent_import(
        path, actor=admin, institution_id=admin.organization_id, enqueue=False
    )
    job = imports.validate_job(job.id)
    assert (job.preview_counts["new"], job.preview_counts["invalid"]) == (1, 0)
