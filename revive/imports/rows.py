"""Row-level building blocks shared by every import kind: column mapping, row results, batches.

A kind's row spec maps the header with ``map_columns`` (given its own header matcher), checks
each row into a ``RowResult`` (issues carry the column as written in the file and a Chinese
reason) and plans a batch (new / changed / unchanged). Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, Protocol

from revive.common.fields import clean_text
from revive.common.spreadsheets import ERROR_VALUES
from revive.imports.reader import CellNote, FileRejected, line_label

VALUE_MAX = 500  # ImportRowError.value length


class FieldLike(Protocol):
    key: str
    label: str
    importable: bool


@dataclass
class ColumnMap:
    header: list[str]
    fields: dict[int, Any]  # column index → field (has .key, .label)
    ignored: list[str]  # headers that match no field at all
    labels: Mapping[str, str] = field(default_factory=dict)  # field key → label
    # Headers of export-only fields (入库状态, 所属高校（单位）…): recognised, never read, so an
    # exported file imports back; the preview names them apart from the unknown ones (a school
    # re-importing its export read 「未能识别」 beside the platform's own columns).
    for_reading: list[str] = field(default_factory=list)

    def header_for(self, key: str) -> str:
        for index, f in self.fields.items():
            if f.key == key:
                return self.header[index]
        return self.labels.get(key, key)

    def index_of(self, key: str) -> int | None:
        for index, f in self.fields.items():
            if f.key == key:
                return index
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": {self.header[i]: f.key for i, f in self.fields.items()},
            "ignored": self.ignored,
            "for_reading": self.for_reading,
        }


def map_columns(
    header: Sequence[str],
    match: Callable[[Any], FieldLike | None],
    labels: Mapping[str, str],
    *,
    required: Mapping[str, str],
) -> ColumnMap:
    """Map headers to fields. ``required``: field key → the message when that column is missing.

    FileRejected when a required column is missing or two columns mean one field.
    """
    fields: dict[int, Any] = {}
    ignored: list[str] = []
    for_reading: list[str] = []
    by_key: dict[str, list[str]] = {}
    for index, text in enumerate(header):
        if not text:
            continue
        f = match(text)
        if f is None:
            ignored.append(text)
            continue
        if not f.importable:
            for_reading.append(text)
            continue
        fields[index] = f
        by_key.setdefault(f.key, []).append(text)
    clashes = [
        f"{'、'.join(names)}（均对应“{labels.get(k, k)}”）"
        for k, names in by_key.items()
        if len(names) > 1
    ]
    if clashes:
        raise FileRejected("表头中有多列对应同一字段，请只保留一列：" + "；".join(clashes))
    for key, message in required.items():
        if key not in by_key:
            raise FileRejected(message)
    return ColumnMap(list(header), fields, ignored, labels, for_reading)


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
    plan: Any = None

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def reason(self) -> str:
        return "；".join(f"{i.column}：{i.message}" if i.column else i.message for i in self.issues)


def short(text: str) -> str:
    return text if len(text) <= VALUE_MAX else text[: VALUE_MAX - 1] + "…"


def cell_text(value: Any) -> str:
    """A cell's value as a row error quotes it (clean_text, cut to VALUE_MAX): a spreadsheet
    date, which openpyxl reads as a datetime at midnight, reads 2018-01-01 (the error report
    said 2018-01-01 00:00:00); a time of day stays when there is one."""
    if isinstance(value, datetime) and value.tzinfo is None and value.time() == time.min:
        value = value.date()
    return short(clean_text(value))


def raw_cells(columns: ColumnMap, cells: list[Any]) -> dict[str, Any]:
    """The row's raw values keyed by field key (columns the file lacks are absent)."""
    return {f.key: (cells[i] if i < len(cells) else None) for i, f in columns.fields.items()}


def pop_formula_problems(raw: dict[str, Any]) -> list[tuple[str, str]]:
    """Take out of ``raw`` the cells that hold no usable value for a known reason and return
    (field key, Chinese message) for each: a formula's error result (#REF!, #DIV/0!, …: e.g. a
    DDE formula ``=cmd|' /C calc'!A0``), a formula saved without a result, a cell covered by
    a merged range (reader.CellNote). Formulas are never evaluated: only saved results count."""
    problems = []
    for key, value in list(raw.items()):
        if isinstance(value, CellNote):
            del raw[key]
            problems.append((key, value.problem))
        elif isinstance(value, str) and value.strip().upper() in ERROR_VALUES:
            del raw[key]
            problems.append((key, f"公式的计算结果是错误值 {value.strip()}：请改为直接填写内容"))
    return problems


class SheetLines:
    """For a row spec: names a line of the file in its messages (第 4 行, or 发明专利 第 4 行
    when the rows come from several sheets: the imports service sets ``sheet_names``)."""

    sheet_names: tuple[str, ...] = ()

    def line_label(self, line: int) -> str:
        return line_label(line, self.sheet_names)


class SpecLike(Protocol):
    def check(self, line: int, cells: list[Any]) -> RowResult: ...

    def plan(self, results: Sequence[RowResult]) -> None: ...


def batches(
    rows: Iterable[tuple[int, list[Any]]], spec: SpecLike, size: int, *, plan: bool = True
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
