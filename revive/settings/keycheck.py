"""Web and workers must sign with the same SECRET_KEY.

Workers write links that the web checks: a password-reset or confirmation link e-mailed by a
worker signed with another key fails on the web (an operator started the web with a new
SECRET_KEY and the workers without it: every e-mailed reset link answered 410, and nothing said
why). The web records a fingerprint of its key when its processes start (an HMAC of a constant,
which reveals nothing of the key); a worker compares its own at start and refuses to run on a
mismatch, with the reason. A key rotation restarts the web first, then the workers (README).

The last web process to start is the one recorded, with its host, process id and time: an
operator's stray web process started by hand with SECRET_KEY=changeme replaced the real web's
fingerprint, and correctly configured workers then refused to start saying only that their key
was not the web's. The refusal now names the process that recorded the key and when, and a web
process that replaces another key says so in its own log. (A production start refuses such a
weak key outright: revive.config.weak_secret_key.)
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import socket
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask

from revive.clock import format_dt
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
    a database not migrated yet is reported by /healthz (and here in one line: a web started
    before `revive db upgrade` logged a traceback per process — an operator's trial)."""
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
            except Exception as exc:  # noqa: BLE001 - the web starts anyway
                db.session.rollback()
                why = _no_table()
                if why:
                    logger.warning(
                        "The web's SECRET_KEY fingerprint is not recorded: %s (workers compare "
                        "their key with it once the web starts on a migrated database)",
                        why,
                    )
                else:
                    logger.warning(
                        "Could not record the web's SECRET_KEY fingerprint", exc_info=exc
                    )
                return


def _no_table() -> str | None:
    """Why the settings table cannot be read, when it is a database not migrated (or not
    answering) rather than a fault worth a traceback."""
    try:
        if sa.inspect(db.engine).has_table(PlatformSetting.__tablename__):
            return None
    except sa.exc.OperationalError:
        return "数据库无法连接 / the database does not answer"
    return "数据库尚未初始化：请运行 revive db upgrade / the database is not migrated yet"


def _record(mine: str) -> None:
    row = db.session.scalar(sa.select(PlatformSetting).where(PlatformSetting.key == KEY))
    value = {
        "web": mine,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "at": utcnow().isoformat(timespec="seconds"),
    }
    if row is None:
        db.session.add(PlatformSetting(key=KEY, value=value))
    elif (row.value or {}).get("web") != mine:
        logger.warning(
            "This web process's SECRET_KEY is not the one %s recorded: workers started with "
            "that key will refuse to start. If this process was started with a wrong key, stop "
            "it and restart the web with the right one (网站进程的 SECRET_KEY 与之前记下的不同："
            "使用原密钥的后台处理进程将拒绝启动；若本进程的密钥有误，请停止它并用正确的密钥重启网站)",
            _described(_recorder(row.value)),
        )
        row.value, row.updated_at = value, utcnow()
    else:
        return
    db.session.commit()


def _recorder(value: Any) -> tuple[str, str, str] | None:
    """(host, process id, local time) of the web process a record names; None for a record of
    a release that kept only the fingerprint."""
    if not isinstance(value, dict) or not value.get("host"):
        return None
    try:
        when = format_dt(datetime.fromisoformat(str(value.get("at"))), "%Y-%m-%d %H:%M:%S%z")
    except ValueError:
        when = "?"
    return str(value["host"]), str(value.get("pid", "?")), when


def _described(recorder: tuple[str, str, str] | None) -> str:
    if recorder is None:
        return "another web process"
    host, pid, when = recorder
    return f"the web process {pid} on host {host} at {when}"


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
        recorder = _recorder(value)  # local time: the app's REVIVE_TIMEZONE
    web = (value or {}).get("web") if isinstance(value, dict) else None
    if web is None or web == fingerprint(app.secret_key):
        return None
    who, who_en = "", ""
    if recorder:
        host, pid, when = recorder
        who = (
            f"网站的密钥指纹由主机 {host} 上的网站进程 {pid} 于 {when} 记下：若那是一个用错误密钥"
            "启动的网站进程（例如手工试启动的），请停止它，用正确的 SECRET_KEY 重启网站（网站启动时"
            "重新记下指纹），再重启后台处理进程；否则"
        )
        who_en = (
            f"The web's fingerprint was recorded by {_described(recorder)}: if that process "
            "was started with a wrong key (a web started by hand to try something, say), stop "
            "it, restart the web with the right SECRET_KEY (it records its fingerprint when it "
            "starts), then the workers. Otherwise: "
        )
    return (
        "后台处理进程的 SECRET_KEY 与网站的不一致：它发出的重置密码、邮箱验证链接在网站上会无效。"
        f"{who}请让所有进程使用同一个 SECRET_KEY（或同一个 $REVIVE_DATA_DIR/secret_key），"
        "先重启网站再重启后台处理进程。"
        " / This worker's SECRET_KEY differs from the web's: the links it e-mails would fail. "
        f"{who_en}{'give' if who_en else 'Give'} every process the same SECRET_KEY, restart "
        "the web, then the workers."
    )
