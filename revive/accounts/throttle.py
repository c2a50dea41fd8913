"""Sliding-window counters in the database (table ``throttle_events``), so every web process
sees the same counts. No commits here: the calling service commits.

Scopes (what is counted per what key):

- ``login_account``: failed logins from *untrusted* clients, per e-mail address tried (a hash,
  the same whether or not an account has the address, so the limit reveals nothing);
- ``login_device``: failed logins from one *trusted* device (a browser holding a device cookie
  for the account, see revive/accounts/devices.py), per account and device;
- ``login_ip``: failed logins from untrusted clients, per client address;
- ``reset_address`` / ``reset_ip``: password-reset requests, per address tried and per client.
"""

from __future__ import annotations

import enum
import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from revive.accounts.models import ThrottleEvent
from revive.extensions import db


class Scope(enum.StrEnum):
    LOGIN_ACCOUNT = "login_account"
    LOGIN_DEVICE = "login_device"
    LOGIN_IP = "login_ip"
    RESET_ADDRESS = "reset_address"
    RESET_IP = "reset_ip"
    REGISTER_IP = "register_ip"


def digest(text: str) -> str:
    """A key that stores no personal data (e-mail addresses): its SHA-256, hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def count(scope: Scope, key: str, *, window: timedelta, now: datetime) -> int:
    """Events recorded under (scope, key) within the window."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(ThrottleEvent.id)).where(
                ThrottleEvent.scope == scope,
                ThrottleEvent.key == key[:64],
                ThrottleEvent.created_at >= now - window,
            )
        )
        or 0
    )


def hit(scope: Scope, key: str, *, window: timedelta, now: datetime) -> None:
    """Record one event (flush only). Prunes the scope's events outside the window first
    (indexed on created_at), so the table stays small."""
    db.session.execute(
        sa.delete(ThrottleEvent).where(
            ThrottleEvent.scope == scope, ThrottleEvent.created_at < now - window
        )
    )
    db.session.add(ThrottleEvent(scope=scope, key=key[:64], created_at=now))


def clear(scope: Scope, key: str) -> None:
    """Forget the events of (scope, key), e.g. after a successful login (flush only)."""
    db.session.execute(
        sa.delete(ThrottleEvent).where(ThrottleEvent.scope == scope, ThrottleEvent.key == key[:64])
    )
