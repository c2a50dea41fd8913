"""Times are local (REVIVE_TIMEZONE, default Asia/Shanghai) everywhere people read them.

One moment, 2025-03-01 17:30 UTC, is 2025-03-02 01:30 in Beijing — another day, so a page or a
file still showing UTC shows the wrong date. Everything below is written with the clock held at
that moment (revive.clock.held_at), then pages, exports, an e-mail and a notification text are
read: each shows 2025-03-02 01:30 and never 2025-03-01 17:30. A source check keeps the
conversion in the one helper.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from revive import clock
from revive.accounts.models import OrgKind, Role
from revive.config import load_config
from revive.demands import services as demand_services
from revive.extensions import db
from revive.inventory import services as inventory_services
from revive.inventory.models import EntryStatus
from revive.notifications import services as notification_services
from revive.notifications.models import Notification
from tests.deals.helpers import make_deal
from tests.factories import make_college, make_org, make_patent, make_user
from tests.licensing.helpers import make_declaration

MOMENT = datetime(2025, 3, 1, 17, 30, tzinfo=UTC)
LOCAL = "2025-03-02 01:30"
UTC_TEXT = "2025-03-01 17:30"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def w(app, enqueued):
    uni = make_org("甲大学")
    college = make_college(uni, "材料学院")
    ent = make_org("丙科技有限公司", kind=OrgKind.ENTERPRISE)
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni)
    officer = make_user(Role.OFFICER)
    inventor = make_user(Role.INVENTOR, organization=uni)
    ent_user = make_user(Role.ENTERPRISE, organization=ent)
    with clock.held_at(MOMENT):
        patent = make_patent(
            uni, college=college, status=EntryStatus.PENDING_SCHOOL, inventors=[inventor]
        )
        inventory_services.perform_action(patent.id, "school_return", actor=admin, comment="补")
        demand = demand_services.post_demand(
            {"title": "需要一种脱氮工艺", "description": "氨氮超标"}, actor=ent_user
        )
        deal = make_deal(university=uni, enterprise=ent, officer=officer)
        declaration = make_declaration(make_patent(uni, status=EntryStatus.ENTERED))
    return {
        "admin": admin,
        "officer": officer,
        "inventor": inventor,
        "ent_user": ent_user,
        "patent": patent,
        "demand": demand,
        "deal": deal,
        "declaration": declaration,
    }


def _local_not_utc(text: str, where: str) -> None:
    assert LOCAL in text, f"{where}: no {LOCAL} (Beijing time)"
    assert UTC_TEXT not in text, f"{where}: shows UTC"


PAGES = [
    ("admin", "/patents/{patent}"),
    ("admin", "/patents/"),
    ("inventor", "/inbox/"),
    ("admin", "/audit/?entity=patent"),
    ("officer", "/demands/{demand}"),
    ("officer", "/demands/"),
    ("officer", "/deals/{deal}"),
    ("officer", "/open-licences/{declaration}"),
    ("officer", "/audit/"),
]


@pytest.mark.parametrize(("who", "path"), PAGES)
def test_pages_show_beijing_time(w, client, auth, who, path):
    auth.login(w[who])
    url = path.format(**{k: getattr(v, "id", v) for k, v in w.items()})
    resp = client.get(url)
    assert resp.status_code == 200, url
    _local_not_utc(resp.get_data(as_text=True), url)


EXPORTS = [
    ("officer", "/audit/export.csv"),
    ("officer", "/audit/export.xlsx"),
    ("officer", "/dashboard/export/overdue.csv"),
    ("officer", "/dashboard/export/overdue.xlsx"),
    ("officer", "/open-licences/export.xlsx"),
]


def _file_text(resp) -> str:
    if resp.mimetype == "text/csv":
        return "\n".join(",".join(r) for r in csv.reader(io.StringIO(resp.get_data(as_text=True))))
    wb = load_workbook(io.BytesIO(resp.data))
    return "\n".join(
        ",".join("" if v is None else str(v) for v in row)
        for ws in wb.worksheets
        for row in ws.iter_rows(values_only=True)
    )


@pytest.mark.parametrize(("who", "path"), EXPORTS)
def test_exports_write_beijing_time(w, client, auth, who, path):
    auth.login(w[who])
    resp = client.get(path)
    assert resp.status_code == 200, path
    text = _file_text(resp)
    _local_not_utc(text, path)
    assert "+00:00" not in text  # no ISO UTC moment leaks into a file


def test_notification_text_and_email_speak_beijing_time(w, app, monkeypatch):
    pushed = (
        db.session.query(Notification)
        .filter_by(deal_id=w["deal"].id, organization_id=w["deal"].university_id)
        .one()
    )
    assert "请在 7 天内（北京时间 2025-03-09 01:30 前）" in pushed.body
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    message = notification_services._message(pushed, w["admin"], "noreply@example.cn")
    assert f"时间：{LOCAL}（北京时间）" in message.get_content()


def test_another_zone_is_a_setting(app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_TIMEZONE", "UTC")
    assert clock.format_dt(MOMENT) == UTC_TEXT and clock.zone_label() == "UTC"
    monkeypatch.setitem(app.config, "REVIVE_TIMEZONE", "Asia/Shanghai")
    assert clock.format_dt(MOMENT) == LOCAL and clock.zone_label() == "北京时间"
    assert clock.local_date(MOMENT).isoformat() == "2025-03-02"
    assert clock.local_day_start(clock.local_date(MOMENT)) == datetime(2025, 3, 1, 16, tzinfo=UTC)


def test_an_unknown_zone_stops_the_start(monkeypatch):
    monkeypatch.setenv("REVIVE_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="REVIVE_TIMEZONE"):
        load_config()
    monkeypatch.setenv("REVIVE_TIMEZONE", "Asia/Shanghai")
    assert load_config()["REVIVE_TIMEZONE"] == "Asia/Shanghai"


def test_the_readme_documents_the_setting_in_both_languages():
    readme = (ROOT / "README.md").read_text("utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `REVIVE_TIMEZONE`"))
    assert "Asia/Shanghai" in row and "北京时间" in row and "Beijing time" in row
    english = readme.split("## English", 1)[1]
    assert "REVIVE_TIMEZONE" in english


# Converting or formatting a moment anywhere else would bypass REVIVE_TIMEZONE.
FORBIDDEN = re.compile(r"\.astimezone\(|\.strftime\(|ZoneInfo\(|timezone\(timedelta")


def test_moments_are_converted_and_formatted_only_in_revive_clock():
    offenders = []
    for path in [*(ROOT / "revive").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]:
        relative = path.relative_to(ROOT).as_posix()
        if relative == "revive/clock.py" or (
            relative.startswith(("revive/engine/", "revive/benchmark/"))  # texts and scores
            and relative not in ("revive/benchmark/web.py", "revive/benchmark/scale_seed.py")
        ):
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            if FORBIDDEN.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "use revive.clock (format_dt, local_date, …):\n" + "\n".join(offenders)


def test_log_lines_carry_the_platforms_time_and_offset(tmp_path):
    """An operator read log lines in UTC (three formats, no zone) beside Beijing-time pages."""
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "REVIVE_DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k",
    }  # no TZ: the platform's zone is used
    code = (
        "import logging; from revive import create_app; create_app();"
        "logging.getLogger('revive.test').warning('标记')"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    line = next(x for x in out.stderr.splitlines() if "标记" in x)
    assert "+0800 WARNING revive.test: 标记" in line, out.stderr
