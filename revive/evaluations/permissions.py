"""Who may evaluate, invite, and see which evaluations. One place for the rules.

- Evaluate: an enterprise user whose organization received the patent as a match (a Deal with
  its enterprise_id, whatever the deal's stage) or was invited (EvaluationInvite); the patent
  must be in the pool (inventory.public.is_public: 已入库, still the university's, not
  lapsed). Officers do not evaluate on an enterprise's behalf. Out of the pool, the form shows
  only what identifies the patent (title, number, university) and why it left: its text is
  shown to enterprises only while it is public, as in the pool.
- Invite: platform admin and officers (any entered patent), the patent's university admin.
- See a patent's evaluations (patent panel, API):
  * staff (platform admin, officer), regulator and the patent's university users (whoever may
    open the patent record: university admin, its college admin, its inventors) see every
    evaluation with the enterprise's name — the university needs to know whom to talk to;
  * an enterprise allowed to evaluate sees its own evaluation and, once it has submitted it, the
    others anonymised as 企业A, 企业B… (letters in order of first submission). Cooperation
    intents are commercially sensitive between competitors, and showing others' stars before
    one's own rating would anchor it; the self-rating is hidden from enterprises for the same
    reason (the calibration compares two independent judgements).
- Calibration: university admin (own university), college admin (own college), staff and the
  regulator (any university, or all).
- Promotion lists: staff and the regulator (all universities), university and college admins
  (their own patents).
Objects a user may not see are 404, actions on them 403.
"""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.deals.models import Deal
from revive.errors import NotFoundError, PermissionDenied
from revive.evaluations.models import EvaluationInvite
from revive.extensions import db
from revive.inventory import permissions as inventory_permissions
from revive.inventory.models import Patent

STAFF_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER})
READ_ALL_ROLES = STAFF_ROLES | {Role.REGULATOR}
INVITER_ROLES = STAFF_ROLES | {Role.UNIVERSITY_ADMIN}
EVALUATOR_ROLES = frozenset({Role.ENTERPRISE})
CALIBRATION_ROLES = READ_ALL_ROLES | {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN}
PROMOTION_ROLES = CALIBRATION_ROLES
# Roles that see a patent's evaluations with enterprise names (subject to seeing the patent).
NAMED_VIEW_ROLES = READ_ALL_ROLES | {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR}


def is_enterprise(user: User) -> bool:
    return (
        user.is_authenticated and user.role == Role.ENTERPRISE and user.organization_id is not None
    )


def is_linked(user: User, patent_id: int) -> bool:
    """The user's enterprise received this patent as a match or was invited to evaluate it
    (one query)."""
    if not is_enterprise(user):
        return False
    org = user.organization_id
    deal = sa.exists().where(Deal.enterprise_id == org, Deal.patent_id == patent_id)
    invite = sa.exists().where(
        EvaluationInvite.enterprise_id == org, EvaluationInvite.patent_id == patent_id
    )
    return bool(db.session.scalar(sa.select(sa.or_(deal, invite))))


def evaluable_patent_ids(enterprise_id: int) -> sa.Select:
    """Ids of the patents an enterprise was matched with or invited to (any status)."""
    return sa.union(
        sa.select(Deal.patent_id).where(Deal.enterprise_id == enterprise_id),
        sa.select(EvaluationInvite.patent_id).where(
            EvaluationInvite.enterprise_id == enterprise_id
        ),
    )


def sees_names(user: User, patent: Patent) -> bool:
    """Staff, the regulator and the patent's own university users see enterprise names."""
    return (
        user.is_authenticated
        and user.role in NAMED_VIEW_ROLES
        and inventory_permissions.can_view(user, patent)
    )


def can_see_evaluations(user: User, patent: Patent) -> bool:
    return sees_names(user, patent) or is_linked(user, patent.id)


def get_patent_for_evaluations(user: User, patent_id: int) -> Patent:
    """The patent if the user may see (some of) its evaluations; 404 otherwise."""
    patent = db.session.get(Patent, patent_id)
    if patent is None or not can_see_evaluations(user, patent):
        raise NotFoundError("专利不存在或您无权查看")
    return patent


def get_patent_to_evaluate(user: User, patent_id: int) -> Patent:
    """The patent the enterprise user may evaluate: 404 when unrelated to it (ids leak nothing).

    The caller checks that the patent is in the pool (InvalidTransition otherwise), so an
    enterprise that was matched with a patent later withdrawn from the pool learns why it
    cannot rate it.
    """
    if not is_enterprise(user):
        raise PermissionDenied("只有企业用户可以评价专利")
    patent = db.session.get(Patent, patent_id)
    if patent is None or not is_linked(user, patent.id):
        raise NotFoundError("专利不存在，或未向贵企业推荐 / 邀请评价该专利")
    return patent


def can_invite(user: User, patent: Patent) -> bool:
    if not user.is_authenticated or user.role not in INVITER_ROLES:
        return False
    if user.role in STAFF_ROLES:
        return True
    return user.organization_id is not None and user.organization_id == patent.institution_id


def get_patent_to_invite(user: User, patent_id: int) -> Patent:
    """The patent if the user may invite enterprises to evaluate it: 404 when the user may not
    even see it, 403 when they see it but may not invite."""
    if user.role not in INVITER_ROLES:
        raise PermissionDenied("只有技术经理人、平台管理员或专利所属学校管理员可以邀请企业评价")
    patent = db.session.get(Patent, patent_id)
    if patent is None or not inventory_permissions.can_view(user, patent):
        raise NotFoundError("专利不存在或您无权查看")
    if not can_invite(user, patent):
        raise PermissionDenied("只有专利所属学校的管理员可以邀请企业评价")
    return patent


def scope_clause(user: User) -> sa.ColumnElement[bool]:
    """Patents a calibration chart or promotion list may cover for this user."""
    if user.role in READ_ALL_ROLES:
        return sa.true()
    if user.role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN):
        return inventory_permissions.visible_patents_clause(user)
    return sa.false()


def check_institution(user: User, institution_id: int | None) -> None:
    """Scoped users may name only their own university (any other id is a 404)."""
    if institution_id is None or user.role in READ_ALL_ROLES:
        return
    if institution_id != user.organization_id:
        raise NotFoundError("高校不存在或您无权查看")
