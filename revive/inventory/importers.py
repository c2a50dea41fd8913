"""The patent row spec for spreadsheet imports, on top of ``inventory.fields``.

``map_columns`` maps a file's header to fields (unknown headers are reported as ignored
columns); ``PatentRowSpec.check`` validates one row without touching the database (field
rules, known college, college-admin scope, duplicate 申请号 within the file);
``PatentRowSpec.plan`` classifies a batch of checked rows as new / changed / unchanged with
one query per batch (``services.plan_rows``). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from revive.imports.reader import FileRejected
from revive.inventory.appno import patent_type_of
from revive.inventory.fields import FIELDS_BY_KEY, Field, clean_text, match_header, validate_record
from revive.inventory.services import RowPlan, plan_rows

KIND = "patents"
VALUE_MAX = 500  # ImportRowError.value length


@dataclass
class ColumnMap:
    header: list[str]
    fields: dict[int, Field]  # column index → field
    ignored: list[str]  # headers that match no importable field

    def header_for(self, key: str) -> str:
        for index, f in self.fields.items():
            if f.key == key:
                return self.header[index]
        return FIELDS_BY_KEY[key].label

    def index_of(self, key: str) -> int | None:
        for index, f in self.fields.items():
            if f.key == key:
                return index
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": {self.header[i]: f.key for i, f in self.fields.items()},
            "ignored": self.ignored,
        }


def map_columns(header: Sequence[str]) -> ColumnMap:
    """Map headers to fields; FileRejected when 申请号 is missing or two columns mean one field."""
    fields: dict[int, Field] = {}
    ignored: list[str] = []
    by_key: dict[str, list[str]] = {}
    for index, text in enumerate(header):
        if not text:
            continue
        f = match_header(text)
        if f is None or not f.importable:
            ignored.append(text)
            continue
        fields[index] = f
        by_key.setdefault(f.key, []).append(text)
    clashes = [
        f"{'、'.join(names)}（均对应“{FIELDS_BY_KEY[k].label}”）"
        for k, names in by_key.items()
        if len(names) > 1
    ]
    if clashes:
        raise FileRejected("表头中有多列对应同一字段，请只保留一列：" + "；".join(clashes))
    if "application_no" not in by_key:
        raise FileRejected("找不到“申请号”列：请使用导入模板，或将表头改为“申请号”")
    return ColumnMap(list(header), fields, ignored)


@dataclass
class RowIssue:
    column: str
    value: str
    message: str


@dataclass
class RowResult:
    line: int
    cells: list[Any]
    values: dict[str, Any] | None = None
    issues: list[RowIssue] = field(default_factory=list)
    kind: str = "invalid"  # invalid | new | changed | unchanged
    plan: RowPlan | None = None

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def reason(self) -> str:
        return "；".join(f"{i.column}：{i.message}" if i.column else i.message for i in self.issues)


def _short(value: Any) -> str:
    text = clean_text(value)
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


class PatentRowSpec:
    """Checks rows of one file for one institution (optionally limited to one college)."""

    def __init__(
        self,
        institution_id: int,
        columns: ColumnMap,
        colleges: dict[str, int],
        *,
        college_id: int | None = None,
    ) -> None:
        self.institution_id = institution_id
        self.columns = columns
        self.colleges = colleges
        self.college_id = college_id
        self.college_name = next((n for n, i in colleges.items() if i == college_id), None)
        self.seen: dict[str, int] = {}  # normalised 申请号 → first line
        self._has_title = columns.index_of("title") is not None

    def _issue(self, result: RowResult, key: str, message: str) -> None:
        index = self.columns.index_of(key)
        value = result.cells[index] if index is not None and index < len(result.cells) else None
        column = self.columns.header_for(key) if key in FIELDS_BY_KEY else ""
        result.issues.append(RowIssue(column, _short(value), message))

    def check(self, line: int, cells: list[Any]) -> RowResult:
        """Validate one row (no database access)."""
        result = RowResult(line, cells)
        raw = {
            f.key: (cells[i] if i < len(cells) else None) for i, f in self.columns.fields.items()
        }
        # partial: a column the file lacks is left alone on existing records (an update-only
        # file with just 申请号 + 技术成熟度 is fine); a present-but-empty required cell is not.
        record = validate_record(raw, partial=True)
        for key, message in record.errors:
            self._issue(result, key, message)
        values = record.values

        name = values.get("college")
        if name and name not in self.colleges:
            self._issue(result, "college", f"未知学院：{name}（须为本校已登记的学院名称）")
        elif self.college_id is not None:
            if not name:
                values["college"] = self.college_name
            elif self.colleges[name] != self.college_id:
                self._issue(
                    result, "college", f"只能导入本学院（{self.college_name}）的专利：{name}"
                )

        appno = values.get("application_no")
        if appno:
            first = self.seen.setdefault(appno, line)
            if first != line:
                self._issue(result, "application_no", f"与第 {first} 行申请号重复")
        if result.ok:
            result.values = values
        return result

    def plan(self, results: Sequence[RowResult]) -> None:
        """Classify the valid rows of a batch (one query); rows found invalid here get issues."""
        valid = [r for r in results if r.ok]
        if not valid:
            return
        plans = plan_rows(self.institution_id, [r.values for r in valid], self.colleges)
        for result, plan in zip(valid, plans, strict=True):
            values = result.values
            assert values is not None
            if plan.kind == "new":
                if not values.get("title"):
                    self._issue(result, "title", "新登记的专利须填写专利名称")
                if values.get("patent_type") is None:
                    values["patent_type"] = patent_type_of(values["application_no"])
            elif (
                self.college_id is not None
                and plan.patent is not None
                and plan.patent.college_id != self.college_id
            ):
                self._issue(result, "application_no", "该专利已登记在其他学院，学院管理员不能修改")
            if result.ok:
                result.kind, result.plan = plan.kind, plan
            else:
                result.values = None


def batches(
    rows: Iterable[tuple[int, list[Any]]], spec: PatentRowSpec, size: int, *, plan: bool = True
) -> Iterator[list[RowResult]]:
    """Check rows and yield them in planned batches of ``size``."""
    batch: list[RowResult] = []
    for line, cells in rows:
        batch.append(spec.check(line, cells))
        if len(batch) >= size:
            if plan:
                spec.plan(batch)
            yield batch
            batch = []
    if batch:
        if plan:
            spec.plan(batch)
        yield batch


def template_rows() -> tuple[list[str], list[list[str]]]:
    """The import template's header and the field-guide rows (字段, 英文键, 必填, 说明, 可选值)."""
    from revive.inventory.fields import IMPORT_FIELDS
    from revive.inventory.models import TransferMode

    header = [f.label for f in IMPORT_FIELDS]
    guide = []
    for f in IMPORT_FIELDS:
        allowed = ""
        if f.enum is not None:
            allowed = "、".join(
                m.label for m in (TransferMode if f.key == "transfer_modes" else f.enum)
            )
        elif f.max_value:
            allowed = f"{f.min_value}–{f.max_value}"
        elif f.parse.__name__ == "_parse_bool":
            allowed = "是、否"
        elif f.parse.__name__ == "_parse_date":
            allowed = "日期，如 2020-05-01"
        guide.append(
            [
                f.label,
                f.key,
                "是" if f.required else "",
                f.help,
                allowed,
                "、".join(a for a in f.aliases if not a.isascii()),
            ]
        )
    return header, guide
