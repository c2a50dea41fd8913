"""The patent row spec for spreadsheet imports, on top of ``inventory.fields``.

``map_columns`` maps a file's header to fields (unknown headers are reported as ignored
columns); ``PatentRowSpec.check`` validates one row without touching the database (field
rules, known college, college-admin scope, duplicate 申请号 within the file);
``PatentRowSpec.plan`` classifies a batch of checked rows as new / changed / unchanged with
one query per batch (``services.plan_rows``), refusing rows that would move a stored patent
to another college against ``permissions.college_change_refusal`` or break a rule together
with the stored values. Nothing here writes.

An update row needs only 申请号 and the cells to change: blank cells (and missing columns)
leave stored values alone, a cell holding ``fields.CLEAR_MARKER`` ("[清空]") clears one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from revive import signals
from revive.accounts.models import Organization, Role, User
from revive.clock import format_dt
from revive.common.fields import CLEAR_MARKER, clean_text, is_clear_marker, template_guide
from revive.db import as_utc
from revive.extensions import db
from revive.imports import registry
from revive.imports.models import ImportJob, ImportStatus
from revive.imports.rows import (
    ColumnMap,
    RowIssue,
    RowResult,
    SheetLines,
    batches,
    cell_text,
    pop_formula_problems,
    raw_cells,
)
from revive.imports.rows import map_columns as _map_columns
from revive.imports.services import IMPORT_ROLES
from revive.inventory.appno import patent_type_of
from revive.inventory.fields import (
    FIELDS_BY_KEY,
    IMPORT_FIELDS,
    NOT_CLEARABLE,
    display_value,
    match_header,
    validate_record,
)
from revive.inventory.models import EntryStatus
from revive.inventory.permissions import edit_refusal
from revive.inventory.services import RowPlan, college_index, plan_rows, upsert_rows
from revive.inventory.workflow import SELF_ASSESSMENT

KIND = "patents"
__all__ = ["KIND", "ColumnMap", "PatentRowSpec", "RowIssue", "RowResult", "batches", "map_columns"]
_LABELS = {k: f.label for k, f in FIELDS_BY_KEY.items()}
MAX_APPNO_TEXT = 40  # "ZL 2017 1060 1862.3" and similar spellings stay well below


def map_columns(header: Sequence[str]) -> ColumnMap:
    """Map headers to fields; FileRejected when 申请号 is missing or two columns mean one field."""
    return _map_columns(
        header,
        match_header,
        _LABELS,
        required={"application_no": "找不到“申请号”列：请使用导入模板，或将表头改为“申请号”"},
    )


def _short(value: Any) -> str:
    return cell_text(value)


class PatentRowSpec(SheetLines):
    """Checks rows of one file for one institution (optionally limited to one college)."""

    def __init__(
        self,
        institution_id: int,
        columns: ColumnMap,
        colleges: dict[str, int],
        *,
        college_id: int | None = None,
        actor: User | None = None,
        previewed_at: datetime | None = None,
        institution_name: str | None = None,
    ) -> None:
        self.institution_id = institution_id
        # An export names each row's university (所属高校（单位）, never read as a value): a
        # row of another university is refused, so a regulator's or admin's export spanning
        # universities cannot file their patents under this one.
        self.institution_name = clean_text(institution_name) or None
        # only under the export's own header: a school's sheet may have a 高校 column with
        # its short name (清华), and a university renamed since its export still matches
        export_label = FIELDS_BY_KEY["institution"].label
        self._institution_at = next(
            (i for i, h in enumerate(columns.header) if clean_text(h) == export_label), None
        )
        self.actor = actor  # who imports (None: the command line), for the college rule
        # At commit: when the preview the user confirmed was made. A stored patent changed
        # since then is not overwritten (someone edited it, or reviewed it, meanwhile).
        self.previewed_at = as_utc(previewed_at)
        self.columns = columns
        self.colleges = colleges
        self.college_id = college_id
        self.college_name = next((n for n, i in colleges.items() if i == college_id), None)
        self.seen: dict[str, int] = {}  # normalised 申请号 → first line
        # The preview's account of the changed rows (preview_extra): how many change a patent
        # already 已入库 (the pool shows it), and the first CHANGED_LISTED rows' changes.
        self.changed_entered = 0
        self.changed_rows: list[dict[str, Any]] = []
        # Rows the preview warns about (imported all the same): new patents without the
        # self-assessment they need to enter the pool, and patents whose 专利权人 does not
        # name the university (an ops trial imported 3,139 of 4,780 rows owned by 华为 … under
        # a university, nothing said; later 0 of 4,780 could enter, for want of the grading).
        self.ungraded = 0
        self.not_owned = 0
        self.not_owned_shown: list[str] = []
        self._has_title = columns.index_of("title") is not None

    def _issue(self, result: RowResult, key: str, message: str) -> None:
        index = self.columns.index_of(key)
        value = result.cells[index] if index is not None and index < len(result.cells) else None
        column = self.columns.header_for(key) if key in FIELDS_BY_KEY else ""
        result.issues.append(RowIssue(column, _short(value), message))

    def check(self, line: int, cells: list[Any]) -> RowResult:
        """Validate one row (no database access)."""
        result = RowResult(line, cells)
        raw = raw_cells(self.columns, cells)
        for key, message in pop_formula_problems(raw):
            self._issue(result, key, message)
        appno_text = clean_text(raw.get("application_no"))
        if len(appno_text) > MAX_APPNO_TEXT:
            # normalize_application_no would echo the whole cell back in its message
            del raw["application_no"]
            self._issue(
                result,
                "application_no",
                f"申请号过长：{len(appno_text)} 个字符"
                "（应为 12 位数字加校验位，如 201710601862.3）",
            )
        # An update row needs only 申请号 and the cells to change: a column the file lacks and
        # a blank cell both leave the stored value alone; CLEAR_MARKER clears it. (A new
        # record still needs its 专利名称: ``plan`` knows which rows are new.)
        cleared: set[str] = set()
        for key in list(raw):
            if key == "application_no":
                continue
            if is_clear_marker(raw[key]):
                cleared.add(key)
                del raw[key]
            elif not clean_text(raw[key]):
                del raw[key]
        record = validate_record(raw, partial=True)
        for key, message in record.errors:
            self._issue(result, key, message)
        values = {k: v for k, v in record.values.items() if v is not None}
        for key in sorted(cleared):
            if key in NOT_CLEARABLE:
                self._issue(result, key, f"{_LABELS[key]}不能清空")
            elif key == "college" and self.college_id is not None:
                self._issue(result, key, "学院管理员不能清除专利的学院")
            else:
                values[key] = None

        at = self._institution_at
        owner = clean_text(cells[at]) if at is not None and at < len(cells) else ""
        foreign = bool(owner and self.institution_name and owner != self.institution_name)
        if foreign:
            result.issues.append(
                RowIssue(
                    self.columns.header[at],  # type: ignore[index]
                    _short(owner),
                    f"这一行是「{owner}」的专利，不能导入到「{self.institution_name}」："
                    "请只导入本单位的行",
                )
            )

        name = values.get("college")
        if foreign:
            pass  # its college is another university's: one error for the row, not two
        elif name and name not in self.colleges:
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
                self._issue(result, "application_no", f"与{self.line_label(first)}申请号重复")
        if result.ok:
            result.values = values
        return result

    def plan(self, results: Sequence[RowResult]) -> None:
        """Classify the valid rows of a batch (one query); rows found invalid here get issues."""
        valid = [r for r in results if r.ok]
        if not valid:
            return
        plans = plan_rows(
            self.institution_id, [r.values for r in valid], self.colleges, actor=self.actor
        )
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
            elif plan.kind == "changed" and (refusal := edit_refusal(self.actor, plan.patent)):
                # The edit form's rule (permissions.can_edit): a college admin changes no
                # patent past 待学院审核 (待学校审核, 已入库, …), by import no more than by form.
                self._issue(result, "application_no", refusal)
            elif plan.refusal is not None:
                self._issue(result, "college", plan.refusal)
            elif (
                plan.kind == "changed"
                and plan.patent is not None
                and self.previewed_at is not None
                and as_utc(plan.patent.updated_at) > self.previewed_at
            ):
                when = format_dt(plan.patent.updated_at)
                self._issue(
                    result,
                    "application_no",
                    f"预检之后（{when}）该专利已被修改，为免覆盖这次修改，此行未导入："
                    "如仍需导入，请重新上传以对照最新内容",
                )
            for key, message in plan.problems:
                self._issue(result, key, message)
            if result.ok:
                result.kind, result.plan = plan.kind, plan
                if plan.kind == "changed":
                    self._note_change(result.line, plan, values)
                self._note_warnings(result.line, plan, values)
            else:
                result.values = None

    def _note_warnings(self, line: int, plan: RowPlan, values: dict[str, Any]) -> None:
        if plan.kind == "new" and any(values.get(key) is None for key, _ in SELF_ASSESSMENT):
            self.ungraded += 1
        owners = values.get("patentees")
        if owners and self.institution_name and self.institution_name not in owners:
            self.not_owned += 1
            if len(self.not_owned_shown) < NOT_OWNED_SHOWN:
                self.not_owned_shown.append(f"{self.line_label(line)}：{_cut(owners)}")

    def _note_change(self, line: int, plan: RowPlan, values: dict[str, Any]) -> None:
        """Count a changed row (and whether its patent is 已入库) and, for the first
        CHANGED_LISTED, keep what it changes: [字段, 原值, 新值] as shown."""
        patent = plan.patent
        assert patent is not None
        entered = patent.status == EntryStatus.ENTERED
        self.changed_entered += entered
        if len(self.changed_rows) >= CHANGED_LISTED:
            return
        fields = []
        for key, (old, new) in plan.changes.items():
            if key != "college":  # the college's change holds names already
                old, new = display_value(key, getattr(patent, key)), display_value(key, values[key])
            fields.append([_LABELS.get(key, key), _cut(old), _cut(new)])
        self.changed_rows.append(
            {
                "line": line,
                "application_no": patent.application_no,
                "entered": entered,
                "fields": fields,
            }
        )

    def preview_extra(self) -> dict[str, Any]:
        """Added to the job's preview counts (only what there is: most files change nothing)."""
        extra: dict[str, Any] = {}
        if self.changed_entered:
            extra["changed_entered"] = self.changed_entered
        if self.changed_rows:
            extra["changed_rows"] = self.changed_rows
        if self.ungraded:
            extra["ungraded"] = self.ungraded
        if self.not_owned:
            extra["not_owned"] = self.not_owned
            extra["not_owned_shown"] = self.not_owned_shown
            extra["institution"] = self.institution_name
        return extra


