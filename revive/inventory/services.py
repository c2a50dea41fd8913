"""Inventory services: create, edit, import-upsert and move patents through the workflow.

Public functions commit; helpers prefixed with ``_`` and the import helpers (``classify_rows``,
``upsert_rows``) only flush, so an import batch commits once with its job counters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import EllipsisType
from typing import Any

import sqlalchemy as sa

from revive import signals
from revive.accounts.models import College, Organization, OrgKind, Role, User
from revive.audit import services as audit
from revive.db import begin_write, commit_or_conflict, lock_row, savepoint
from revive.errors import (
    ConflictError,
    DomainError,
    InvalidTransition,
    PermissionDenied,
    ValidationFailed,
)
from revive.extensions import db
from revive.inventory import fees, inventors, permissions, workflow
from revive.inventory.fields import (
    FIELDS_BY_KEY,
    GRADED_KEYS,
    MODEL_KEYS,
    NOT_CLEARABLE,
    conflicts_after,
    display_value,
    same_value,
    validate_record,
)
from revive.inventory.models import (
    EntryStatus,
    FeeSetting,
    Patent,
    PatentRevision,
)
from revive.inventory.public import RIGHTS_GONE, gone_text
from revive.selection import MAX_SELECTION, selected_ids

# ---------------------------------------------------------------------------- helpers


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
    """{field: [old, new]} for the values that differ from the stored patent (compared in
    their canonical form, ``fields.same_value``: a list in another order or a stored value
    spelled otherwise is not a change when the data is the same)."""
    changes: dict[str, list[Any]] = {}
    for key in MODEL_KEYS:
        if key not in values:
            continue
        old, new = getattr(patent, key), values[key]
        if not same_value(key, old, new):
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


def announce_rights_gone(patent: Patent, actor: User | None, reason: str) -> None:
    """实施状态 is 已转让 / 作价入股 (by an edit, an import or a signed contract): the
    university can no longer license the patent, so revive.licensing withdraws its active
    open-licence declaration in the same transaction. ``reason`` names the cause, with
    ``{gone}`` for 已转让 / 已作价入股. Nothing when the right stays; the receiver does nothing
    when no declaration is active, so announcing again is harmless."""
    new = patent.implementation_status
    if new in RIGHTS_GONE:
        signals.patent_rights_gone.send(
            patent=patent, actor=actor, reason=reason.format(gone=gone_text(new))
        )


def _review_in_new_college(patent: Patent, old_college_id: int | None, actor: User | None) -> None:
    """A patent waiting for school review whose college changed to a (new) college goes back
    to 待学院审核: the college approval it carries was not that college's. Flushes."""
    new_college_id = patent.college_id
    if patent.status != EntryStatus.PENDING_SCHOOL or new_college_id in (None, old_college_id):
        return
    old = db.session.get(College, old_college_id).name if old_college_id else "未指定学院"
    new = db.session.get(College, new_college_id).name
    workflow.transition(
        patent,
        workflow.SYSTEM_ACTIONS["college_changed"],
        actor,
        f"学院由「{old}」改为「{new}」，须经{new}审核",
    )


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


def stored_values(patent: Patent) -> dict[str, Any]:
    return {key: getattr(patent, key) for key in MODEL_KEYS}


