"""Web and workers must sign with the same SECRET_KEY.

Workers write links that the web checks: a password-reset or confirmation link e-mailed by a
worker signed with another key fails on the web (an operator started the web with a new
SECRET_KEY and the workers without it: every e-mailed reset link answered 410, and nothing said
why). The web records a fingerprint of its key when its processes start (an HMAC of a constant,
which reveals nothing of the key); a worker compares its own at start and refuses to run on a
mismatch, with the reason. A key rotation restarts the web first, then the workers (README).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import sqlalchemy as sa
from flask import Flask

from revive.db import utcnow
from revive.extensions import db
from revive.settings.models import PlatformSetting

logger = logging.getLogger(__name__)

KEY = "_secret_key_fingerprint"  # a platform_settings row the settings page does not list


def fingerprint(secret: Any) -> str:
    return hmac.new(
        str(secret).encode("utf-8"), b"revive-secret-key-fingerprint", hashlib.sha256
    ).hexdigest()[:16]


def record_web_key(app: Flask) -> None:
    """(a web process at start) Store the fingerprint of the web's key. Never fails the start:
    a database not migrated yet is reported by /healthz."""
    with app.app_context():
        mine = fingerprint(app.secret_key)
        # Two attempts: the web's processes start together, and on a fresh database two of
        # them insert the row at once; the one that loses reads the winner's row (a trial's
        # first start logged the loser's IntegrityError as a warning with a traceback).
        for attempt in range(2):
            try:
                _record(mine)
                return
            except sa.exc.IntegrityError:
                db.session.rollback()
                if attempt:
                    logger.warning("Could not record the web's SECRET_KEY fingerprint")
            except Exception:  # noqa: BLE001 - the web starts anyway
                db.session.rollback()
                logger.warning("Could not record the web's SECRET_KEY fingerprint", exc_info=True)
                return


def _record(mine: str) -> None:
    row = db.session.scalar(sa.select(PlatformSetting).where(PlatformSetting.key == KEY))
    if row is None:
        db.session.add(PlatformSetting(key=KEY, value={"web": mine}))
    elif (row.value or {}).get("web") != mine:
        row.value, row.updated_at = {"web": mine}, utcnow()
    else:
        return
    db.session.commit()


def key_mismatch(app: Flask) -> str | None:
    """The reason a worker must not run with its key (in Chinese and English), or None when
    it matches the web's, or the web has recorded none yet."""
    with app.app_context():
        try:
            value = db.session.scalar(
                sa.select(PlatformSetting.value).where(PlatformSetting.key == KEY)
            )
        except Exception:  # noqa: BLE001 - not migrated yet: nothing to compare
            db.session.rollback()
            return None
        finally:
            db.session.remove()
    web = (value or {}).get("web") if isinstance(value, dict) else None
    if web is None or web == fingerprint(app.secret_key):
        return None
    return (
        "后台处理进程的 SECRET_KEY 与网站的不一致：它发出的重置密码、邮箱验证链接在网站上会无效。"
        "请让所有进程使用同一个 SECRET_KEY（或同一个 $REVIVE_DATA_DIR/secret_key），"
        "先重启网站再重启后台处理进程。"
        " / This worker's SECRET_KEY differs from the web's: the links it e-mails would fail. "
        "Give every process the same SECRET_KEY, restart the web, then the workers."
    )
