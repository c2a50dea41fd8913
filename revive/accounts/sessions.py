"""Server-side, revocable sign-in sessions (table ``user_sessions``).

The signed Flask cookie only carries a random token (``SESSION_KEY``); the row behind it decides
whether the browser is still signed in, so logging out, "log out everywhere", a password change
or reset and deactivation end sessions at once, on every device — the cookie alone is worth
nothing once its row is revoked, expired or idle.

Limits (app.config): ``REVIVE_SESSION_LIFETIME_HOURS`` (absolute, from sign-in) and
``REVIVE_SESSION_IDLE_MINUTES`` (since the last request). ``last_seen_at`` is written at most
once per ``TOUCH_INTERVAL`` per session, so an ordinary request costs one indexed read.

Public functions commit; helpers starting with ``_`` only flush.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from revive.accounts.models import User, UserSession
from revive.db import utcnow
from revive.errors import NotFoundError
from revive.extensions import db

#: Key of the token in the (signed) Flask session cookie.
SESSION_KEY = "sid"
#: last_seen_at is refreshed at most this often (one UPDATE a minute per active session).
TOUCH_INTERVAL = timedelta(minutes=1)
#: Ended sessions are kept this long for the record, then pruned when someone signs in.
KEEP_ENDED = timedelta(days=7)

DEFAULT_LIFETIME_HOURS = 12
DEFAULT_IDLE_MINUTES = 120


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def lifetime() -> timedelta:
    return timedelta(
        hours=int(current_app.config.get("REVIVE_SESSION_LIFETIME_HOURS", DEFAULT_LIFETIME_HOURS))
    )


def idle_timeout() -> timedelta:
    return timedelta(
        minutes=int(current_app.config.get("REVIVE_SESSION_IDLE_MINUTES", DEFAULT_IDLE_MINUTES))
    )


def is_live(row: UserSession, now: datetime) -> bool:
    """Not revoked, within the absolute lifetime, and used within the idle timeout."""
    return (
        row.revoked_at is None and row.expires_at > now and row.last_seen_at > now - idle_timeout()
    )


def live_clause(now: datetime) -> sa.ColumnElement[bool]:
    """``is_live`` as SQL."""
    return sa.and_(
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
        UserSession.last_seen_at > now - idle_timeout(),
    )


def start_session(user: User, *, ip: str | None, user_agent: str | None) -> str:
    """Open a new session for ``user``; returns its token (only the hash is stored). Commits.

    Every sign-in gets a new token, so a session id planted or seen before sign-in is
    worthless afterwards (session fixation)."""
    now = utcnow()
    db.session.execute(sa.delete(UserSession).where(UserSession.expires_at < now - KEEP_ENDED))
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_hash(token),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime(),
            ip=(ip or "")[:45] or None,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    db.session.commit()
    return token


def find_live(
    user_id: str | int, token: str | None, *, ip: str | None = None
) -> UserSession | None:
    """The live session behind ``token`` if it belongs to ``user_id`` (an active user), else
    None. Refreshes last_seen_at (and the address) when it is over a minute old: commits
    then, so call it before the request changes anything (the app does, in before_request)."""
    if not token:
        return None
    row = db.session.scalar(sa.select(UserSession).where(UserSession.token_hash == _hash(token)))
    now = utcnow()
    if row is None or str(row.user_id) != str(user_id) or not is_live(row, now):
        return None
    if not row.user.is_active:
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        if ip:
            row.ip = ip[:45]
        db.session.commit()
    return row


def _revoke(query: sa.Select, reason: str, now: datetime) -> int:
    rows = list(db.session.scalars(query.where(UserSession.revoked_at.is_(None))))
    for row in rows:
        row.revoked_at, row.revoke_reason = now, reason
    db.session.flush()
    return len(rows)


def revoke_user_sessions(user_id: int, reason: str, *, keep_id: int | None = None) -> int:
    """Flush only: end every session of ``user_id`` (but ``keep_id``); returns how many."""
    query = sa.select(UserSession).where(UserSession.user_id == user_id)
    if keep_id is not None:
        query = query.where(UserSession.id != keep_id)
    return _revoke(query, reason, utcnow())


def end_session(session_id: int | None, reason: str = "logout") -> None:
    """End one session (signing out of this browser). Commits."""
    if session_id is not None:
        _revoke(sa.select(UserSession).where(UserSession.id == session_id), reason, utcnow())
        db.session.commit()


def revoke_session(session_id: int, *, actor: User) -> UserSession:
    """The actor ends one of their own sessions (the account page). Commits."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != actor.id:
        raise NotFoundError("该登录会话不存在")
    if row.revoked_at is None:
        row.revoked_at, row.revoke_reason = utcnow(), "revoked"
        db.session.commit()
    return row


def revoke_all_sessions(*, actor: User) -> int:
    """The actor logs out everywhere, this browser included (退出所有设备). Commits."""
    count = revoke_user_sessions(actor.id, "logout_all")
    db.session.commit()
    return count