def update_problems(patent: Patent, values: Mapping[str, Any], changed: Iterable[str]) -> list:
    """Why changing ``changed`` fields of ``patent`` to ``values`` is refused, as (field,
    message): rules broken together with the stored values (``fields.conflicts_after``), and
    the self-assessment an entered patent must keep (CHECK entered_is_graded)."""
    changes = {k: values[k] for k in changed if k in values}
    problems = conflicts_after(stored_values(patent), changes)
    # a value that cleans to nothing (a zero-width space, a BOM) clears the field: refused
    # for the fields a patent cannot be without (it reached the NOT NULL column: a 500)
    problems += [
        (key, f"{FIELDS_BY_KEY[key].label}不能清空")
        for key in sorted(NOT_CLEARABLE)
        if key in changes and changes[key] is None
    ]
    if patent.status == EntryStatus.ENTERED:
        problems += [
            (key, f"已入库的专利须保留{FIELDS_BY_KEY[key].label}，不能清空")
            for key in GRADED_KEYS
            if key in changes and changes[key] is None
        ]
    return problems


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
        msg = f"申请号 {application_no} 已登记（专利「{existing.title}」，编号 {existing.id}）"
        # patent_id: a client re-running its sync updates that record instead
        raise ValidationFailed(msg, details={"application_no": msg, "patent_id": existing.id})


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
    if actor.role != Role.PLATFORM_ADMIN and institution_id != actor.organization_id:
        # named another unit (an API call): refused, not quietly filed under the caller's own
        raise PermissionDenied("您只能在本单位下登记专利（institution_id 不是您所在的单位）")
    if not permissions.can_create_in(actor, institution_id, college.id if college else None):
        raise PermissionDenied("您无权在该单位或学院下登记专利")
    institution = db.session.get(Organization, institution_id)
    if institution is None or institution.kind != OrgKind.UNIVERSITY:
        # a security review filed a patent under an enterprise, and an unknown id was a 500
        raise ValidationFailed(
            "请选择专利所属的高校/科研院所", details={"institution_id": "不是高校/科研院所"}
        )
    _check_unique(institution_id, values["application_no"])
    named = inventors.split_names(values.get("inventors"))
    if actor.role == Role.INVENTOR and actor.name not in named:
        raise ValidationFailed(
            "发明人登记专利时，发明人栏须包含本人姓名", details={"inventors": "须包含本人姓名"}
        )
    patent = Patent(institution_id=institution_id, created_by=actor)
    _apply(patent, values, college.id if college else None)
    db.session.add(patent)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # The same 申请号 filed by a request that committed after our check (an integrator's
        # parallel sync got 500s): refused as the check would have refused it.
        db.session.rollback()
        _check_unique(institution_id, values["application_no"])
        raise
    if actor.role == Role.INVENTOR:
        # The filer is linked to the record they filed; nobody else is linked by name
        # (inventory.inventors: an admin links other accounts explicitly).
        inventors.link_account(patent, actor, actor=actor, via="filed")
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
    # Held and read afresh: two edits of different fields without a version (an integrator's
    # parallel PATCHes) each apply in turn instead of failing at the commit with a 409.
    lock_row(Patent, patent.id)
    db.session.refresh(patent)
    permissions.check_edit(actor, patent)
    if expected_version is not None and expected_version != patent.version:
        raise ConflictError("该专利已被他人修改，请刷新页面查看最新内容后再保存")
    result = validate_record(data, partial=True)
    if not result.ok:
        raise _validation_error(result.errors)
    values = result.values
    college_id: int | None | EllipsisType = ...
    if "college" in values:
        college = _resolve_college(patent.institution_id, values["college"])
        college_id = college.id if college else None
        permissions.check_college_change(actor, patent, college_id)
    if "application_no" in values:
        _check_unique(patent.institution_id, values["application_no"], exclude_id=patent.id)
    changes = _diff(patent, values, college_id)
    if not changes:
        return patent
    problems = update_problems(patent, values, changes)
    if problems:
        raise _validation_error(problems)
    old_college_id = patent.college_id
    _apply(patent, values, college_id)
    _record_revision(patent, changes, actor, "edit")
    audit.record(
        "patent", patent.id, "edit", actor, organization_id=patent.institution_id, changes=changes
    )
    _review_in_new_college(patent, old_college_id, actor)
    if "implementation_status" in changes:
        announce_rights_gone(patent, actor, "实施状态改为{gone}（编辑）")
    commit_or_conflict()
    signals.patents_changed.send(None, patent_ids=[patent.id])
    return patent


