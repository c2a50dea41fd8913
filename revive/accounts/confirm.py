"""E-mail confirmation of a self-registered enterprise account.

A security review registered an enterprise under a real company's 统一社会信用代码 (public
information) with an address of its own making: the code was then taken, and the real company
could not register. So when the platform can send e-mail (REVIVE_SMTP_HOST set), a new
self-registered account signs in only after opening a link e-mailed to its address:

- ``start`` (inside the registration's transaction) marks the user unconfirmed and makes the
  link; ``send`` e-mails it after the commit, through the same outbox as password-reset links
  (a ``PasswordReset`` row with purpose "confirm": the token is rebuilt by the worker, never
  stored or queued; revive/accounts/recovery.py).
- ``confirm`` (the link's page, a POST from it) marks the mailbox proven, once. Audited.
- ``resend``: a new link from the login page, at most REVIVE_CONFIRM_RESEND_PER_HOUR an hour
  per account; earlier links are voided.
- ``release_stale``: a registration left unconfirmed once its link has expired
  (REVIVE_EMAIL_CONFIRM_HOURS) no longer holds the credit code, the name or the address: a new
  registration of any of them removes it (it never signed in, so it owns nothing).

Without SMTP nothing can be e-mailed: accounts are confirmed at once, as before (an operator
running without mail reviews registrations in the member list instead).

Public functions commit, except ``start`` and ``release_stale``, which only flush.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from revive import queue
from revive.accounts import recovery, services, throttle
from revive.accounts.models import PasswordReset, User
from revive.audit import services as audit
from revive.db import savepoint, utcnow
from revive.errors import DomainError
from revive.extensions import db
from revive.web import external_url

logger = logging.getLogger(__name__)

CONFIRM = "confirm"
RESEND_WINDOW = timedelta(hours=1)


class ConfirmUnusable(DomainError):  # noqa: N818  (named like errors.py)
    """The confirmation link is unknown, used, replaced or expired."""

    status_code = 410
    code = "confirm_link_unusable"
    default_message = "邮箱验证链接无效"


class ResendLimited(DomainError):  # noqa: N818
    status_code = 429
    code = "too_many_requests"
    default_message = "验证邮件发送过于频繁，请稍后再试"


class EmailNotConfirmed(DomainError):  # noqa: N818
    """Right credentials, mailbox not yet proven (the login page offers a new link)."""

    status_code = 403
    code = "email_not_confirmed"
    default_message = "邮箱尚未验证"

    def __init__(self, user: User) -> None:
        super().__init__(
            f"邮箱尚未验证：请打开发到 {user.email} 的验证邮件中的链接，验证后即可登录。"
            "没有收到？请查看垃圾邮件，或点击下方按钮重新发送。"
        )
        self.user_id = user.id


def required() -> bool:
    """Must a new registration prove its mailbox? Only when e-mail can be sent."""
    return bool(current_app.config.get("REVIVE_SMTP_HOST"))


def confirm_hours() -> int:
    return int(current_app.config.get("REVIVE_EMAIL_CONFIRM_HOURS", 72))


def link(token: str) -> str:
    return external_url("accounts.confirm_email", token=token)


def start(user: User) -> PasswordReset:
    """Mark a new user unconfirmed and make the link (flush only; ``send`` after commit)."""
    user.email_confirmed_at = None
    reset, _ = recovery.new_link(user, lifetime=timedelta(hours=confirm_hours()), purpose=CONFIRM)
    return reset


def send(reset: PasswordReset) -> None:
    """After commit: the worker e-mails the link (the broker down: the recovery sweep sends
    it when it is back, as for reset links)."""
    queue.send(recovery.EMAIL_TASK, reset.id)


def get_usable(token: str) -> PasswordReset:
    """The pending, unexpired confirmation link for ``token``; ConfirmUnusable (410)."""
    row = db.session.scalar(
        sa.select(PasswordReset).where(
            PasswordReset.token_hash == services.hash_token(token or ""),
            PasswordReset.purpose == CONFIRM,
        )
    )
    again = "请在登录页输入邮箱和密码后重新发送验证邮件"
    if row is None:
        raise ConfirmUnusable(f"邮箱验证链接无效，请核对链接是否完整；或{again}")
    if row.used_at is not None or row.user.email_confirmed_at is not None:
        raise ConfirmUnusable("该邮箱已经验证过，请直接登录")
    if row.revoked_at is not None:
        raise ConfirmUnusable(f"该链接已被更新的验证邮件取代，请使用最新的一封；或{again}")
    if row.expires_at <= utcnow():
        raise ConfirmUnusable(f"该链接已过期；{again}")
    if not row.user.is_active:
        raise ConfirmUnusable("该账号已停用，请联系平台管理员")
    return row


def confirm(token: str) -> User:
    """Open the link: the user's mailbox is proven (once). Audited. Commits."""
    row = get_usable(token)
    now = utcnow()
    if not recovery.claim(row.id, now):
        db.session.rollback()
        raise ConfirmUnusable("该邮箱已经验证过，请直接登录")
    user = row.user
    user.email_confirmed_at = now
    audit.record("user", user.id, "confirm_email", actor=user, organization_id=user.organization_id)
    db.session.commit()
    return user


