"""Password recovery: a one-time link, asked for by e-mail or issued by an admin.

- ``request_password_reset``: the "忘记密码" form. It answers the same for every address
  (known, unknown, deactivated, over its limit): nothing is raised, the same rows are counted,
  the same commit is made. Only the per-client limit answers differently (429), and that one
  depends on the client, not on the address.
- ``issue_admin_reset``: a university admin (members of their university) or a platform admin
  (anyone) ends the member's sessions, voids the password and gets a link to hand over — never
  a password the admin knows. Audited.
- ``complete_password_reset``: the link sets a new password under the password policy, once,
  and ends every session of the user. Audited.

Tokens are ``HMAC(SECRET_KEY, nonce)``; the row keeps the nonce and the token's SHA-256. The
e-mail goes out through the notification path (a worker, SMTP) with the row's id only, and the
worker rebuilds the link: task arguments sit in the broker (and its persistence files) in
clear, so no token ever goes there. The row is the e-mail's outbox (revive/queue.py): a link
asked for while the broker was down is e-mailed when it is back. Reading the database alone
gives no usable link; the database and SECRET_KEY together would (SECRET_KEY signs the cookies
as well).

Public functions commit; helpers starting with ``_`` only flush.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from revive import queue
from revive.accounts import passwords, services, sessions, throttle, tokens
from revive.accounts.models import PasswordReset, User
from revive.audit import services as audit
from revive.db import utcnow
from revive.errors import DomainError, NotFoundError, ValidationFailed
from revive.extensions import db
from revive.web import external_url, site_path

logger = logging.getLogger(__name__)

RESET_WINDOW = timedelta(hours=1)  # the window of the reset-request limits
KEEP_ENDED = timedelta(days=30)  # expired links are kept this long for the record
EMAIL_TASK = "notifications.password_reset_email"


class ResetUnusable(DomainError):  # noqa: N818  (named like errors.py)
    """The reset link is unknown, used, replaced or expired."""

    status_code = 410
    code = "reset_link_unusable"
    default_message = "重置密码链接无效"


class ResetRateLimited(DomainError):  # noqa: N818
    status_code = 429
    code = "too_many_requests"
    default_message = "重置密码的请求过于频繁，请稍后再试"


def reset_minutes() -> int:
    return int(current_app.config.get("REVIVE_PASSWORD_RESET_MINUTES", 30))


def admin_reset_hours() -> int:
    return int(current_app.config.get("REVIVE_ADMIN_RESET_HOURS", 24))


RESET = "reset"  # PasswordReset.purpose of a password reset (accounts/confirm.py: "confirm")


def _token(nonce: str, purpose: str = RESET) -> str:
    key = str(current_app.secret_key).encode("utf-8")
    label = "revive-password-reset" if purpose == RESET else f"revive-{purpose}"
    mac = hmac.new(key, f"{label}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


def _hash(token: str) -> str:
    return services.hash_token(token)


def token_of(reset: PasswordReset) -> str:
    """The link's token, rebuilt from the row's nonce, purpose and SECRET_KEY."""
    return _token(reset.nonce, reset.purpose or RESET)


def reset_link(token: str) -> str:
    """The full link to the reset page: REVIVE_BASE_URL, else the request's host, else a path."""
    return external_url("accounts.reset_password", token=token)


def new_link(
    user: User,
    *,
    lifetime: timedelta,
    issued_by: User | None = None,
    ip: str | None = None,
    purpose: str = RESET,
) -> tuple[PasswordReset, str]:
    nonce = secrets.token_hex(16)
    token = _token(nonce, purpose)
    now = utcnow()
    reset = PasswordReset(
        user_id=user.id,
        purpose=purpose,
        token_hash=_hash(token),
        nonce=nonce,
        created_at=now,
        expires_at=now + lifetime,
        issued_by_id=issued_by.id if issued_by is not None else None,
        ip=(ip or "")[:45] or None,
    )
    db.session.add(reset)
    db.session.flush()
    return reset, token


def _prune(now: datetime) -> None:
    db.session.execute(sa.delete(PasswordReset).where(PasswordReset.expires_at < now - KEEP_ENDED))


# --- by e-mail ------------------------------------------------------------------------------