def can_delete(actor: User, patent: Patent) -> bool:
    """A draft never submitted (a record filed or imported by mistake) may be deleted by
    whoever may edit it; anything that was ever under review keeps its record."""
    return (
        patent.status == EntryStatus.DRAFT
        and patent.submitted_at is None
        and permissions.can_edit(actor, patent)
    )


def delete_draft(patent_id: int, *, actor: User, expected_version: int | None = None) -> str:
    """Delete a never-submitted draft with what hangs on it (its revisions, inventor links,
    tokens: the database cascades). Audited with its 申请号 and title; returns the title.
    University users and an integrator had no way to remove a record made by mistake."""
    patent = permissions.get_visible_patent(actor, patent_id)
    lock_row(Patent, patent.id)
    db.session.refresh(patent)
    if expected_version is not None and expected_version != patent.version:
        raise ConflictError("该专利已被他人修改，请刷新页面查看最新内容后再操作")
    if not can_delete(actor, patent):
        if patent.status != EntryStatus.DRAFT or patent.submitted_at is not None:
            raise InvalidTransition(
                f"只能删除从未提交审核的草稿（这条专利当前为「{patent.status.label}」"
                + ("，曾提交审核" if patent.submitted_at is not None else "")
                + "）；不再转化的专利请走审核流程（不入库 / 建议放弃）"
            )
        raise PermissionDenied("您无权删除这条专利")
    title, appno, institution_id = patent.title, patent.application_no, patent.institution_id
    audit.record(
        "patent",
        patent.id,
        "delete",
        actor,
        organization_id=institution_id,
        application_no=appno,
        title=title,
    )
    db.session.execute(sa.delete(Patent).where(Patent.id == patent.id))
    db.session.commit()
    signals.patents_changed.send(None, patent_ids=[patent_id])
    return title


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


SUMMARY_REASONS = 20  # refusals quoted in a batch's message (a 200-row batch stays readable)
SUMMARY_TITLE = 12  # characters of a refused patent's title quoted in that message


def batch_label(patent: Patent) -> str:
    """How a batch's message names a patent: 申请号 and the start of its title."""
    title = patent.title or ""
    if len(title) > SUMMARY_TITLE:
        title = title[:SUMMARY_TITLE] + "…"
    return f"{patent.application_no}「{title}」"


# What a batch did, as its message says it ("已学院审核通过 2 件：…"); other actions read
# 已 + their label.
DONE_PHRASES = {
    "enter": "已学校审核通过并入库",
    "not_enter": "已标记不入库",
    "abandon": "已标记建议放弃",
}
SUMMARY_DONE = 10  # patents named in a batch's message as done (the rest counted)


@dataclass
class BatchResult:
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (patent id, reason)
    # How the message names each patent the actor may see (batch_label), done or refused;
    # one they may not see (or that does not exist) keeps its bare #id: nothing about it leaks.
    labels: dict[int, str] = field(default_factory=dict)
    action: str = ""  # the action's name (workflow.ACTIONS), for the message

    @property
    def done_phrase(self) -> str:
        action = workflow.ACTIONS.get(self.action)
        if action is None:
            return "已处理"
        return DONE_PHRASES.get(action.name, f"已{action.label}")

    @property
    def summary(self) -> str:
        """'已学院审核通过 N 件：申请号「标题」、…；M 件未处理：申请号「标题」 原因；…' (the
        page's flash and the API's message). It says what was done and to which patents
        ("已处理 2 条" said neither, UX review c1-review-approved-d); a reviewer knows patents
        by 申请号, not by our ids."""
        done = self.done[:SUMMARY_DONE]
        names = "、".join(self.labels.get(pid, f"#{pid}") for pid in done)
        rest = len(self.done) - len(done)
        text = f"{self.done_phrase} {len(self.done)} 件" + (
            f"：{names}" + (f" 等 {len(self.done)} 件" if rest else "") if done else ""
        )
        if self.refused:
            shown = self.refused[:SUMMARY_REASONS]
            reasons = "；".join(
                f"{self.labels.get(pid, f'#{pid} ')}{reason}" for pid, reason in shown
            )
            more = len(self.refused) - len(shown)
            text += f"；{len(self.refused)} 件未处理：{reasons}" + (
                f"；另有 {more} 件" if more else ""
            )
        return text


