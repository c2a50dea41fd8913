"""Jinja filters and globals shared by all templates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask
from markupsafe import Markup

from revive.accounts.models import Role
from revive.clock import format_date, format_dt, zone_label
from revive.inventory.models import EntryStatus


def format_percent(numerator: int, denominator: int) -> str:
    """One decimal, '47.4%'; never rounded onto an end it has not reached: a non-zero share
    below 0.05% reads '<0.1%' (not '0.0%', which says "none"), a share short of the whole
    above 99.95% reads '>99.9%' (not '100.0%')."""
    share = numerator / denominator
    text = f"{share:.1%}"
    if numerator > 0 and text == "0.0%":
        return "<0.1%"
    if numerator < denominator and text == "100.0%":
        return ">99.9%"
    return text


def format_rate(numerator: int, denominator: int) -> str:
    """A rate always shows its denominator: '47.4%（3688 / 7782）', '<0.1%（8 / 21133）'."""
    if not denominator:
        return f"—（{numerator} / 0）"
    return f"{format_percent(numerator, denominator)}（{numerator} / {denominator}）"


def format_wan(value: Any) -> str:
    """An amount in 万元 with thousands separators, cents only when there are any:
    1000000 → '1,000,000', 12.5 → '12.50'; '—' for none."""
    if value is None:
        return "—"
    text = f"{Decimal(str(value)):,.2f}"
    return text.removesuffix(".00")


def format_size(size: int | None) -> str:
    """A file's size in the unit that reads: '812 B', '49.6 KB', '49.6 MB' (a 52 MB upload
    read '50781.2 KB', a design review)."""
    if size is None:
        return "—"
    if size < 1024:
        return f"{size} B"
    if round(size / 1024, 1) < 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def stars(n: int | None) -> Markup:
    """A grade as five stars, with its number for screen readers (which read "★★★☆☆" as five
    symbol names, and a tester's list showed nothing else)."""
    if n is None:
        return Markup("—")
    return Markup(
        '<span aria-hidden="true">{}</span><span class="sr-only">{} 星（满分 5）</span>'
    ).format("★" * n + "☆" * (5 - n), n)


def stars_text(n: int | None) -> str:
    """Stars and the number as plain text (where markup cannot go: a select's options)."""
    return "—" if n is None else f"{'★' * n + '☆' * (5 - n)}（{n} 星）"


def can_open(endpoint: str) -> bool:
    """May the current user open ``endpoint``? Reads the roles its ``roles_required`` allows,
    so links (the main navigation) follow the routes' own rules instead of copies of them."""
    from flask import current_app
    from flask_login import current_user

    if not current_user.is_authenticated:
        return False
    roles = getattr(current_app.view_functions.get(endpoint), "allowed_roles", None)
    return roles is None or current_user.role in roles


def register_template_helpers(app: Flask) -> None:
    # Every moment on a page goes through |dt (local time, REVIVE_TIMEZONE; revive.clock).
    app.add_template_filter(format_dt, "dt")
    app.add_template_filter(format_date, "date")
    app.add_template_global(zone_label, "zone_label")
    app.add_template_filter(stars, "stars")
    app.add_template_filter(stars_text, "stars_text")
    app.add_template_filter(format_wan, "wan")
    app.add_template_filter(format_size, "filesize")
    app.add_template_global(format_rate, "format_rate")
    app.add_template_global(can_open, "can_open")

    app.add_template_global(Role, "Role")
    app.add_template_global(EntryStatus, "EntryStatus")
