"""The patent row spec: header mapping and per-row checks with Chinese reasons."""

from __future__ import annotations

import pytest

from revive.imports.reader import FileRejected
from revive.inventory.importers import PatentRowSpec, map_columns
from tests.imports.helpers import appno

COLLEGES = {"材料学院": 1, "计算机学院": 2}


def _spec(header, college_id=None):
    return PatentRowSpec(1, map_columns(header), COLLEGES, college_id=college_id)


@pytest.mark.parametrize(
    "header",
    [
        ["申请号", "专利名称", "所属学院"],
        ["专利申请号", "发明名称", "院系"],  # provincial variants
        ["申请号（必填）", "专利名称*", "学院"],  # decorations
        ["application_no", "title", "college"],  # English keys
        [" Application Number ", "patent_title", "department"],
    ],
)
def test_header_variants_map_to_fields(header):
    spec = _spec(header)
    result = spec.check(2, [f"CN{appno(1)}", "一种材料", "材料学院"])
    assert result.ok, result.reason
    assert result.values["application_no"] == appno(1)
    assert result.values["title"] == "一种材料"
    assert result.values["college"] == "材料学院"


def test_unknown_headers_are_reported_as_ignored_and_export_only_ones_as_for_reading():
    columns = map_columns(["申请号", "备注", "序号", "入库状态", "所属高校（单位）", "入库日期"])
    assert columns.ignored == ["备注", "序号"]
    # export-only: recognised, never read
    assert columns.for_reading == ["入库状态", "所属高校（单位）", "入库日期"]
    assert columns.to_json()["columns"] == {"申请号": "application_no"}


def test_missing_application_number_column_is_a_file_error():
    with pytest.raises(FileRejected, match="找不到“申请号”列"):
        map_columns(["专利名称", "发明人"])


def test_two_columns_for_one_field_is_a_file_error():
    with pytest.raises(FileRejected, match="申请号、专利号"):
        map_columns(["申请号", "专利号", "专利名称"])


HEADER = ["申请号", "专利名称", "专利类型", "申请日", "技术成熟度", "所属学院"]


def _check(cells, spec=None, line=2):
    spec = spec or _spec(HEADER)
    return spec.check(line, cells)


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        (["201710601862.4", "一种材料"], "申请号", "申请号校验位错误"),
        # A blank 专利名称 is no longer an error of the row itself: an update row leaves it
        # alone, a new record is refused when planned (test_update_row_needs_only_*).
        (["", "一种材料"], "申请号", "缺少必填项：申请号"),
        ([appno(1), "一种材料", "发明专利权"], "专利类型", "专利类型取值无效"),
        ([appno(1), "一种材料", "", "1980-01-01"], "申请日", "申请日超出范围"),
        ([appno(1), "一种材料", "", "", "12"], "技术成熟度", "应在 1–9 之间"),
        ([appno(1), "一种材料", "", "", "", "化学学院"], "所属学院", "未知学院：化学学院"),
        ([appno(1), "长" * 10_001], "专利名称", "专利名称过长"),
    ],
)
def test_invalid_rows_get_a_chinese_reason_per_column(cells, column, message):
    result = _check(cells)
    assert not result.ok
    assert any(i.column == column and message in i.message for i in result.issues), result.reason


def test_issue_keeps_the_value_as_written():
    result = _check(["201710601862.4", "一种材料"])
    assert result.issues[0].value == "201710601862.4"


def test_duplicates_within_the_file_point_to_the_first_line():
    spec = _spec(HEADER)
    assert spec.check(2, [appno(1), "一种材料"]).ok
    assert spec.check(3, [appno(2), "另一种材料"]).ok
    dup = spec.check(7, [f"ZL {appno(1)}", "一种材料（重复）"])  # same number once normalised
    assert not dup.ok
    assert dup.issues[0].message == "与第 2 行申请号重复"


def test_college_admin_rows_default_to_their_college_and_others_are_refused():
    spec = _spec(HEADER, college_id=1)
    own = spec.check(2, [appno(1), "一种材料"])
    assert own.ok
    assert own.values["college"] == "材料学院"
    other = spec.check(3, [appno(2), "一种材料", "", "", "", "计算机学院"])
    assert not other.ok
    assert "只能导入本学院（材料学院）" in other.reason


def test_update_only_file_without_title_column_is_valid_per_row():
    result = _spec(["申请号", "技术成熟度"]).check(2, [appno(1), "7"])
    assert result.ok
    assert result.values == {"application_no": appno(1), "trl": 7}