def resend(user_id: int) -> None:
    """A new link for an unconfirmed user who has just given the right password (the login
    page); earlier links are voided. ResendLimited (429) past the hourly limit. Commits."""
    user = db.session.get(User, user_id)
    if user is None or user.email_confirmed_at is not None or not user.is_active:
        return
    now = utcnow()
    key = f"confirm:{user.id}"
    limit = int(current_app.config.get("REVIVE_CONFIRM_RESEND_PER_HOUR", 3))
    scope = throttle.Scope.RESET_ADDRESS
    if throttle.count(scope, key, window=RESEND_WINDOW, now=now) >= limit:
        raise ResendLimited(f"每小时最多重新发送 {limit} 次验证邮件，请稍后再试")
    throttle.hit(scope, key, window=RESEND_WINDOW, now=now)
    services.void_pending_resets(user.id, now, purpose=CONFIRM)
    row = start(user)
    db.session.commit()
    send(row)


def _stale_users() -> sa.Select[tuple[int]]:
    """Unconfirmed users none of whose confirmation links is still usable."""
    usable = sa.select(PasswordReset.id).where(
        PasswordReset.user_id == User.id,
        PasswordReset.purpose == CONFIRM,
        PasswordReset.used_at.is_(None),
        PasswordReset.revoked_at.is_(None),
        PasswordReset.expires_at > utcnow(),
    )
    return sa.select(User.id).where(
        User.email_confirmed_at.is_(None), User.last_login_at.is_(None), ~usable.exists()
    )


def release_stale(*, credit_code: str, name_key: str, email: str) -> int:
    """Remove expired, never-confirmed registrations holding this credit code, organisation
    name (``services.org_name_key``) or address, with their organisation when nobody else is
    in it. They never signed in, so they own nothing. Flush only; returns how many went."""
    from revive.accounts.services import org_name_key

    stale = set(db.session.scalars(_stale_users()))
    if not stale:
        return 0
    gone = 0
    for user in db.session.scalars(sa.select(User).where(User.id.in_(stale))):
        org = user.organization
        holds = user.email == email or (
            org is not None
            and (org.credit_code == credit_code or org_name_key(org.name) == name_key)
        )
        if not holds:
            continue
        others = db.session.scalar(
            sa.select(sa.func.count(User.id)).where(
                User.organization_id == user.organization_id, User.id != user.id
            )
        )
        try:
            with savepoint():
                db.session.execute(sa.delete(PasswordReset).where(PasswordReset.user_id == user.id))
                db.session.delete(user)
                if org is not None and not others:
                    db.session.delete(org)
        except sa.exc.IntegrityError:
            logger.warning("Stale registration %s is referenced; kept", user.id)
            continue
        logger.info("Released the expired, unconfirmed registration of user %s", user.id)
        gone += 1
    return gone
