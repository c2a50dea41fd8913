"""The "demands" import kind: officers bulk-load demands collected offline (.xlsx / CSV).

Each row names its enterprise by 企业名称 + 统一社会信用代码 (check character validated); the
enterprise is found by credit code or created (kind ENTERPRISE, no user account). The
idempotency key is (enterprise, normalised title): re-importing a file changes nothing, a
changed row updates its demand, and empty cells never clear existing values. Registered with
``revive.imports.registry`` at import time; the job pipeline (reader, dry run, progress,
commit modes, error downloads) is the shared one in ``revive.imports.services``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from revive import signals
from revive.accounts.models import Organization, OrgKind, Role, User
from revive.audit import services as audit
from revive.clock import local_today
from revive.common.fields import template_guide
from revive.demands import permissions
from revive.demands.fields import (
    EDITABLE_KEYS,
    ENTERPRISE_KEYS,
    FIELDS_BY_KEY,
    IMPORT_FIELDS,
    LABELS,
    match_header,
    normalize_title,
    validate_record,
)
from revive.demands.models import Demand, DemandSource, Visibility
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

KIND = "demands"
IMPORT_KEYS = ("enterprise_name", "credit_code", *EDITABLE_KEYS)


def map_demand_columns(header: Sequence[str]) -> ColumnMap:
    """Map headers to demand fields; 企业名称, 统一社会信用代码 and 需求名称 are required."""
    return map_columns(
        header,
        match_header,
        LABELS,
        required={
            "credit_code": "找不到“统一社会信用代码”列：请使用需求导入模板",
            "enterprise_name": "找不到“企业名称”列：请使用需求导入模板",
            "title": "找不到“需求名称”列：请使用需求导入模板",
        },
    )


class DemandRowSpec(SheetLines):
    """Checks and plans the rows of one demand file."""

    def __init__(self, columns: ColumnMap) -> None:
        self.columns = columns
        self.seen: dict[tuple[str, str], int] = {}  # (credit code, title key) → first line
        self.new_enterprises: set[str] = set()  # credit codes not yet on the platform
        self.saved: list[tuple[int, bool]] = []  # (demand id, created) written by apply
        self._orgs: dict[str, Organization] = {}  # credit code → enterprise, found or created

    def _issue(self, result: RowResult, key: str, message: str) -> None:
        index = self.columns.index_of(key)
        value = result.cells[index] if index is not None and index < len(result.cells) else None
        result.issues.append(RowIssue(self.columns.header_for(key), cell_text(value), message))

    def check(self, line: int, cells: list[Any]) -> RowResult:
        """Validate one row (no database access)."""
        result = RowResult(line, cells)
        raw = raw_cells(self.columns, cells)
        problems = pop_formula_problems(raw)
        record = validate_record(raw, partial=True, keys=IMPORT_KEYS)
        errors = [*problems, *record.errors]
        for key, message in errors:
            self._issue(result, key, message)
        values = record.values
        failed = {key for key, _ in errors}
        for key in ("enterprise_name", "credit_code"):
            if key not in failed and not values.get(key):
                self._issue(result, key, f"缺少必填项：{LABELS[key]}")
        code, title = values.get("credit_code"), values.get("title")
        if code and title:
            first = self.seen.setdefault((code, normalize_title(title)), line)
            if first != line:
                self._issue(
                    result, "title", f"与{self.line_label(first)}重复（同一企业的同名需求）"
                )
        if result.ok:
            result.values = values
        return result

    def plan(self, results: Sequence[RowResult]) -> None:
        """Classify the valid rows of a batch as new / changed / unchanged (two queries)."""
        valid = [r for r in results if r.ok]
        if not valid:
            return
        codes = {r.values["credit_code"] for r in valid}
        names = {r.values["enterprise_name"] for r in valid}
        orgs = list(
            db.session.scalars(
                sa.select(Organization).where(
                    sa.or_(Organization.credit_code.in_(codes), Organization.name.in_(names))
                )
            )
        )
        by_code = {o.credit_code: o for o in orgs if o.credit_code}
        by_name = {o.name: o for o in orgs}
        existing: dict[tuple[int, str], Demand] = {}
        org_ids = [o.id for o in by_code.values()]
        if org_ids:
            for d in db.session.scalars(sa.select(Demand).where(Demand.enterprise_id.in_(org_ids))):
                existing.setdefault((d.enterprise_id, normalize_title(d.title)), d)
        today = local_today()
        for r in valid:
            values = r.values
            assert values is not None
            code, name = values["credit_code"], values["enterprise_name"]
            org = by_code.get(code)
            if org is None:
                other = by_name.get(name)
                if other is not None and (other.kind != OrgKind.ENTERPRISE or other.credit_code):
                    self._issue(
                        r, "enterprise_name", f"平台上已有同名单位，但统一社会信用代码不是 {code}"
                    )
                elif other is None:
                    self.new_enterprises.add(code)
            elif org.kind != OrgKind.ENTERPRISE:
                self._issue(r, "credit_code", f"该信用代码属于「{org.name}」，不是企业")
            demand = existing.get((org.id, normalize_title(values["title"]))) if org else None
            deadline = values.get("deadline")
            if deadline and deadline < today and (demand is None or demand.deadline != deadline):
                self._issue(r, "deadline", f"截止日期不能早于今天：{deadline.isoformat()}")
            if demand is None and not values.get("description"):
                self._issue(r, "description", "新需求须填写需求描述")
            if not r.ok:
                r.values = None
                continue
            if demand is None:
                r.kind, r.plan = "new", None
            else:
                changes = _changes(demand, values)
                r.kind, r.plan = ("changed" if changes else "unchanged"), demand.id

    def preview_extra(self) -> dict[str, int]:
        return {"new_enterprises": len(self.new_enterprises)}

    def enterprise(self, code: str, name: str) -> Organization:
        """Find the enterprise by credit code (or an enterprise of that name without one), or
        create it without a user account. Flushes, never commits; one lookup per code."""
        org = self._orgs.get(code)
        if org is not None:
            return org
        org = db.session.scalar(sa.select(Organization).where(Organization.credit_code == code))
        if org is None:
            org = db.session.scalar(
                sa.select(Organization).where(
                    Organization.name == name,
                    Organization.kind == OrgKind.ENTERPRISE,
                    Organization.credit_code.is_(None),
                )
            )
            if org is not None:
                org.credit_code = code
            else:
                org = Organization(name=name, kind=OrgKind.ENTERPRISE, credit_code=code)
                db.session.add(org)
            db.session.flush()
        self._orgs[code] = org
        return org


def _demand_values(values: dict[str, Any]) -> dict[str, Any]:
    """The non-empty demand fields of a row (empty cells never clear existing values)."""
    return {k: v for k, v in values.items() if k in EDITABLE_KEYS and v is not None}


def _changes(demand: Demand, values: dict[str, Any]) -> dict[str, Any]:
    """Fields the row would change. The title is the key: a spacing/width variant of it
    matched this demand and is not a change."""
    changes = {k: v for k, v in _demand_values(values).items() if getattr(demand, k) != v}
    changes.pop("title", None)
    return changes


def _apply(
    job: ImportJob, valid: list[RowResult], actor: User | None, spec: DemandRowSpec
) -> dict[str, int]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for r in valid:
        values = r.values
        assert values is not None
        org = spec.enterprise(values["credit_code"], values["enterprise_name"])
        demand = db.session.get(Demand, r.plan) if r.plan else None
        created = demand is None
        if created:
            fields = _demand_values(values)
            fields.setdefault("source", DemandSource.SURVEY)
            fields.setdefault("visibility", Visibility.PUBLIC)
            demand = Demand(enterprise=org, created_by_id=actor.id if actor else None, **fields)
            db.session.add(demand)
        else:
            fields = _changes(demand, values)
            if not fields:
                counts["unchanged"] += 1
                continue
            for key, value in fields.items():
                setattr(demand, key, value)
        db.session.flush()
        audit.record(
            "demand",
            demand.id,
            "import_create" if created else "import_update",
            actor,
            organization_id=demand.enterprise_id,
            import_job_id=job.id,
            fields=sorted(fields),
        )
        spec.saved.append((demand.id, created))
        counts["created" if created else "updated"] += 1
    return counts


def _open_spec(job: ImportJob, header: Sequence[str]) -> DemandRowSpec:
    return DemandRowSpec(map_demand_columns(header))


def _visible(actor: User) -> sa.ColumnElement[bool] | None:
    return sa.true() if actor.role == Role.OFFICER else None


def _after_commit(job: ImportJob, spec: DemandRowSpec) -> None:
    for demand_id, created in spec.saved:
        signals.demand_saved.send(None, demand_id=demand_id, created=created)


def template_rows() -> tuple[str, list[str], list[list[str]]]:
    """The import template: sheet title, header row and the field guide."""
    guide = template_guide(
        IMPORT_FIELDS, required=ENTERPRISE_KEYS, allowed={"deadline": "日期，如 2026-12-31"}
    )
    return "需求清单", [f.label for f in IMPORT_FIELDS], guide


def _notes(counts: dict[str, Any]) -> list[str]:
    n = counts.get("new_enterprises") or 0
    if not n:
        return []
    return [f"将新建企业 {n} 家（平台上尚无该统一社会信用代码；新建的企业没有登录账号）"]


DEMAND_KIND = registry.register(
    registry.ImportKind(
        name=KIND,
        label="企业需求",
        roles=permissions.IMPORTER_ROLES,
        managers=frozenset({Role.OFFICER}),
        open_spec=_open_spec,
        is_column=lambda header: getattr(match_header(header), "key", None),
        apply=_apply,
        template=template_rows,
        visible=_visible,
        after_commit=_after_commit,
        preview_notes=_notes,
        result_link=("demands.list_demands", "查看需求清单"),
        upload_endpoint="demands.import_upload",
    )
)


def create_demand_import(
    file: FileStorage | str | Path,
    *,
    actor: User | None,
    all_or_nothing: bool = False,
    enqueue: bool = True,
) -> ImportJob:
    """Store the file and queue its validation (officers, platform admin; None = command line)."""
    if actor is not None and actor.role not in permissions.IMPORTER_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以批量导入需求")
    return import_services.create_job(
        KIND, file, actor=actor, all_or_nothing=all_or_nothing, enqueue=enqueue
    )


__all__ = ["FIELDS_BY_KEY", "DemandRowSpec", "create_demand_import", "map_demand_columns"]
