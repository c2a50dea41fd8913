"""Inventory services: create, edit, import-upsert and move patents through the workflow.

Public functions commit; helpers prefixed with ``_`` and the import helpers (``classify_rows``,
``upsert_rows``) only flush, so an import batch commits once with its job counters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import EllipsisType
from typing import Any

import sqlalchemy as sa

from revive import signals
from revive.accounts.models import College, Role, User
from revive.audit import services as audit
from revive.db import commit_or_conflict
from revive.errors import ConflictError, DomainError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import permissions, workflow
from revive.inventory.fields import MODEL_KEYS, display_value, validate_record
from revive.inventory.models import EntryStatus, Patent, PatentRevision
from revive.selection import selected_ids

_NAME_SPLIT = re.compile(r"[;；,，、/\s]+")


# ---------------------------------------------------------------------------- helpers


def split_names(text: str | None) -> list[str]:
    return [n for n in _NAME_SPLIT.split(text or "") if n]


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _jsonable(key: str, value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value.value if hasattr(value, "label") else value
    if isinstance(value, date | Decimal):
        return display_value(key, value)
    return str(value)


def _resolve_college(institution_id: int, name: str | None) -> College | None:
    if not name:
        return None
    college = db.session.scalar(
        sa.select(College).where(College.institution_id == institution_id, College.name == name)
    )
    if college is None:
        raise ValidationFailed(
            f"未知学院：{name}（请先在成员管理中添加该学院）",
            details={"college": f"未知学院：{name}"},
        )
    return college


def college_index(institution_id: int) -> dict[str, int]:
    """College name → id for one institution (imports resolve names without a query per row)."""
    rows = db.session.execute(
        sa.select(College.name, College.id).where(College.institution_id == institution_id)
    )
    return {name: cid for name, cid in rows}


def _diff(patent: Patent, values: Mapping[str, Any], college_id: int | None | EllipsisType) -> dict:
    """{field: [old, new]} for the values that differ from the stored patent."""
    changes: dict[str, list[Any]] = {}
    for key in MODEL_KEYS:
        if key not in values:
            continue
        old, new = getattr(patent, key), values[key]
        if _comparable(old) != _comparable(new):
            changes[key] = [_jsonable(key, old), _jsonable(key, new)]
    if college_id is not ... and patent.college_id != college_id:
        old_name = patent.college.name if patent.college else None
        new_name = db.session.get(College, college_id).name if college_id else None
        changes["college"] = [old_name, new_name]
    return changes


def _apply(
    patent: Patent, values: Mapping[str, Any], college_id: int | None | EllipsisType
) -> None:
    for key in MODEL_KEYS:
        if key in values:
            setattr(patent, key, values[key])
    if college_id is not ...:
        patent.college_id = college_id


def _record_revision(
    patent: Patent, changes: dict, actor: User | None, source: str, import_job_id: int | None = None
) -> None:
    if changes:
        db.session.add(
            PatentRevision(
                patent=patent,
                actor=actor,
                source=source,
                changes=changes,
                import_job_id=import_job_id,
            )
        )


def link_inventor(user: User) -> int:
    """Link a (new) inventor account to existing patents naming them. Flushes; returns count."""
    if user.role != Role.INVENTOR or not user.organization_id:
        return 0
    candidates = db.session.scalars(
        sa.select(Patent).where(
            Patent.institution_id == user.organization_id,
            Patent.inventors.contains(user.name),
        )
    ).all()
    linked = 0
    for patent in candidates:
        if user.name in split_names(patent.inventors) and user not in patent.inventor_users:
            patent.inventor_users.append(user)
            linked += 1
    db.session.flush()
    return linked


def _validation_error(errors: Sequence[tuple[str, str]]) -> ValidationFailed:
    details = {key: msg for key, msg in errors}
    return ValidationFailed("；".join(msg for _, msg in errors), details=details)


def _check_unique(institution_id: int, application_no: str, exclude_id: int | None = None) -> None:
    stmt = sa.select(Patent.id, Patent.title).where(
        Patent.institution_id == institution_id, Patent.application_no == application_no
    )
    if exclude_id is not None:
        stmt = stmt.where(Patent.id != exclude_id)
    existing = db.session.execute(stmt).first()
    if existing is not None:
        msg = f"申请号 {application_no} 已登记（专利「{existing.title}」）"
        raise ValidationFailed(msg, details={"application_no": msg})


# ---------------------------------------------------------------------------- single records


def create_patent(data: Mapping[str, Any], *, institution_id: int, actor: User) -> Patent:
    """Validate and create one patent record in 草稿; records a 'create' revision."""
    result = validate_record(data)
    if not result.ok:
        raise _validation_error(result.errors)
    values = result.values
    college = _resolve_college(institution_id, values.get("college"))
    if actor.role == Role.COLLEGE_ADMIN and college is None:
        college = actor.college  # a college admin files into their own college
    if not permissions.can_create_in(actor, institution_id, college.id if college else None):
        raise PermissionDenied("您无权在该单位或学院下登记专利")
    _check_unique(institution_id, values["application_no"])
    if actor.role == Role.INVENTOR and actor.name not in split_names(values.get("inventors")):
        raise ValidationFailed(
            "发明人登记专利时，发明人栏须包含本人姓名", details={"inventors": "须包含本人姓名"}
        )
    patent = Patent(institution_id=institution_id, created_by=actor)
    _apply(patent, values, college.id if college else None)
    db.session.add(patent)
    db.session.flush()
    _sync_inventor_links(patent.institution_id, [patent])
    _record_revision(
        patent,
        {k: [None, _jsonable(k, v)] for k, v in values.items() if v is not None},
        actor,
        "create",
    )
    audit.record(
        "patent",
        patent.id,
        "create",
        actor,
        organization_id=institution_id,
        fields=sorted(k for k, v in values.items() if v is not None),
    )
    db.session.commit()
    signals.patents_changed.send(None, patent_ids=[patent.id])
    return patent


def update_patent(
    patent_id: int, data: Mapping[str, Any], *, actor: User, expected_version: int | None = None
) -> Patent:
    """Edit fields present in ``data`` (same validation as import); records a revision.

    ``expected_version`` is the version the user's form was loaded at: if someone saved in
    between, ConflictError tells them instead of silently overwriting.
    """
    patent = permissions.get_visible_patent(actor, patent_id)
    permissions.check_edit(actor, patent)
    if expected_version is not None and expected_version != patent.version:
        raise ConflictError("该专利已被他人修改，请刷新页面查看最新内容后再保存")
    result = validate_record(data, partial=True)
    if not result.ok:
        raise _validation_error(result.errors)
    values = result.values
    if patent.status == EntryStatus.ENTERED:
        cleared = [
            (k, label) for k, label in workflow.SELF_ASSESSMENT if k in values and values[k] is None
        ]
        if cleared:
            raise ValidationFailed(
                f"已入库专利须保留自评，不能清空：{'、'.join(label for _, label in cleared)}",
                details={k: "已入库专利不能清空此项" for k, _ in cleared},
            )
    college_id: int | None | EllipsisType = ...
    if "college" in values:
        college = _resolve_college(patent.institution_id, values["college"])
        college_id = college.id if college else None
        if actor.role == Role.COLLEGE_ADMIN and college_id != actor.college_id:
            raise PermissionDenied("学院管理员不能把专利移到其他学院")
    if "application_no" in values:
        _check_unique(patent.institution_id, values["application_no"], exclude_id=patent.id)
    changes = _diff(patent, values, college_id)
    if not changes:
        return patent
    _apply(patent, values, college_id)
    if "inventors" in changes:
        _sync_inventor_links(patent.institution_id, [patent])
    _record_revision(patent, changes, actor, "edit")
    audit.record(
        "patent", patent.id, "edit", actor, organization_id=patent.institution_id, changes=changes
    )
    commit_or_conflict()
    signals.patents_changed.send(None, patent_ids=[patent.id])
    return patent


# ---------------------------------------------------------------------------- workflow


def perform_action(
    patent_id: int,
    action_name: str,
    *,
    actor: User,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Patent:
    """Move one patent through the workflow (submit, approve, return, enter, …)."""
    action = workflow.get_action(action_name)
    patent = permissions.get_visible_patent(actor, patent_id)
    if expected_version is not None and expected_version != patent.version:
        raise ConflictError("该专利的状态已被他人更新，请刷新页面后再操作")
    permissions.check_action(actor, patent, action)
    workflow.transition(patent, action, actor, comment)
    commit_or_conflict()
    signals.patents_changed.send(None, patent_ids=[patent.id])
    return patent


@dataclass
class BatchResult:
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (patent id, reason)

    @property
    def summary(self) -> str:
        """'已处理 N 条，M 条未处理：#id 原因；…' (the page's flash and the API's message)."""
        text = f"已处理 {len(self.done)} 条"
        if self.refused:
            reasons = "；".join(f"#{pid} {reason}" for pid, reason in self.refused)
            text += f"，{len(self.refused)} 条未处理：{reasons}"
        return text


def perform_batch(
    patent_ids: Iterable[int], action_name: str, *, actor: User, comment: str | None = None
) -> BatchResult:
    """Apply one action to many patents; each refused one is reported, the rest commit together."""
    patent_ids = selected_ids(patent_ids, empty="请先勾选要处理的专利")
    action = workflow.get_action(action_name)
    if not action.batch:
        raise ValidationFailed(f"「{action.label}」不支持批量操作")
    if action.comment_required and not (comment or "").strip():
        raise ValidationFailed(f"批量「{action.label}」需要填写意见或原因")
    result = BatchResult()
    for patent_id in patent_ids:
        try:
            patent = permissions.get_visible_patent(actor, patent_id)
            permissions.check_action(actor, patent, action)
            with db.session.begin_nested():
                workflow.transition(patent, action, actor, comment)
        except DomainError as exc:
            result.refused.append((patent_id, exc.message))
        else:
            result.done.append(patent_id)
    commit_or_conflict()
    if result.done:
        signals.patents_changed.send(None, patent_ids=list(result.done))
    return result


# ---------------------------------------------------------------------------- imports


@dataclass
class RowPlan:
    """What an import would do with one valid row."""

    kind: str  # new | changed | unchanged
    patent: Patent | None
    changes: dict[str, list[Any]]
    college_id: int | None | EllipsisType


def plan_rows(
    institution_id: int, rows: Sequence[Mapping[str, Any]], colleges: Mapping[str, int]
) -> list[RowPlan]:
    """Compare validated rows with stored patents (one query per batch). No writes."""
    appnos = [r["application_no"] for r in rows]
    existing = {
        p.application_no: p
        for p in db.session.scalars(
            sa.select(Patent).where(
                Patent.institution_id == institution_id, Patent.application_no.in_(appnos)
            )
        )
    }
    plans: list[RowPlan] = []
    for row in rows:
        name = row.get("college")
        college_id: int | None | EllipsisType = colleges.get(name) if name else ...
        patent = existing.get(row["application_no"])
        if patent is None:
            plans.append(RowPlan("new", None, {}, college_id))
            continue
        changes = _diff(patent, {k: v for k, v in row.items() if v is not None}, college_id)
        plans.append(RowPlan("changed" if changes else "unchanged", patent, changes, college_id))
    return plans


def upsert_rows(
    institution_id: int,
    rows: Sequence[Mapping[str, Any]],
    plans: Sequence[RowPlan],
    *,
    actor: User | None,
    import_job_id: int | None,
) -> dict[str, int]:
    """Apply planned rows: create new patents, update changed ones with a revision. Flushes.

    Empty cells in a file never erase stored values (a partial template must not wipe the
    self-assessment someone filled in by hand).
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    # Batched for large files (50,000 rows): one INSERT round for the new patents, one query
    # for inventor accounts, revisions added by id (no per-row flush or lazy load).
    revisions: list[tuple[Patent, dict]] = []
    relink: list[Patent] = []
    actor_id = actor.id if actor is not None else None
    for row, plan in zip(rows, plans, strict=True):
        values = {k: v for k, v in row.items() if v is not None}
        if plan.kind == "new":
            patent = Patent(institution_id=institution_id, created_by_id=actor_id)
            _apply(patent, values, plan.college_id if plan.college_id is not ... else None)
            db.session.add(patent)
            if patent.inventors:
                relink.append(patent)
            revisions.append((patent, {k: [None, _jsonable(k, v)] for k, v in values.items()}))
            counts["created"] += 1
        elif plan.kind == "changed":
            assert plan.patent is not None
            _apply(plan.patent, values, plan.college_id)
            if "inventors" in plan.changes:
                relink.append(plan.patent)
            revisions.append((plan.patent, plan.changes))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    _sync_inventor_links(institution_id, relink)
    db.session.flush()
    db.session.add_all(
        PatentRevision(
            patent_id=p.id,
            actor_id=actor_id,
            source="import",
            changes=changes,
            import_job_id=import_job_id,
        )
        for p, changes in revisions
        if changes
    )
    kinds = [plan.kind for plan in plans if plan.kind != "unchanged"]  # revisions' order
    audit.record_many(
        "patent",
        (
            (p.id, "import_create", {"import_job_id": import_job_id, "fields": sorted(changes)})
            if kind == "new"
            else (p.id, "import_update", {"import_job_id": import_job_id, "changes": changes})
            for (p, changes), kind in zip(revisions, kinds, strict=True)
        ),
        actor,
        organization_id=institution_id,
    )
    db.session.flush()
    return counts


def _sync_inventor_links(institution_id: int, patents: Sequence[Patent]) -> None:
    """Link inventor accounts of the institution whose name is in each patent's inventors list
    (one query for all of them)."""
    if not patents:
        return
    names = {n for p in patents for n in split_names(p.inventors)}
    by_name: dict[str, list[User]] = {}
    if names:
        # no_autoflush: new patents stay pending, so setting their links loads nothing.
        with db.session.no_autoflush:
            users = db.session.scalars(
                sa.select(User).where(
                    User.organization_id == institution_id,
                    User.role == Role.INVENTOR,
                    User.name.in_(names),
                )
            ).all()
        for user in users:
            by_name.setdefault(user.name, []).append(user)
    for patent in patents:
        linked = [
            u for n in dict.fromkeys(split_names(patent.inventors)) for u in by_name.get(n, [])
        ]
        # A new patent with no matching account needs nothing; skip to avoid touching it.
        if linked or patent.id is not None:
            patent.inventor_users = list(dict.fromkeys(linked))


def get_patent_for(actor: User, patent_id: int) -> Patent:
    """Read one patent the actor may see (NotFoundError otherwise)."""
    return permissions.get_visible_patent(actor, patent_id)
