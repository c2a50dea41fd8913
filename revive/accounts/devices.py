"""Browsers: a short Chinese description of a User-Agent string, and device cookies (a
browser that signed in to an account before, see below)."""

from __future__ import annotations

import secrets

from flask import Response, current_app
from itsdangerous import BadData, URLSafeTimedSerializer

# First match wins: embedded browsers and Edge announce Chrome/Safari too, so they come first.
_BROWSERS = (
    ("MicroMessenger", "微信内置浏览器"),
    ("DingTalk", "钉钉内置浏览器"),
    ("QQBrowser", "QQ 浏览器"),
    ("Edg", "Edge"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("HarmonyOS", "鸿蒙"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def describe_user_agent(user_agent: str | None) -> str:
    """'Chrome · Windows', '微信内置浏览器 · iPhone', … or '未知设备'."""
    ua = user_agent or ""
    browser = next((label for key, label in _BROWSERS if key in ua), None)
    system = next((label for key, label in _SYSTEMS if key in ua), None)
    parts = [p for p in (browser, system) if p]
    return " · ".join(parts) if parts else "未知设备"


# --------------------------------------------------------------------------- device cookies
#
# OWASP, "Slow Down Online Guessing Attacks with Device Cookies":
# https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
# A browser that signed in to an account successfully gets a signed device cookie naming that
# account and a random nonce. Failed logins are then counted per (account, device) for such a
# trusted device and per account for everybody else, so a stranger's guesses lock out only
# untrusted clients: the owner's own browser still signs in. One cookie holds the devices of
# up to MAX_DEVICE_ACCOUNTS accounts (a shared office computer), most recent first.

DEVICE_COOKIE = "revive_device"
DEVICE_COOKIE_DAYS = 365
MAX_DEVICE_ACCOUNTS = 10
_SALT = "revive-device-cookie"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def read_device_cookie(raw: str | None) -> dict[int, str]:
    """{user id: nonce} from a device cookie; {} when it is absent, forged, stale or garbled."""
    if not raw:
        return {}
    try:
        entries = _serializer().loads(raw, max_age=DEVICE_COOKIE_DAYS * 86400)
    except BadData:
        return {}
    devices: dict[int, str] = {}
    if isinstance(entries, list):
        for entry in entries[:MAX_DEVICE_ACCOUNTS]:
            if (
                isinstance(entry, list)
                and len(entry) == 2
                and isinstance(entry[0], int)
                and isinstance(entry[1], str)
                and entry[1]
            ):
                devices.setdefault(entry[0], entry[1][:32])
    return devices


def new_device_nonce() -> str:
    return secrets.token_hex(16)


def remember_device(response: Response, known: dict[int, str], user_id: int, nonce: str) -> None:
    """Set the device cookie on ``response``: ``user_id`` with its new nonce first, then the
    other accounts this browser already held."""
    devices = {user_id: nonce, **{k: v for k, v in known.items() if k != user_id}}
    value = _serializer().dumps([[k, v] for k, v in list(devices.items())[:MAX_DEVICE_ACCOUNTS]])
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_COOKIE_DAYS * 86400,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
