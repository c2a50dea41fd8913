"""The "institutions" import kind: the platform admin onboards universities and research
institutes from a spreadsheet (a province sends its 58 at once).

Each row names an institution by 单位名称 + 统一社会信用代码 (check character validated), with
所在地区 and 单位类型 (高校/科研院所). The credit code is the key: a known code updates that
institution (name, region, type; empty cells never clear a value), a known name without a code
gets the code, anything else is created (kind UNIVERSITY, no user account: the admin then
invites each one's first school admin). Re-importing a file changes nothing. Registered with
``revive.imports.registry`` at import time; the job pipeline (reader, dry run, per-row errors,
progress, all-or-nothing, error downloads, CLI) is the shared one of ``revive.imports``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from revive.accounts.models import InstitutionType, Organization, OrgKind, Role, User
from revive.audit import services as audit
from revive.errors import PermissionDenied
from revive.extensions import db
from revive.imports import registry
from revive.imports import services as import_services
from revive.imports.models import ImportJob
from revive.imports.rows import (
    ColumnMap,
    RowIssue,
    RowResult,
    SheetLines,
    cell_text,
    map_columns,
    pop_formula_problems,
    raw_cells,
)
from revive.onboarding.fields import LABELS, match_header, template_rows, validate_institution

KIND = "institutions"
IMPORTER_ROLES = frozenset({Role.PLATFORM_ADMIN})
# What a row may set on an institution (the credit code is the key, set once).
UPDATABLE = ("name", "region", "institution_type")
TEMPLATE = "请使用高校/科研院所导入模板"


def map_institution_columns(header: Sequence[str]) -> ColumnMap:
    """Map headers to institution fields; 单位名称 and 统一社会信用代码 are required columns."""
    return map_columns(
        header,
        match_header,
        LABELS,
        required={
            "name": f"找不到“单位名称”列：{TEMPLATE}",
            "credit_code": f"找不到“统一社会信用代码”列：{TEMPLATE}",
        },
    )


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, InstitutionType) else value


class InstitutionRowSpec(SheetLines):
    """Checks and plans the rows of one institution file."""

    def __init__(self, columns: ColumnMap) -> None:
        self.columns = columns
        self.seen_codes: dict[str, int] = {}  # credit code → first line
        self.seen_names: dict[str, int] = {}  # name → first line

    def _issue(self, result: RowResult, key: str, message: str) -> None:
        index = self.columns.index_of(key)
        value = result.cells[index] if index is not None and index < len(result.cells) else None
        result.issues.append(RowIssue(self.columns.header_for(key), cell_text(value), message))

    def check(self, line: int, cells: list[Any]) -> RowResult:
        """Validate one row (no database access)."""
        result = RowResult(line, cells)
        raw = raw_cells(self.columns, cells)
        problems = pop_formula_problems(raw)
        record = validate_institution(raw, partial=True)
        errors = [*problems, *record.errors]
        for key, message in errors:
            self._issue(result, key, message)
        values = record.values
        failed = {key for key, _ in errors}
        for key in ("name", "credit_code"):
            if key not in failed and not values.get(key):
                self._issue(result, key, f"缺少必填项：{LABELS[key]}")
        code, name = values.get("credit_code"), values.get("name")
        if code:
            first = self.seen_codes.setdefault(code, line)
            if first != line:
                self._issue(
                    result, "credit_code", f"与{self.line_label(first)}重复（同一统一社会信用代码）"
                )
        if name:
            first = self.seen_names.setdefault(name, line)
            if first != line:
                self._issue(result, "name", f"与{self.line_label(first)}重复（同名单位）")
        if result.ok:
            result.values = values
        return result

    def plan(self, results: Sequence[RowResult]) -> None:
        """Classify the valid rows of a batch as new / changed / unchanged (one query)."""
        valid = [r for r in results if r.ok]
        if not valid:
            return
        codes = {r.values["credit_code"] for r in valid}
        names = {r.values["name"] for r in valid}
        orgs = list(
            db.session.scalars(
                sa.select(Organization).where(
                    sa.or_(Organization.credit_code.in_(codes), Organization.name.in_(names))
                )
            )
        )
        by_code = {o.credit_code: o for o in orgs if o.credit_code}
        by_name = {o.name: o for o in orgs}
        for r in valid:
            values = r.values
            assert values is not None
            org = self._target(r, values, by_code, by_name)
            if not r.ok:
                r.values = None
                continue
            if org is None:
                r.kind, r.plan = "new", None
            else:
                changes = _changes(org, values)
                r.kind, r.plan = ("changed" if changes else "unchanged"), org.id

    def _target(
        self,
        r: RowResult,
        values: dict[str, Any],
        by_code: dict[str, Organization],
        by_name: dict[str, Organization],
    ) -> Organization | None:
        """The institution this row updates (None: a new one), or issues on ``r``."""
        code, name = values["credit_code"], values["name"]
        org = by_code.get(code)
        named = by_name.get(name)
        if org is not None:
            if org.kind != OrgKind.UNIVERSITY:
                self._issue(
                    r,
                    "credit_code",
                    f"该信用代码属于「{org.name}」（{org.kind.label}），不是高校/科研院所",
                )
            elif named is not None and named.id != org.id:
                self._issue(r, "name", f"平台上已有名为「{name}」的其他单位，不能改成此名称")
            return org
        if named is not None:
            if named.kind != OrgKind.UNIVERSITY:
                self._issue(r, "name", f"平台上已有同名单位，类型为{named.kind.label}")
            elif named.credit_code:
                self._issue(
                    r,
                    "credit_code",
                    f"平台上已有同名单位，其统一社会信用代码为 {named.credit_code}",
                )
            return named  # a university registered without a code: the row gives it one
        for key in ("region", "institution_type"):
            if not values.get(key):
                self._issue(r, key, f"新单位须填写{LABELS[key]}")
        return None


def _changes(org: Organization, values: dict[str, Any]) -> dict[str, Any]:
    """Fields the row would change (blank cells change nothing)."""
    changes = {
        k: values[k]
        for k in UPDATABLE
        if values.get(k) is not None and getattr(org, k) != values[k]
    }
    if org.credit_code is None:
        changes["credit_code"] = values["credit_code"]
    return changes


def _apply(
    job: ImportJob, valid: list[RowResult], actor: User | None, spec: InstitutionRowSpec
) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for r in valid:
        values = r.values
        assert values is not None
        org = db.session.get(Organization, r.plan) if r.plan else None
        if org is None:
            fields = {k: v for k, v in values.items() if v is not None}
            org = Organization(kind=OrgKind.UNIVERSITY, **fields)
            db.session.add(org)
            db.session.flush()
            audit.record(
                "organization",
                org.id,
                "import_create",
                actor,
                organization_id=org.id,
                import_job_id=job.id,
                **{k: _plain(v) for k, v in fields.items()},
            )
            counts["created"] += 1
            continue
        changes = _changes(org, values)
        if not changes:
            counts["unchanged"] += 1
            continue
        before = {k: _plain(getattr(org, k)) for k in changes}
        for key, value in changes.items():
            setattr(org, key, value)
        db.session.flush()
        audit.record(
            "organization",
            org.id,
            "import_update",
            actor,
            organization_id=org.id,
            import_job_id=job.id,
            changes={k: [before[k], _plain(v)] for k, v in changes.items()},
        )
        counts["updated"] += 1
    return counts


def _open_spec(job: ImportJob, header: Sequence[str]) -> InstitutionRowSpec:
    return InstitutionRowSpec(map_institution_columns(header))


def _visible(actor: User) -> sa.ColumnElement[bool] | None:
    return sa.true() if actor.role == Role.PLATFORM_ADMIN else None


def _notes(counts: dict[str, Any]) -> list[str]:
    if not counts.get("new"):
        return []
    return [
        "新建的单位还没有账号：导入后在「高校/科研院所」页为每个单位邀请学校管理员，"
        "由其设置学院并邀请成员"
    ]


INSTITUTION_KIND = registry.register(
    registry.ImportKind(
        name=KIND,
        label="高校/科研院所",
        roles=IMPORTER_ROLES,
        open_spec=_open_spec,
        is_column=lambda header: getattr(match_header(header), "key", None),
        apply=_apply,
        template=template_rows,
        visible=_visible,
        preview_notes=_notes,
        result_link=("onboarding.institutions", "查看高校/科研院所名单，邀请学校管理员"),
        upload_endpoint="onboarding.import_upload",
    )
)


def create_institution_import(
    file: FileStorage | str | Path,
    *,
    actor: User | None,
    all_or_nothing: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Store the file and queue its validation (platform admin; None = command line)."""
    if actor is not None and actor.role not in IMPORTER_ROLES:
        raise PermissionDenied("只有平台管理员可以批量导入高校/科研院所")
    return import_services.create_job(
        KIND, file, actor=actor, all_or_nothing=all_or_nothing, enqueue=enqueue
    )