CHANGED_LISTED = 200  # changed rows whose changes the preview lists
NOT_OWNED_SHOWN = 3  # rows whose 专利权人 lacks the university that the preview quotes
CHANGE_SHOWN = 30  # characters of an old or new value the preview shows


def _cut(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= CHANGE_SHOWN else text[:CHANGE_SHOWN] + "…"


def template_rows() -> tuple[str, list[str], list[list[str]]]:
    """The import template: sheet title, header row and the field guide (whose first rows
    say how an update row and clearing a value work)."""
    guide = template_guide(IMPORT_FIELDS, required_text={"title": "新登记必填"})
    return "专利清单", [f.label for f in IMPORT_FIELDS], [*TEMPLATE_NOTES, *guide]


TEMPLATE_NOTES: list[list[str]] = [
    [
        "（更新已登记的专利）",
        "",
        "",
        "以申请号为准：本单位已登记的专利按表中内容更新，只需填写申请号和要修改的列；"
        "留空的单元格（或表中没有的列）保留原有内容",
        "",
        "",
    ],
    [
        "（清空某项内容）",
        "",
        "",
        f"在单元格中填写 {CLEAR_MARKER}（或【清空】）即清除该项已有内容；"
        "申请号、专利名称、专利类型不能清空，已入库专利的技术成熟度、价值自评、转化意愿不能清空",
        CLEAR_MARKER,
        "",
    ],
]


# ---------------------------------------------------------------------------- the import kind


def _open_spec(job: ImportJob, header: Sequence[str]) -> PatentRowSpec:
    columns = map_columns(header)
    colleges = college_index(job.institution_id)
    actor = db.session.get(User, job.created_by_id) if job.created_by_id else None
    committing = job.status in (ImportStatus.COMMIT_QUEUED, ImportStatus.COMMITTING)
    return PatentRowSpec(
        job.institution_id,
        columns,
        colleges,
        college_id=job.college_id,
        actor=actor,
        previewed_at=job.finished_at if committing else None,  # the preview's end
        institution_name=db.session.scalar(
            sa.select(Organization.name).where(Organization.id == job.institution_id)
        ),
    )


def _apply(
    job: ImportJob, valid: list[RowResult], actor: User | None, _spec: Any
) -> dict[str, int]:
    return upsert_rows(
        job.institution_id,
        [r.values for r in valid],
        [r.plan for r in valid],
        actor=actor,
        import_job_id=job.id,
    )


def _visible(actor: User) -> sa.ColumnElement[bool] | None:
    if actor.role == Role.UNIVERSITY_ADMIN:
        return ImportJob.institution_id == actor.organization_id
    if actor.role == Role.COLLEGE_ADMIN:
        return sa.and_(
            ImportJob.institution_id == actor.organization_id,
            sa.or_(ImportJob.college_id == actor.college_id, ImportJob.created_by_id == actor.id),
        )
    return None


def _notes(counts: dict[str, Any]) -> list[str]:
    notes = []
    n = counts.get("changed_entered") or 0
    if n:
        changed = counts.get("changed") or n
        notes.append(f"变更的 {changed} 行中，其中 {n} 件已入库，导入后资源库中的信息随之更新")
    if n := counts.get("not_owned") or 0:
        shown = "；".join(counts.get("not_owned_shown") or [])
        more = "等" if n > NOT_OWNED_SHOWN else ""
        notes.append(
            f"{n} 行的专利权人中没有“{counts.get('institution')}”（{shown}{more}）："
            "这些行仍会登记为本单位的专利，请确认它们确属本单位（他人的专利不应列入本单位的"
            "存量专利）"
        )
    if n := counts.get("ungraded") or 0:
        labels = "、".join(label for _, label in SELF_ASSESSMENT)
        notes.append(
            f"新登记的 {n} 件专利缺少入库前必须的自评（{labels}）：可以先导入，但补全之前"
            "不能入库；可在表中加上这几列，再导入一次按申请号更新"
        )
    return notes


def _after_commit(job: ImportJob, _spec: Any) -> None:
    counts = job.result_counts or {}
    if counts.get("created") or counts.get("updated"):
        signals.patents_changed.send(None, patent_ids=None)


PATENT_KIND = registry.register(
    registry.ImportKind(
        name=KIND,
        label="专利",
        roles=IMPORT_ROLES,
        managers=frozenset({Role.UNIVERSITY_ADMIN}),
        open_spec=_open_spec,
        is_column=lambda header: getattr(match_header(header), "key", None),
        apply=_apply,
        template=template_rows,
        visible=_visible,
        after_commit=_after_commit,
        preview_notes=_notes,
        result_link=("inventory.list_patents", "查看专利清单"),
        upload_endpoint="imports.upload",
    )
)