def request_password_reset(email: str, *, ip: str | None) -> None:
    """The "忘记密码" form: e-mail a one-time link to ``email`` if an active account has it.

    Answers the same whatever the address (returns None, same limits counted, one commit).
    Per address at most REVIVE_RESET_MAX_PER_ADDRESS links an hour: past it nothing is sent,
    silently (the links already sent still work). Per client address at most
    REVIVE_RESET_MAX_PER_IP requests an hour: past it ResetRateLimited (429)."""
    cfg, now = current_app.config, utcnow()
    if ip:
        if throttle.count(throttle.Scope.RESET_IP, ip, window=RESET_WINDOW, now=now) >= int(
            cfg.get("REVIVE_RESET_MAX_PER_IP", 30)
        ):
            raise ResetRateLimited()
        throttle.hit(throttle.Scope.RESET_IP, ip, window=RESET_WINDOW, now=now)
    email = services.normalize_email(email)
    key = throttle.digest(email)
    sent = throttle.count(throttle.Scope.RESET_ADDRESS, key, window=RESET_WINDOW, now=now)
    allowed = sent < int(cfg.get("REVIVE_RESET_MAX_PER_ADDRESS", 3))
    if allowed:
        throttle.hit(throttle.Scope.RESET_ADDRESS, key, window=RESET_WINDOW, now=now)
    user = db.session.scalar(sa.select(User).where(User.email == email))
    _prune(now)  # for every address alike: the work differs only by the new row
    reset = None
    if allowed and user is not None and user.is_active:
        # Earlier links stay valid until they expire or one of them is used.
        reset, _ = new_link(user, lifetime=timedelta(minutes=reset_minutes()), ip=ip)
    db.session.commit()
    if reset is not None:
        _send_link(reset)


def _send_link(reset: PasswordReset) -> None:
    """After commit: e-mail the link (a worker sends it), or log it when there is no SMTP."""
    if current_app.config.get("REVIVE_SMTP_HOST"):
        # Broker down: nothing raised (the form must answer as it does for an unknown
        # address); the row stays unsent and the recovery sweep sends it when it is back.
        queue.send(EMAIL_TASK, reset.id)
        return
    logger.info(
        "Password reset link for %s (no SMTP configured, valid %d minutes): %s",
        reset.user.email,
        reset_minutes(),
        _logged_link(token_of(reset)),
    )


_ADD_SITE = "请在前面加上本站地址"


def _logged_link(token: str) -> str:
    """The link an operator reads in the log and passes on: on REVIVE_BASE_URL, else a path.
    The anonymous request that asked for it chose its own Host header: a trial had
    http://evil.example/password/reset/<a real user's token> written for the operator to
    forward."""
    if current_app.config.get("REVIVE_BASE_URL"):
        return reset_link(token)
    path = site_path("accounts.reset_password", token=token)
    return f"{path} (REVIVE_BASE_URL is not set: put the site's address before it / {_ADD_SITE})"


def _emailable() -> sa.ColumnElement[bool]:
    """A link asked for by e-mail, not yet e-mailed, still usable, with SMTP configured."""
    if not current_app.config.get("REVIVE_SMTP_HOST"):
        return sa.false()
    return sa.and_(
        PasswordReset.issued_by_id.is_(None),
        PasswordReset.emailed_at.is_(None),
        PasswordReset.used_at.is_(None),
        PasswordReset.revoked_at.is_(None),
        PasswordReset.expires_at > utcnow(),
    )


def _give_up_email(reset_id: int) -> None:
    """The e-mail could not go out after queue.MAX_ATTEMPTS deliveries: the link is voided
    (nobody received it; asking again makes a new one)."""
    db.session.rollback()
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset_id, PasswordReset.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()


queue.register(
    queue.Kind(
        EMAIL_TASK,
        PasswordReset,
        active=_emailable,
        give_up=_give_up_email,
        changed=PasswordReset.created_at,
    )
)


# --- by an admin ----------------------------------------------------------------------------