def perform_batch(
    patent_ids: Iterable[int],
    action_name: str,
    *,
    actor: User,
    comment: str | None = None,
    limit: int | None = None,
) -> BatchResult:
    """Apply one action to many patents; each refused one is reported, the rest commit together.
    ``limit``: how many one call may act on — the ticked rows a request sends (MAX_SELECTION),
    or the server's own list of every patent matching a filter (queries.MAX_FILTERED_IDS: a
    tester's 598 drafts were refused with 「一次最多处理 500 条」 beside 「一次最多 5000 条」)."""
    limit = limit or MAX_SELECTION
    patent_ids = selected_ids(patent_ids, limit=limit, empty="请先勾选要处理的专利")
    action = workflow.get_action(action_name)
    if not (action.batch or action.listed):
        raise ValidationFailed(f"「{action.label}」不支持批量操作")
    if action.comment_required and not (comment or "").strip():
        raise ValidationFailed(f"批量「{action.label}」需要填写意见或原因")
    result = BatchResult(action=action.name)
    changes = []
    # Held for the loop: the per-id lookups below then hit the identity map, no query each
    loaded = _load_for_batch(patent_ids)
    for patent_id in patent_ids:
        patent = None
        try:
            patent = permissions.get_visible_patent(actor, patent_id)
            permissions.check_action(actor, patent, action)
            # No savepoint: transition refuses before it changes anything, and its receivers
            # only add rows (signals.patent_transitioned). A savepoint a row had made 5,000
            # submits take about 20 s.
            change = workflow.transition(patent, action, actor, comment, batch=True)
        except DomainError as exc:
            result.refused.append((patent_id, exc.message))
            if patent is not None:  # visible to the actor: named by 申请号 and title
                result.labels[patent_id] = batch_label(patent)
        else:
            result.done.append(patent_id)
            if len(result.done) <= SUMMARY_DONE:  # named in the message
                result.labels[patent_id] = batch_label(patent)
            changes.append((patent, change))
    del loaded  # the loop's done with them
    if changes:  # the notices of the whole batch, one per person (in this transaction)
        signals.patents_transitioned.send(
            None, changes=changes, action=action.name, actor=actor, comment=comment
        )
    commit_or_conflict()
    if result.done:
        signals.patents_changed.send(None, patent_ids=list(result.done))
    return result


BATCH_LOAD = 500  # ids per query when a batch loads its patents


def _load_for_batch(patent_ids: Sequence[int]) -> list[Patent]:
    """Load and lock the batch's patents (in id order, so two batches never wait on each
    other crosswise) and their inventor accounts, in a few queries; the loop's per-id lookups
    then hit the identity map while the caller holds the list. Locked, a patent that another
    reviewer moves meanwhile waits for this batch and then sees its outcome, instead of
    failing the whole batch at its commit (a tester's batch showed a bare 409)."""
    begin_write()  # SQLite: the database's write lock (it has no row locks)
    loaded: list[Patent] = []
    ordered = sorted(set(patent_ids))
    for start in range(0, len(ordered), BATCH_LOAD):
        chunk = ordered[start : start + BATCH_LOAD]
        loaded += db.session.scalars(
            sa.select(Patent)
            .where(Patent.id.in_(chunk))
            .order_by(Patent.id)
            .with_for_update(of=Patent)
            .options(sa.orm.selectinload(Patent.inventor_users))
            .execution_options(populate_existing=True)
        ).all()
    return loaded


# ---------------------------------------------------------------------------- assign college


