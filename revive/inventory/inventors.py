"""Inventor links: which inventor accounts a patent is linked to (so what an inventor sees).

Accounts used to be linked to every patent of the university whose 发明人 text contained the
account's name, a name the invitee typed when accepting the invitation (security issue #12).
Names are self-declared and collide (张伟 in two colleges), so a link now follows only from a
decision by someone who may make it (``permissions.can_manage_inventors``):

- invitation: when inviting an inventor, the inviter ticks patents in their scope whose
  发明人 names the person they invited (``choose_invitation_patents``); the new account is
  linked to them when the invitation is accepted (``link_invited_patents``, receiver of
  ``signals.invitation_accepted``), audited as the inviter's decision;
- per person: an admin opens an inventor (成员管理) and links or unlinks patents; patents
  naming the person are offered as suggestions, never linked by themselves (``link_patents``,
  ``unlink_patents``);
- per patent: on the patent page an admin links or unlinks inventor accounts of the patent's
  institution (``link_inventors``, ``unlink_inventors``);
- filing: an inventor who files a patent is linked to the record they filed
  (``services.create_patent``).

Every link and unlink writes an audit event on the patent, ``link_inventor`` /
``unlink_inventor`` with the account (inventor_id, inventor) and how it was decided (via).
Public functions commit, except ``link_account`` / ``unlink_account`` (they flush, for callers
composing a larger change); helpers starting with ``_`` only flush.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Invitation, Role, User
from revive.audit import services as audit
from revive.errors import NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import permissions
from revive.inventory.models import InvitationPatent, Patent, patent_inventors
from revive.selection import selected_ids

logger = logging.getLogger(__name__)
_NAME_SPLIT = re.compile(r"[;；,，、/\s]+")

# How a link was decided (the audit event's ``via``), in Chinese for pages and exports.
VIA_LABELS = {
    "filed": "发明人本人登记",
    "invitation": "邀请时指定",
    "person": "按发明人关联",
    "patent": "按专利关联",
}
# Name matches shown as suggestions (a common name in a large university matches many).
MAX_SUGGESTIONS = 200


# ---------------------------------------------------------------------------- links (flush)


def split_names(text: str | None) -> list[str]:
    """The names of a 发明人 text ("张伟；王芳、赵强")."""
    return [n for n in _NAME_SPLIT.split(text or "") if n]


def link_account(patent: Patent, user: User, *, actor: User | None, via: str, **data: Any) -> bool:
    """Link ``user`` to ``patent`` and audit it (flushes, no commit); False if already linked.

    The caller has checked that ``actor`` may decide this (or is the filing inventor)."""
    if user.role != Role.INVENTOR or user.organization_id != patent.institution_id:
        raise ValidationFailed(
            f"只能关联本单位的发明人账号：{user.name}", details={"ids": "须为本单位发明人账号"}
        )
    if any(u.id == user.id for u in patent.inventor_users):
        return False
    patent.inventor_users.append(user)
    _audit(patent, user, "link_inventor", actor, via, **data)
    db.session.flush()
    return True


def unlink_account(patent: Patent, user: User, *, actor: User, via: str) -> bool:
    """Remove the link of ``user`` to ``patent`` and audit it (flushes); False if not linked."""
    kept = [u for u in patent.inventor_users if u.id != user.id]
    if len(kept) == len(patent.inventor_users):
        return False
    patent.inventor_users = kept
    _audit(patent, user, "unlink_inventor", actor, via)
    db.session.flush()
    return True


def _audit(patent: Patent, user: User, action: str, actor: User | None, via: str, **data: Any):
    audit.record(
        "patent",
        patent.id,
        action,
        actor,
        organization_id=patent.institution_id,
        inventor_id=user.id,
        inventor=user.name,
        via=via,
        **data,
    )


# ---------------------------------------------------------------------------- loading


def get_inventor_for(actor: User, user_id: int) -> User:
    """An inventor account whose links ``actor`` may manage (their institution; platform admin:
    any); NotFoundError otherwise, so ids leak nothing."""
    user = db.session.get(User, user_id)
    if (
        user is None
        or user.role != Role.INVENTOR
        or actor.role not in permissions.LINK_MANAGER_ROLES
        or (actor.role != Role.PLATFORM_ADMIN and actor.organization_id != user.organization_id)
    ):
        raise NotFoundError("发明人账号不存在或不在您的管理范围内")
    return user


def get_invitation_for(actor: User, invitation_id: int) -> Invitation:
    """An inventor invitation ``actor`` manages (university admin of its university, platform
    admin); NotFoundError otherwise."""
    invitation = db.session.get(Invitation, invitation_id)
    if (
        invitation is None
        or invitation.role != Role.INVENTOR
        or actor.role not in (Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN)
        or (
            actor.role != Role.PLATFORM_ADMIN
            and actor.organization_id != invitation.organization_id
        )
    ):
        raise NotFoundError("邀请不存在或不在您的管理范围内")
    return invitation


def _managed_patents(actor: User, patent_ids: Sequence[int], institution_id: int) -> list[Patent]:
    """The patents of ``patent_ids`` (one institution) on which ``actor`` may manage links, in
    the given order; ValidationFailed naming the others (ids only: no titles leak)."""
    found = {
        p.id: p
        for p in db.session.scalars(
            sa.select(Patent).where(
                Patent.id.in_(patent_ids),
                Patent.institution_id == institution_id,
                permissions.managed_patents_clause(actor),
            )
        )
    }
    missing = [pid for pid in patent_ids if pid not in found]
    if missing:
        shown = "、".join(f"#{pid}" for pid in missing[:20])
        raise ValidationFailed(
            f"以下专利不存在或不在您的管理范围内：{shown}", details={"ids": shown}
        )
    return [found[pid] for pid in patent_ids]


# ---------------------------------------------------------------------------- per person


def link_patents(user_id: int, patent_ids: Iterable[Any], *, actor: User) -> int:
    """Link an inventor account to ticked patents in the actor's scope; returns how many."""
    user = get_inventor_for(actor, user_id)
    ids = selected_ids(patent_ids, empty="请先勾选要关联的专利")
    linked = sum(
        link_account(p, user, actor=actor, via="person")
        for p in _managed_patents(actor, ids, user.organization_id)
    )
    db.session.commit()
    return linked


