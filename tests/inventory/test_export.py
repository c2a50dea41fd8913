"""Exports re-import cleanly (round trip through match_header + validate_record) and are safe."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from revive.accounts.models import Role
from revive.inventory import services
from revive.inventory.fields import FIELDS, MODEL_KEYS, match_header, validate_record
from revive.inventory.models import EntryStatus
from tests.factories import make_college, make_org, make_patent, make_user

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