@dataclass
class AssignResult:
    """What ``assign_college`` did: moved, already there, refused one by one with the reason."""

    college: College
    done: list[Patent] = field(default_factory=list)
    unchanged: list[Patent] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (id, 申请号, reason)

    @property
    def summary(self) -> str:
        text = f"已将 {len(self.done)} 条专利分配到「{self.college.name}」"
        if self.unchanged:
            text += f"，{len(self.unchanged)} 条原已在该学院"
        if self.refused:
            text += f"，{len(self.refused)} 条未分配（原因见下）"
        return text


def _assign_target(actor: User, college_id: Any) -> College:
    college = db.session.get(College, college_id) if isinstance(college_id, int) else None
    if college is None or college.institution_id != actor.organization_id:
        raise ValidationFailed("请选择本校的学院", details={"college_id": "请选择本校的学院"})
    return college


def assign_college(patent_ids: Iterable[int], college_id: Any, *, actor: User) -> AssignResult:
    """Move many patents to one college of the actor's university (a school admin's batch).

    Each patent follows the rule of ``permissions.college_change_refusal`` (and may be edited
    by the actor at all); a refused one is reported with its reason and the others still move.
    Every move records a revision and an audit event ``assign_college`` with the before/after
    college; a patent waiting for school review goes back to 待学院审核 for its new college
    (as when the form moves it). One commit.
    """
    if actor.role != Role.UNIVERSITY_ADMIN:
        raise PermissionDenied("只有学校管理员可以批量分配学院")
    college = _assign_target(actor, college_id)
    result = AssignResult(college)
    for patent_id in patent_ids:
        try:
            patent = permissions.get_visible_patent(actor, patent_id)
        except DomainError as exc:
            result.refused.append((patent_id, "", exc.message))
            continue
        if patent.college_id == college.id:
            result.unchanged.append(patent)
            continue
        refusal = permissions.college_change_refusal(actor, patent, college.id)
        if refusal is None and not permissions.can_edit(actor, patent):
            refusal = f"您无权修改「{patent.status.label}」状态的这条专利"
        if refusal is not None:
            result.refused.append((patent.id, patent.application_no, refusal))
            continue
        with savepoint():
            old_college_id = patent.college_id
            changes = {"college": [patent.college.name if patent.college else None, college.name]}
            patent.college_id = college.id
            _record_revision(patent, changes, actor, "edit")
            audit.record(
                "patent",
                patent.id,
                "assign_college",
                actor,
                organization_id=patent.institution_id,
                changes=changes,
            )
            _review_in_new_college(patent, old_college_id, actor)
        result.done.append(patent)
    commit_or_conflict()
    if result.done:
        signals.patents_changed.send(None, patent_ids=[p.id for p in result.done])
    return result


# ---------------------------------------------------------------------------- annual fees


def set_fee_reduction(institution_id: int, pct: Any, *, actor: User) -> FeeSetting:
    """Set the fee reduction (费减, %) the institution claims on annual fees; audited."""
    if actor.role != Role.UNIVERSITY_ADMIN or actor.organization_id != institution_id:
        raise PermissionDenied("只有本校的学校管理员可以设置年费减缴比例")
    choices = fees.load_table().choices
    if pct not in choices:
        allowed = "、".join(f"{c}%" for c in choices)
        raise ValidationFailed(
            f"减缴比例只能是 {allowed}", details={"reduction_pct": f"可选：{allowed}"}
        )
    before = fees.reduction_for(institution_id)
    setting = db.session.get(FeeSetting, institution_id) or FeeSetting(
        institution_id=institution_id
    )
    setting.reduction_pct = pct
    setting.updated_by_id = actor.id
    db.session.add(setting)
    audit.record(
        "organization",
        institution_id,
        "fee_reduction",
        actor,
        organization_id=institution_id,
        changes={"reduction_pct": [None if before.is_default else before.pct, pct]},
        default_was=before.pct if before.is_default else None,
    )
    db.session.commit()
    return setting


