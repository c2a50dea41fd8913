"""Personal API tokens (table ``api_tokens``): how other systems call /api/v1 without a browser.

A user makes a token on the account page, names it, gives it a scope (read: GET/HEAD only;
write: every method the user's role allows) and an expiry date (default
``REVIVE_API_TOKEN_DAYS``, at most ``REVIVE_API_TOKEN_MAX_DAYS`` ahead). The token is shown once;
only its SHA-256 is stored (as for sign-in sessions and invitations: a random 256-bit token
needs no slow hash), with a short prefix so people can tell their tokens apart.

A request carrying ``Authorization: Bearer <token>`` on /api/ is authenticated by the token
alone (revive/bearer.py, revive/api/auth.py): it needs no CSRF token, since no cookie the
browser adds on its own authenticates it. A revoked or expired token, or one whose user is
deactivated, is a 401. The owner and the user's managers (a university admin for members of
their university, the platform admin for everyone) revoke tokens; deactivating an account
revokes its tokens. Creation and every revocation are audited (entity ``api_token``).

Public functions commit; helpers starting with ``_`` only flush.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from revive import clock
from revive.accounts.models import ApiToken, TokenScope, User
from revive.accounts.permissions import check_manages_member
from revive.audit import services as audit
from revive.db import utcnow
from revive.errors import DomainError, NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db

#: Every token starts with this, so secret scanners and people can recognise one.
TOKEN_PREFIX = "rvk_"
#: Characters of the token kept in clear (with TOKEN_PREFIX) to tell tokens apart.
SHOWN_CHARS = 6
#: last_used_at is refreshed at most this often (one UPDATE a minute per busy token).
TOUCH_INTERVAL = timedelta(minutes=1)
#: Live tokens one user may hold (a leaked page of tokens is a bounded list to revoke).
MAX_LIVE_TOKENS = 20
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DEFAULT_DAYS = 90
DEFAULT_MAX_DAYS = 365


class TokenRejected(DomainError):  # noqa: N818  (named like errors.py)
    """The bearer token is unknown, revoked or expired, or its user is deactivated."""

    status_code = 401
    code = "unauthorized"
    default_message = "API 令牌无效、已过期或已被撤销"


class TokenScopeDenied(PermissionDenied):  # noqa: N818
    default_message = "该 API 令牌为只读（read），只能用于 GET 请求；写操作请使用读写（write）令牌"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def default_days() -> int:
    return max(1, int(current_app.config.get("REVIVE_API_TOKEN_DAYS", DEFAULT_DAYS)))


def max_days() -> int:
    return max(1, int(current_app.config.get("REVIVE_API_TOKEN_MAX_DAYS", DEFAULT_MAX_DAYS)))


def today_beijing(now: datetime | None = None) -> date:
    """Today in local time (REVIVE_TIMEZONE, Beijing by default)."""
    return clock.local_date(now) if now is not None else clock.local_today()


def default_expiry_date() -> date:
    return today_beijing() + timedelta(days=min(default_days(), max_days()))


def last_expiry_date() -> date:
    return today_beijing() + timedelta(days=max_days())


def end_of_day(day: date) -> datetime:
    """A token valid "until ``day``" works through that whole day, local (Beijing) time."""
    return clock.local_day_start(day + timedelta(days=1))


def _check_expiry(expires_on: date | None) -> date:
    if expires_on is None:
        return default_expiry_date()
    if not isinstance(expires_on, date):
        raise ValidationFailed("有效期须为日期", details={"field": "expires_on"})
    today, last = today_beijing(), last_expiry_date()
    if expires_on < today:
        raise ValidationFailed("有效期不能早于今天", details={"field": "expires_on"})
    if expires_on > last:
        raise ValidationFailed(
            f"有效期最长 {max_days()} 天，即不晚于 {last.isoformat()}",
            details={"field": "expires_on"},
        )
    return expires_on


def _record(token: ApiToken, action: str, actor: User | None, **data: object) -> None:
    audit.record(
        "api_token",
        token.id,
        action,
        actor=actor,
        organization_id=token.user.organization_id,
        user_id=token.user_id,
        name=token.name,
        scope=token.scope.value,
        prefix=token.prefix,
        **data,
    )


def live_count(user_id: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.session.scalar(
        sa.select(sa.func.count(ApiToken.id)).where(
            ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    )


def create_token(
    *, actor: User, name: str, scope: TokenScope | str, expires_on: date | None = None
) -> tuple[ApiToken, str]:
    """Make a token for ``actor`` (their own: nobody makes tokens for others). Returns the row
    and the token, which is never stored nor shown again. Audited."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("请填写令牌名称（用途）", details={"field": "name"})
    if len(name) > 100:
        raise ValidationFailed("令牌名称不能超过 100 个字", details={"field": "name"})
    try:
        scope = TokenScope(scope)
    except ValueError:
        raise ValidationFailed("权限只能是只读或读写", details={"field": "scope"}) from None
    expires_on = _check_expiry(expires_on)
    now = utcnow()
    if live_count(actor.id, now) >= MAX_LIVE_TOKENS:
        raise ValidationFailed(
            f"每个账号最多同时持有 {MAX_LIVE_TOKENS} 个有效令牌，请先撤销不再使用的令牌"
        )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=actor.id,
        name=name,
        token_hash=hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + SHOWN_CHARS],
        scope=scope,
        created_at=now,
        expires_at=end_of_day(expires_on),
    )
    db.session.add(row)
    db.session.flush()
    row.user = actor
    _record(row, "create", actor, expires_on=expires_on.isoformat())
    db.session.commit()
    return row, token


