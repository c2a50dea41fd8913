"""Browsers as people know them: a short Chinese description of a User-Agent string."""

from __future__ import annotations

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