def unlink_patents(user_id: int, patent_ids: Iterable[Any], *, actor: User) -> int:
    """Unlink an inventor account from ticked patents in the actor's scope; returns how many."""
    user = get_inventor_for(actor, user_id)
    ids = selected_ids(patent_ids, empty="请先勾选要取消关联的专利")
    unlinked = sum(
        unlink_account(p, user, actor=actor, via="person")
        for p in _managed_patents(actor, ids, user.organization_id)
    )
    db.session.commit()
    return unlinked


# ---------------------------------------------------------------------------- per patent


def get_manageable_patent(actor: User, patent_id: int) -> Patent:
    """A patent on which ``actor`` may manage inventor links: NotFoundError when they cannot
    see it, PermissionDenied when they see it but may not decide."""
    patent = permissions.get_visible_patent(actor, patent_id)
    if not permissions.can_manage_inventors(actor, patent):
        raise PermissionDenied("您无权管理该专利关联的发明人账号")
    return patent


def link_inventors(
    patent_id: int, user_ids: Iterable[Any] = (), *, actor: User, email: str | None = None
) -> int:
    """Link inventor accounts of the patent's institution (ticked ids and/or one login e-mail)
    to the patent; returns how many were newly linked."""
    patent = get_manageable_patent(actor, patent_id)
    email = (email or "").strip().lower()
    if not user_ids and not email:
        raise ValidationFailed("请勾选发明人账号或填写其登录邮箱", details={"ids": "不能为空"})
    ids = selected_ids(user_ids, empty="请勾选发明人账号") if user_ids else []
    accounts = sa.select(User).where(
        User.organization_id == patent.institution_id, User.role == Role.INVENTOR
    )
    users = list(db.session.scalars(accounts.where(User.id.in_(ids)))) if ids else []
    missing = sorted(set(ids) - {u.id for u in users})
    if missing:
        shown = "、".join(f"#{uid}" for uid in missing[:20])
        raise ValidationFailed(f"只能关联本单位的发明人账号：{shown}", details={"ids": shown})
    if email:
        by_email = db.session.scalar(accounts.where(User.email == email))
        if by_email is None:
            raise ValidationFailed(
                f"本单位没有登录邮箱为 {email[:254]} 的发明人账号", details={"email": "未找到"}
            )
        users.append(by_email)
    linked = sum(link_account(patent, u, actor=actor, via="patent") for u in users)
    db.session.commit()
    return linked


def unlink_inventors(patent_id: int, user_ids: Iterable[Any], *, actor: User) -> int:
    """Unlink ticked inventor accounts from the patent; returns how many."""
    patent = get_manageable_patent(actor, patent_id)
    ids = selected_ids(user_ids, empty="请先勾选要取消关联的发明人账号")
    linked = {u.id: u for u in patent.inventor_users}
    missing = [uid for uid in ids if uid not in linked]
    if missing:
        shown = "、".join(f"#{uid}" for uid in missing[:20])
        raise ValidationFailed(f"该专利未关联这些账号：{shown}", details={"ids": shown})
    unlinked = sum(unlink_account(patent, linked[uid], actor=actor, via="patent") for uid in ids)
    db.session.commit()
    return unlinked


# ---------------------------------------------------------------------------- invitations


