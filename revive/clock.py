"""Time in one place: what "now" is, and how a moment reads to people.

- ``utcnow()`` is the platform's now (aware UTC; ``revive.db.utcnow`` is this function). The
  demo seed plays a year of history through the real services and holds the clock at each
  step's moment with ``held_at(when)``, so every row and every text a service writes carries
  the story's date (docs/architecture.md: "give the demo a clock instead" of re-dating rows
  afterwards). Outside such a block it is the system clock.
- Moments are stored in UTC and shown in local time: ``REVIVE_TIMEZONE`` (default
  Asia/Shanghai, i.e. Beijing time). Every page, export, e-mail and notification text formats a
  moment through ``format_dt`` (the templates' ``|dt`` filter) or asks ``local_date`` /
  ``local_today`` for a calendar day, so no place shows UTC beside Beijing time.

Imports nothing from revive (every floor may use it; the engine does not).
"""

from __future__ import annotations

import contextlib
import os
import time as process_time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_FORMAT = "%Y-%m-%d %H:%M"
# Zone names that are Beijing time (China uses one zone; tzdata keeps historical aliases).
BEIJING_ZONES = frozenset(
    {"Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"}
)

_held: ContextVar[datetime | None] = ContextVar("revive_clock_held", default=None)


# ---------------------------------------------------------------------------- now


def utcnow() -> datetime:
    """Now, aware UTC (the held moment inside ``held_at``)."""
    held = _held.get()
    return held if held is not None else datetime.now(UTC)


@contextlib.contextmanager
def held_at(moment: datetime) -> Iterator[datetime]:
    """Within the block ``utcnow()`` is ``moment`` (for the demo seed's history; never used
    on a request path). Nested blocks restore the outer moment."""
    token = _held.set(as_utc(moment))
    try:
        yield as_utc(moment)
    finally:
        _held.reset(token)


def as_utc(value: datetime) -> datetime:
    """A stored moment made aware (naive values are UTC by convention)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# ---------------------------------------------------------------------------- local time


@cache
def zone(name: str) -> tzinfo:
    """The zone called ``name``; ValueError (with the setting's name) when tzdata lacks it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"REVIVE_TIMEZONE={name!r} is not a known time zone (e.g. Asia/Shanghai)"
        ) from None


def timezone_name() -> str:
    """REVIVE_TIMEZONE: the app's setting (revive.config) inside an app context, else the
    default (Beijing)."""
    if has_app_context():
        name = current_app.config.get("REVIVE_TIMEZONE")
        if name:
            return str(name)
    return DEFAULT_TIMEZONE


def local_tz() -> tzinfo:
    return zone(timezone_name())


def zone_label() -> str:
    """How the zone is named beside times: 北京时间, or the zone's name elsewhere."""
    name = timezone_name()
    return "北京时间" if name in BEIJING_ZONES else name


def to_local(value: datetime) -> datetime:
    """A stored (UTC) moment in local time."""
    return as_utc(value).astimezone(local_tz())


def local_date(value: datetime | date) -> date:
    """The local calendar day of a moment (a date stays itself)."""
    return to_local(value).date() if isinstance(value, datetime) else value


def local_moment(day: date, at: time) -> datetime:
    """The moment a local clock shows ``at`` on ``day``, in UTC (as stored)."""
    return datetime.combine(day, at, tzinfo=local_tz()).astimezone(UTC)


# The calendar days a filter or a date field may name: beyond them a day's UTC moment (or the
# day after it) overflows datetime, as ?date_to=9999-12-31 and updated_since=0001-01-01 did.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2999, 12, 31)


def in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


def local_day_start(day: date) -> datetime:
    """The first moment of a local calendar day, in UTC (to compare stored moments with)."""
    return local_moment(day, time.min)


def local_today() -> date:
    """Today in local time (the held moment's day inside ``held_at``)."""
    return to_local(utcnow()).date()


def format_dt(value: datetime | date | None, fmt: str = DEFAULT_FORMAT) -> str:
    """A moment as people read it, in local time ('2025-07-01 09:30'); a date as 2025-07-01;
    '' for None. The one formatter of the pages (``|dt``), exports, e-mails and notices."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return to_local(value).strftime(fmt)
    return value.strftime("%Y-%m-%d")


def format_date(value: datetime | date | None) -> str:
    """The local calendar day: '2025-07-01' ('' for None)."""
    return format_dt(value, "%Y-%m-%d")


def set_process_timezone(name: str) -> None:
    """Make this process's local time the platform's zone, so log lines (ours, Celery's,
    gunicorn's) are stamped in the time the pages show: an operator read UTC logs beside
    Beijing-time pages. Only when the environment names no TZ of its own. Stored moments stay
    UTC and pages convert explicitly; nothing else reads the process's local time."""
    if os.environ.get("TZ"):
        return
    if Path("/usr/share/zoneinfo", name).is_file():
        os.environ["TZ"] = name
    else:  # no system zone files (a slim image): a fixed offset, from Python's tzdata
        offset = datetime.now(zone(name)).utcoffset() or timedelta(0)
        minutes = int(offset.total_seconds() // 60)
        hours, rest = divmod(abs(minutes), 60)
        east, west = ("+", "-") if minutes >= 0 else ("-", "+")  # POSIX counts westward
        os.environ["TZ"] = f"<{east}{hours:02d}{rest:02d}>{west}{hours:02d}:{rest:02d}"
    process_time.tzset()