def issue_admin_reset(user_id: int, *, actor: User) -> tuple[PasswordReset, str]:
    """An admin resets a member's password: the old password stops working, every session of
    the member ends, earlier links are void, and a one-time link (returned once, with its
    token; valid REVIVE_ADMIN_RESET_HOURS) lets the member choose a new one. Audited."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFoundError("用户不存在")
    services.check_manages_member(actor, user)
    if user.id == actor.id:
        raise ValidationFailed("请在「账号与安全」页修改自己的密码")
    if not user.is_active:
        raise ValidationFailed("该账号已停用，请先恢复再重置密码")
    now = utcnow()
    _prune(now)
    services.void_pending_resets(user.id, now)
    # Nobody knows this password, the admin included; only the link sets a usable one.
    user.password_hash = passwords.hash_password(secrets.token_urlsafe(32))
    ended = sessions.revoke_user_sessions(user.id, "password_reset")
    revoked = tokens.revoke_user_tokens(user.id, "password_reset", actor=actor)
    reset, token = new_link(user, lifetime=timedelta(hours=admin_reset_hours()), issued_by=actor)
    audit.record(
        "user",
        user.id,
        "password_reset_link",
        actor=actor,
        organization_id=user.organization_id,
        email=user.email,
        expires_at=reset.expires_at.isoformat(timespec="minutes"),
        sessions_ended=ended,
        tokens_revoked=revoked,
    )
    db.session.commit()
    return reset, token


# --- using the link -------------------------------------------------------------------------


def add_enterprise_user(
    *, actor: User, organization_id: int, email: str, name: str
) -> tuple[User, str]:
    """A user added to a registered enterprise by the platform admin
    (services.create_enterprise_user), and the token of the one-time link that sets its
    password (``issue_admin_reset``): nobody, the admin included, knows a password for it."""
    user = services.create_enterprise_user(
        actor=actor, organization_id=organization_id, email=email, name=name
    )
    _, token = issue_admin_reset(user.id, actor=actor)
    return user, token


def get_usable_reset(token: str) -> PasswordReset:
    """The pending, unexpired reset for ``token``; ResetUnusable (410) with the reason."""
    reset = db.session.scalar(
        sa.select(PasswordReset).where(
            PasswordReset.token_hash == _hash(token or ""), PasswordReset.purpose == RESET
        )
    )
    again = "请重新申请重置密码，或联系本单位管理员"
    if reset is None:
        raise ResetUnusable(f"重置密码链接无效，请核对链接是否完整；{again}")
    if reset.used_at is not None:
        raise ResetUnusable(f"该链接已使用过，请直接登录；如仍无法登录，{again}")
    if reset.revoked_at is not None:
        raise ResetUnusable(f"该链接已被更新的链接取代；{again}")
    if reset.expires_at <= utcnow():
        raise ResetUnusable(f"该链接已过期；{again}")
    if not reset.user.is_active:
        raise ResetUnusable("该账号已停用，请联系本单位管理员")
    return reset


def claim(link_id: int, now: datetime) -> bool:
    """Mark a link (reset or e-mail confirmation) used, once: when it is submitted twice at
    once only one UPDATE matches. No commit."""
    return (
        db.session.execute(
            sa.update(PasswordReset)
            .where(
                PasswordReset.id == link_id,
                PasswordReset.used_at.is_(None),
                PasswordReset.revoked_at.is_(None),
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def complete_password_reset(token: str, *, password: str) -> User:
    """Set the new password through the link (once), void the user's other links and end
    every session of the user. Audited."""
    reset = get_usable_reset(token)
    user = reset.user
    services.validate_password(password, email=user.email, name=user.name)
    now = utcnow()
    if not claim(reset.id, now):
        db.session.rollback()
        raise ResetUnusable("该链接已使用过，请直接登录")
    services.void_pending_resets(user.id, now, except_id=reset.id)
    if reset.issued_by_id is None and user.email_confirmed_at is None:
        user.email_confirmed_at = now  # the e-mailed link proved the mailbox
    user.password_hash = passwords.hash_password(password)
    ended = sessions.revoke_user_sessions(user.id, "password_reset")
    revoked = tokens.revoke_user_tokens(user.id, "password_reset", actor=user)
    audit.record(
        "user",
        user.id,
        "password_reset",
        actor=user,
        organization_id=user.organization_id,
        via="admin" if reset.issued_by_id else "email",
        sessions_ended=ended,
        tokens_revoked=revoked,
    )
    db.session.commit()
    return user
