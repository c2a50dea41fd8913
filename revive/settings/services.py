"""Reading and changing platform settings. Every setting is declared in SETTINGS (key, label,
help, default); a key without a row reads its default. ``update_settings`` commits and writes
one audit event per changed setting.

    public_pool   对未登录访客公开专利库: anonymous visitors may search the pool (/pool) and open
                  a patent's public page (its public fields only); asking for an introduction
                  still needs an enterprise account. Off by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.audit import services as audit
from revive.errors import PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.settings.models import PlatformSetting


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    help: str
    default: bool


SETTINGS: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "public_pool",
            "对未登录访客公开专利库",
            "开启后，未登录的访客也可以检索已入库专利并查看专利的公开信息（不含联系方式、"
            "自评等级等内部信息）；申请对接仍须以企业账号登录。",
            False,
        ),
    )
}
ADMIN_ROLES = frozenset({Role.PLATFORM_ADMIN})


def current() -> dict[str, bool]:
    """Every declared setting's value (stored, else its default)."""
    stored = dict(db.session.execute(sa.select(PlatformSetting.key, PlatformSetting.value)).all())
    return {key: bool(stored.get(key, s.default)) for key, s in SETTINGS.items()}


def flag(key: str) -> bool:
    """One setting's value (one indexed SELECT)."""
    value = db.session.scalar(sa.select(PlatformSetting.value).where(PlatformSetting.key == key))
    return bool(SETTINGS[key].default if value is None else value)


def public_pool() -> bool:
    return flag("public_pool")


def _as_bool(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw if raw is not None else "").strip().lower()
    if text in {"1", "true", "on", "yes", "是"}:
        return True
    if text in {"0", "false", "off", "no", "否", ""}:
        return False
    raise ValidationFailed(f"{SETTINGS[key].label}须为“是”或“否”", details={key: "须为布尔值"})


def update_settings(values: Mapping[str, Any], *, actor: User) -> dict[str, bool]:
    """Set the settings present in ``values`` (unknown keys: 422). Commits; returns all."""
    if actor.role not in ADMIN_ROLES:
        raise PermissionDenied("只有平台管理员可以修改平台设置")
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise ValidationFailed(
            f"未知的设置项：{'、'.join(unknown)}", details={k: "未知设置项" for k in unknown}
        )
    before = current()
    for key, raw in values.items():
        value = _as_bool(key, raw)
        if value == before[key]:
            continue
        row = db.session.scalar(sa.select(PlatformSetting).where(PlatformSetting.key == key))
        if row is None:
            row = PlatformSetting(key=key)
            db.session.add(row)
        row.value, row.updated_by_id = value, actor.id
        db.session.flush()
        audit.record("setting", row.id, "update", actor, key=key, before=before[key], after=value)
    db.session.commit()
    return current()
