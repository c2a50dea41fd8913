"""The entry workflow as data: every status change goes through transition().

草稿 → 待学院审核 → 待学校审核 → 已入库 | 不入库 | 建议放弃, with 退回 (back to the filer with a
comment) at each review level. Patents without a college skip the college level, so the
college approval belongs to the college: a patent waiting for school review that gets a (new)
college goes back to 待学院审核 for that college's review (SYSTEM_ACTIONS; who may change the
college, and when, is inventory.permissions.college_change_refusal).
"""

from __future__ import annotations

from dataclasses import dataclass

from revive import signals
from revive.accounts.models import Role, User
from revive.audit import services as audit
from revive.common.fields import strip_invisible
from revive.db import utcnow
from revive.errors import InvalidTransition, ValidationFailed
from revive.extensions import db
from revive.inventory import legal
from revive.inventory.models import EntryStatus, Patent, StatusChange

S = EntryStatus

# The self-assessment a patent needs to enter the pool (and keeps while in it: the database
# check ck_patents_entered_is_graded): field, label.
SELF_ASSESSMENT = (
    ("trl", "技术成熟度"),
    ("value_grade", "专利价值分级自评"),
    ("transfer_willingness", "转化意愿"),
)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[EntryStatus]
    target: EntryStatus
    # Which roles may perform it (object scope is checked in inventory.permissions).
    roles: frozenset[Role]
    comment_required: bool = False
    batch: bool = False  # offered as a batch action to reviewers
    listed: bool = False  # offered as a batch on the patent list (submitting an import's drafts)


FILERS = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR})
COLLEGE_REVIEWERS = frozenset({Role.COLLEGE_ADMIN, Role.UNIVERSITY_ADMIN})
SCHOOL_REVIEWERS = frozenset({Role.UNIVERSITY_ADMIN})

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "submit",
            "提交审核",
            frozenset({S.DRAFT, S.RETURNED}),
            S.PENDING_COLLEGE,
            FILERS,
            listed=True,
        ),
        Action(
            "college_approve",
            "学院审核通过",
            frozenset({S.PENDING_COLLEGE}),
            S.PENDING_SCHOOL,
            COLLEGE_REVIEWERS,
            batch=True,
        ),
        Action(
            "college_return",
            "学院退回",
            frozenset({S.PENDING_COLLEGE}),
            S.RETURNED,
            COLLEGE_REVIEWERS,
            comment_required=True,
            batch=True,
        ),
        Action(
            "enter",
            "学校审核通过（入库）",
            frozenset({S.PENDING_SCHOOL}),
            S.ENTERED,
            SCHOOL_REVIEWERS,
            batch=True,
        ),
        Action(
            "school_return",
            "学校退回",
            frozenset({S.PENDING_SCHOOL}),
            S.RETURNED,
            SCHOOL_REVIEWERS,
            comment_required=True,
            batch=True,
        ),
        Action(
            "not_enter",
            "不入库",
            frozenset({S.PENDING_SCHOOL}),
            S.NOT_ENTERED,
            SCHOOL_REVIEWERS,
            comment_required=True,
            batch=True,
        ),
        Action(
            "abandon",
            "建议放弃",
            frozenset({S.PENDING_SCHOOL}),
            S.ABANDON,
            SCHOOL_REVIEWERS,
            comment_required=True,
            batch=True,
        ),
        Action(
            "reopen",
            "撤回重审",
            frozenset({S.ENTERED, S.NOT_ENTERED, S.ABANDON}),
            S.RETURNED,
            SCHOOL_REVIEWERS,
            comment_required=True,
        ),
    )
}

# Moves that follow from another change (services make them), never offered as a button nor
# accepted by name from a request (get_action knows only ACTIONS).
SYSTEM_ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "college_changed",
            "改派学院，重新学院审核",
            frozenset({S.PENDING_SCHOOL}),
            S.PENDING_COLLEGE,
            SCHOOL_REVIEWERS,
        ),
    )
}

