"""Update rows: 申请号 plus the cells to change; blank cells leave stored values alone, the
clear marker ([清空]) clears one; rules that involve stored values are checked together."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from revive.common.fields import CLEAR_MARKER
from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportStatus
from revive.inventory.fields import validate_record
from revive.inventory.models import EntryStatus, Patent, PatentRevision, Willingness
from tests.factories import make_patent
from tests.imports.helpers import appno, write_csv

FULL = ["申请号", "专利名称", "发明人", "所属学院", "技术成熟度", "意向价格（万元）", "转化意愿"]


def _errors(job):
    return [(e.line, e.column, e.message) for e in services.first_errors(job, 1000)]


def _patent() -> Patent:
    return db.session.scalar(sa.select(Patent).where(Patent.application_no == appno(1)))


@pytest.fixture
def stored(uni):
    patent = make_patent(
        uni.org,
        college=uni.college,
        application_no=appno(1),
        title="一种复合材料的制备方法",
        trl=5,
        asking_price=Decimal("30.00"),
        transfer_willingness=Willingness.WILLING,
        transfer_modes="assignment,license",
        filing_date=date(2019, 3, 1),
    )
    patent.inventors = "张伟；王芳"
    db.session.commit()
    return patent


def test_update_row_needs_only_the_application_number_and_the_changed_cell(
    uni, stored, run_import, tmp_path
):
    # The full template header, every cell blank but 申请号 and 技术成熟度.
    path = write_csv(tmp_path / "f.csv", [[appno(1), "", "", "", "7", "", ""]], header=FULL)
    job = run_import(path, commit=False)
    assert job.preview_counts["invalid"] == 0, _errors(job)
    assert job.preview_counts["changed"] == 1
    services.request_commit(job.id, actor=uni.admin, enqueue=False)
    services.commit_job(job.id)
    patent = _patent()
    assert patent.trl == 7
    assert (patent.title, patent.inventors, patent.college_id) == (
        "一种复合材料的制备方法",
        "张伟；王芳",
        uni.college.id,
    )
    assert patent.asking_price == Decimal("30.00")
    (revision,) = db.session.scalars(sa.select(PatentRevision)).all()
    assert revision.changes == {"trl": [5, 7]}


def test_clear_marker_clears_the_stored_value(uni, stored, run_import, tmp_path):
    path = write_csv(
        tmp_path / "f.csv",
        [[appno(1), "", CLEAR_MARKER, "【清空】", "", " [清空] ", ""]],
        header=FULL,
    )
    job = run_import(path)
    assert job.status == ImportStatus.COMMITTED, job.error
    assert job.result_counts["updated"] == 1, _errors(job)
    patent = _patent()
    assert (patent.inventors, patent.college_id, patent.asking_price) == (None, None, None)
    assert patent.trl == 5 and patent.title == "一种复合材料的制备方法"
    (revision,) = db.session.scalars(sa.select(PatentRevision)).all()
    assert revision.changes["inventors"] == ["张伟；王芳", None]
    assert revision.changes["college"] == [uni.college.name, None]


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        ([appno(1), CLEAR_MARKER, "", "", "", "", ""], "专利名称", "专利名称不能清空"),
        # 暂不 while the stored record keeps its transfer modes: clear them in the same row.
        ([appno(1), "", "", "", "", "", "暂不"], "可接受的转化方式", "暂不"),
    ],
)
def test_update_rows_that_would_break_a_rule_are_invalid(
    uni, stored, run_import, tmp_path, cells, column, message
):
    job = run_import(write_csv(tmp_path / "f.csv", [cells], header=FULL), commit=False)
    assert job.preview_counts["invalid"] == 1
    ((line, col, text),) = _errors(job)
    assert (line, col) == (2, column) and message in text


def test_not_now_with_modes_cleared_in_the_same_row_is_fine(uni, stored, run_import, tmp_path):
    header = ["申请号", "转化意愿", "可接受的转化方式"]
    job = run_import(write_csv(tmp_path / "f.csv", [[appno(1), "暂不", CLEAR_MARKER]], header))
    assert job.result_counts["updated"] == 1, _errors(job)
    patent = _patent()
    assert (patent.transfer_willingness, patent.transfer_modes) == (Willingness.NOT_NOW, None)


def test_an_entered_patent_keeps_its_self_assessment(uni, run_import, tmp_path):
    make_patent(uni.org, application_no=appno(1), status=EntryStatus.ENTERED)
    header = ["申请号", "技术成熟度"]
    path = write_csv(tmp_path / "f.csv", [[appno(1), CLEAR_MARKER]], header)
    job = run_import(path, commit=False)
    assert _errors(job) == [(2, "技术成熟度", "已入库的专利须保留技术成熟度，不能清空")]
    assert _patent().trl == 5


def test_marker_on_a_new_row_is_nothing_to_clear(uni, run_import, tmp_path):
    header = ["申请号", "专利名称", "技术成熟度"]
    job = run_import(write_csv(tmp_path / "f.csv", [[appno(1), "一种材料", CLEAR_MARKER]], header))
    assert job.result_counts["created"] == 1, _errors(job)
    assert _patent().trl is None


def test_college_admin_cannot_clear_the_college(uni, stored, run_import, tmp_path):
    from revive.accounts.models import Role
    from tests.factories import make_user

    college_admin = make_user(Role.COLLEGE_ADMIN, organization=uni.org, college=uni.college)
    header = ["申请号", "所属学院"]
    path = write_csv(tmp_path / "f.csv", [[appno(1), CLEAR_MARKER]], header)
    job = run_import(path, actor=college_admin, commit=False)
    assert _errors(job) == [(2, "所属学院", "学院管理员不能清除专利的学院")]


def test_the_marker_is_no_value_anywhere_else():
    result = validate_record({"application_no": appno(1), "title": CLEAR_MARKER})
    assert result.errors == [
        ("title", f"“{CLEAR_MARKER}”是批量导入时清除已有内容的标记，不能作为专利名称的内容")
    ]


def test_template_explains_update_rows_and_the_marker(tmp_path):
    path = tmp_path / "t.xlsx"
    with path.open("wb") as out:
        services.write_template_xlsx(out)
    guide = [list(r) for r in load_workbook(path)["填写说明"].iter_rows(values_only=True)]
    text = "\n".join(str(c) for r in guide for c in r if c)
    assert "只需填写申请号和要修改的列" in text
    assert CLEAR_MARKER in text
    by_label = {r[0]: r for r in guide[1:]}
    assert by_label["专利名称"][2] == "新登记必填"
    assert by_label["申请号"][2] == "是"