# ---------------------------------------------------------------------------- imports


@dataclass
class RowPlan:
    """What an import would do with one valid row."""

    kind: str  # new | changed | unchanged
    patent: Patent | None
    changes: dict[str, list[Any]]
    college_id: int | None | EllipsisType
    # Why the row may not change the stored patent's college (permissions rule), if so.
    refusal: str | None = None
    # Other reasons the row may not change the stored patent, as (field, message).
    problems: list[tuple[str, str]] = field(default_factory=list)


def plan_rows(
    institution_id: int,
    rows: Sequence[Mapping[str, Any]],
    colleges: Mapping[str, int],
    *,
    actor: User | None = None,
) -> list[RowPlan]:
    """Compare validated rows with stored patents (one query per batch). No writes.

    A row holds the fields it changes: a key with None clears the stored value (a blank cell
    is no key at all; importers.PatentRowSpec.check). ``actor`` (None: the command line) is
    who imports: a row moving a stored patent to another college gets the refusal of
    ``permissions.college_change_refusal``, if any."""
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
        college_id: int | None | EllipsisType = ...
        if "college" in row:
            college_id = colleges.get(row["college"]) if row["college"] else None
        patent = existing.get(row["application_no"])
        if patent is None:
            plans.append(RowPlan("new", None, {}, college_id))
            continue
        changes = _diff(patent, row, college_id)
        refusal = None
        if college_id is not ...:
            refusal = permissions.college_change_refusal(actor, patent, college_id)
        plans.append(
            RowPlan(
                "changed" if changes else "unchanged",
                patent,
                changes,
                college_id,
                refusal,
                update_problems(patent, row, changes),
            )
        )
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
    self-assessment someone filled in by hand): the row spec leaves them out of the row; a
    key with None is a cell holding the clear marker, which does clear it.
    """
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    # Batched for large files (50,000 rows): one INSERT round for the new patents, revisions
    # added by id (no per-row flush or lazy load). The 发明人 column links no account.
    revisions: list[tuple[Patent, dict]] = []
    moved: list[tuple[Patent, int | None]] = []  # (patent, its college before the row)
    gone: list[Patent] = []  # 实施状态 changed to 已转让 / 作价入股 by the row
    actor_id = actor.id if actor is not None else None
    for row, plan in zip(rows, plans, strict=True):
        values = dict(row)
        if plan.kind == "new":
            values = {k: v for k, v in row.items() if v is not None}  # nothing to clear
            patent = Patent(institution_id=institution_id, created_by_id=actor_id)
            _apply(patent, values, plan.college_id if plan.college_id is not ... else None)
            db.session.add(patent)
            revisions.append((patent, {k: [None, _jsonable(k, v)] for k, v in values.items()}))
            counts["created"] += 1
        elif plan.kind == "changed":
            assert plan.patent is not None
            if actor is not None:  # the edit form's rule, enforced here as for the college
                permissions.check_edit(actor, plan.patent)
            if plan.college_id is not ... and plan.college_id != plan.patent.college_id:
                # The rule again, here: whatever planned the row, the service enforces it.
                permissions.check_college_change(actor, plan.patent, plan.college_id)
                moved.append((plan.patent, plan.patent.college_id))
            _apply(plan.patent, values, plan.college_id)
            if "implementation_status" in plan.changes:
                gone.append(plan.patent)
            revisions.append((plan.patent, plan.changes))
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
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
    for patent, old_college_id in moved:
        _review_in_new_college(patent, old_college_id, actor)
    how = f"导入任务 #{import_job_id}" if import_job_id else "导入"
    for patent in gone:
        announce_rights_gone(patent, actor, "实施状态改为{gone}（" + how + "）")
    db.session.flush()
    return counts


def get_patent_for(actor: User, patent_id: int) -> Patent:
    """Read one patent the actor may see (NotFoundError otherwise)."""
    return permissions.get_visible_patent(actor, patent_id)