# (from, to) pairs the workflow allows; the database layer never sees any other move.
ALLOWED_TRANSITIONS: frozenset[tuple[EntryStatus, EntryStatus]] = frozenset(
    (src, a.target) for a in (*ACTIONS.values(), *SYSTEM_ACTIONS.values()) for src in a.sources
) | frozenset({(S.DRAFT, S.PENDING_SCHOOL), (S.RETURNED, S.PENDING_SCHOOL)})


def target_of(action: Action, patent: Patent) -> EntryStatus:
    if action.name == "submit" and patent.college_id is None:
        return S.PENDING_SCHOOL  # no college: straight to the university level
    return action.target


def available_actions(patent: Patent) -> list[Action]:
    return [a for a in ACTIONS.values() if patent.status in a.sources]


def get_action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:
        # a name that is no action is a bad request (422), not a move the state forbids
        known = "、".join(ACTIONS)
        message = f"未知的操作：{str(name)[:40]}（可用：{known}）"
        raise ValidationFailed(message, details={"action": message}) from None


def transition(
    patent: Patent,
    action: Action,
    actor: User | None,
    comment: str | None,
    *,
    batch: bool = False,
) -> StatusChange:
    """Move ``patent`` by ``action``; write the StatusChange row (flushed, but in a batch) and
    the audit event (added, committed with the caller's transaction), and send
    ``patent_transitioned`` (the inventors' notices, added to the same transaction). Never
    commits; refuses (raises) before it changes anything.

    Permission to act on this object is the caller's job (inventory.permissions.check_action).
    ``batch``: one move of ``services.perform_batch``, which sends ``patents_transitioned`` for
    all of them at the end (the signal says so, and people are told once per batch).
    """
    comment = strip_invisible(comment or "") or None
    if patent.status not in action.sources:
        allowed = "、".join(s.label for s in sorted(action.sources, key=list(S).index))
        raise InvalidTransition(
            f"专利「{patent.title}」当前状态为「{patent.status.label}」，不能执行「{action.label}」"
            f"（仅限：{allowed}）"
        )
    if action.comment_required and not comment:
        raise ValidationFailed(f"「{action.label}」需要填写意见或原因")
    target = target_of(action, patent)
    if target == S.ENTERED:
        if legal.lapsed(patent.legal_status):
            raise ValidationFailed(
                f"专利「{patent.title}」的法律状态为「{patent.legal_status}」，专利权已不存在，"
                "不能入库（如状态有误，请先修改法律状态）"
            )
        missing = [label for key, label in SELF_ASSESSMENT if getattr(patent, key) is None]
        if missing:
            raise ValidationFailed(f"入库前须完成自评：缺少{'、'.join(missing)}")
    if (patent.status, target) not in ALLOWED_TRANSITIONS:  # pragma: no cover - table invariant
        raise InvalidTransition()
    now = utcnow()
    change = StatusChange(
        patent=patent,
        actor=actor,
        from_status=patent.status,
        to_status=target,
        comment=comment,
        created_at=now,
    )
    db.session.add(change)
    patent.status = target
    patent.status_changed_at = now
    if action.name == "submit":
        patent.submitted_at = now
    if target == S.ENTERED:
        patent.entered_at = now
    if not batch or patent.id is None:
        # Also gives a record moved on before its first flush its id. A batch's loaded
        # patents have theirs, and their rows go in one flush at the batch's commit.
        db.session.flush()
    audit.record(
        "patent",
        patent.id,
        action.name,
        actor,
        organization_id=patent.institution_id,
        from_status=change.from_status.value,
        to_status=target.value,
        comment=comment,
    )
    signals.patent_transitioned.send(
        None,
        patent=patent,
        change=change,
        action=action.name,
        actor=actor,
        comment=comment,
        batch=batch,
    )
    return change