def choose_invitation_patents(
    invitation_id: int, patent_ids: Iterable[Any] | None, *, actor: User
) -> list[int]:
    """Set the patents a pending inventor invitation links on acceptance (replaces the earlier
    choice; an empty choice clears it). Each must be in the actor's scope and name the person
    the inviter invited; returns the chosen ids."""
    invitation = get_invitation_for(actor, invitation_id)
    if not invitation.is_pending or invitation.is_expired:
        raise ValidationFailed(
            "该邀请已被使用、撤销或已过期；请在成员管理中打开该发明人，为其关联专利"
        )
    ids = selected_ids(patent_ids, empty="请先勾选专利") if patent_ids else []
    patents = _managed_patents(actor, ids, invitation.organization_id)
    unnamed = [p.id for p in patents if invitation.name not in split_names(p.inventors)]
    if unnamed:
        shown = "、".join(f"#{pid}" for pid in unnamed[:20])
        raise ValidationFailed(
            f"以下专利的发明人中没有「{invitation.name}」，不能在邀请时关联：{shown}"
            "（对方开通账号后，可在专利页面或成员管理中按人关联）",
            details={"ids": shown},
        )
    chosen = {
        row.patent_id: row
        for row in db.session.scalars(
            sa.select(InvitationPatent).where(InvitationPatent.invitation_id == invitation.id)
        )
    }
    for pid, row in chosen.items():
        if pid not in ids:
            db.session.delete(row)
    for pid in ids:
        if pid not in chosen:
            db.session.add(
                InvitationPatent(invitation_id=invitation.id, patent_id=pid, chosen_by_id=actor.id)
            )
    db.session.commit()
    return ids


def link_invited_patents(invitation_id: int) -> int:
    """Link the account created by an accepted invitation to the patents its inviter ticked,
    each audited as the decision of whoever ticked it; commits, returns how many.

    Receiver of ``signals.invitation_accepted`` (after the account was committed): a failure
    is logged and rolled back, never raised into the acceptance; the admin can then link the
    patents by hand, and the choice stays stored with the invitation."""
    try:
        invitation = db.session.get(Invitation, invitation_id)
        if invitation is None or invitation.user_id is None:
            return 0
        user = db.session.get(User, invitation.user_id)
        rows = db.session.scalars(
            sa.select(InvitationPatent)
            .where(InvitationPatent.invitation_id == invitation.id)
            .order_by(InvitationPatent.patent_id)
        ).all()
        linked = sum(
            link_account(
                row.patent, user, actor=row.chosen_by, via="invitation", invitation_id=invitation.id
            )
            for row in rows
        )
        db.session.commit()
        return linked
    except Exception:
        db.session.rollback()
        logger.exception("Could not link the patents chosen for invitation %s", invitation_id)
        return 0


# ---------------------------------------------------------------------------- reads


def _naming(actor: User, institution_id: int, name: str) -> sa.Select:
    """Patents of the institution in the actor's scope whose 发明人 text contains ``name``
    (a prefilter: callers keep those listing exactly that name)."""
    return (
        sa.select(Patent)
        .where(
            Patent.institution_id == institution_id,
            permissions.managed_patents_clause(actor),
            Patent.inventors.contains(name, autoescape=True),
        )
        .order_by(Patent.application_no)
        .limit(MAX_SUGGESTIONS * 5)
    )


def _exactly_naming(patents: Iterable[Patent], name: str) -> list[Patent]:
    return [p for p in patents if name in split_names(p.inventors)][:MAX_SUGGESTIONS]


def invitation_candidates(actor: User, invitation: Invitation) -> list[Patent]:
    """Patents the inviter may tick for an inventor invitation: in their scope, naming the
    invited person (as the inviter typed the name)."""
    return _exactly_naming(
        db.session.scalars(_naming(actor, invitation.organization_id, invitation.name)),
        invitation.name,
    )


def chosen_patent_ids(invitation_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(InvitationPatent.patent_id).where(
                InvitationPatent.invitation_id == invitation_id
            )
        )
    )


def linked_patents(actor: User, user: User) -> list[Patent]:
    """The patents ``user`` is linked to that ``actor`` manages."""
    linked = sa.select(patent_inventors.c.patent_id).where(patent_inventors.c.user_id == user.id)
    return list(
        db.session.scalars(
            sa.select(Patent)
            .where(Patent.id.in_(linked), permissions.managed_patents_clause(actor))
            .order_by(Patent.application_no)
        )
    )


def suggested_patents(actor: User, user: User) -> list[Patent]:
    """Suggestions for linking ``user``: patents in the actor's scope naming the account's
    name and not yet linked to it. Never linked without a tick."""
    linked = sa.select(patent_inventors.c.patent_id).where(patent_inventors.c.user_id == user.id)
    query = _naming(actor, user.organization_id, user.name).where(Patent.id.not_in(linked))
    return _exactly_naming(db.session.scalars(query), user.name)


def suggested_accounts(patent: Patent) -> list[User]:
    """Inventor accounts of the patent's institution whose name the patent lists and that are
    not linked to it: suggestions for the patent page, never linked without a tick."""
    names = split_names(patent.inventors)
    if not names:
        return []
    linked = {u.id for u in patent.inventor_users}
    users = db.session.scalars(
        sa.select(User)
        .where(
            User.organization_id == patent.institution_id,
            User.role == Role.INVENTOR,
            User.name.in_(names),
        )
        .order_by(User.name, User.id)
    )
    return [u for u in users if u.id not in linked]