def authenticate(token: str, *, method: str, ip: str | None = None) -> ApiToken:
    """The live token behind ``token`` for a request of ``method``: TokenRejected (401) when
    it is unknown, revoked, expired or its user deactivated; TokenScopeDenied (403) for a
    write with a read token. Refreshes last_used_at when over a minute old (commits then: call
    it before the request changes anything, as the app does in before_request)."""
    row = db.session.scalar(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    now = utcnow()
    if row is None or not row.is_live(now):
        raise TokenRejected()
    if not row.user.is_active:
        raise TokenRejected("该 API 令牌所属的账号已停用")
    if row.scope == TokenScope.READ and method.upper() not in READ_METHODS:
        raise TokenScopeDenied()
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        row.last_used_at = now
        row.last_used_ip = (ip or "")[:45] or None
        db.session.commit()
    return row


def may_manage(actor: User, token: ApiToken) -> bool:
    """The owner, or a manager of the owner (see permissions.check_manages_member)."""
    if token.user_id == actor.id:
        return True
    try:
        check_manages_member(actor, token.user)
    except PermissionDenied:
        return False
    return True


def _revoke(token: ApiToken, reason: str, actor: User | None, now: datetime) -> None:
    token.revoked_at, token.revoke_reason = now, reason
    token.revoked_by_id = actor.id if actor is not None else None
    _record(token, "revoke", actor, reason=reason)


def revoke_token(token_id: int, *, actor: User) -> ApiToken:
    """The owner or one of the owner's managers revokes a token (at once). Audited."""
    token = db.session.get(ApiToken, token_id)
    if token is None or not may_manage(actor, token):
        raise NotFoundError("该 API 令牌不存在")
    if token.revoked_at is not None:
        raise ValidationFailed("该 API 令牌已被撤销")
    _revoke(token, "owner" if token.user_id == actor.id else "admin", actor, utcnow())
    db.session.commit()
    return token


def revoke_user_tokens(user_id: int, reason: str, *, actor: User | None) -> int:
    """Flush only: revoke every unrevoked token of ``user_id`` (e.g. on deactivation),
    each audited; returns how many."""
    now = utcnow()
    rows = list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        )
    )
    for row in rows:
        _revoke(row, reason, actor, now)
    db.session.flush()
    return len(rows)
