"""The platform-wide dashboard cache (revive.dashboard.cache): small platforms are always live;
above the sync limit the regional figures come from dashboard_snapshots, a write or the TTL
makes them stale, a stale page is served at once with its date and queues one refresh, and the
refresh (the worker's job) brings the new figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.dashboard import cache, funnel
from revive.dashboard.models import DashboardSnapshot
from revive.dashboard.refresh import refresh
from revive.errors import ServiceUnavailable
from revive.extensions import db
from revive.inventory.models import EntryStatus
from tests.dashboard.helpers import TableScan
from tests.factories import make_patent, make_user

KEYS = {"summary", "funnel", "funnel-by-university", "funnel-by-industry", "mix-by-university"}
# the overview page (its per-university mix tables included); the breakdown tabs have the others
HOME_KEYS = {"summary", "funnel", "mix-by-university"}


def _rows() -> dict[str, DashboardSnapshot]:
    db.session.expire_all()
    return {r.key: r for r in db.session.scalars(sa.select(DashboardSnapshot))}


def _age(seconds: float) -> None:
    """Pretend every snapshot was computed ``seconds`` ago."""
    for row in db.session.scalars(sa.select(DashboardSnapshot)):
        row.computed_at = row.computed_at - timedelta(seconds=seconds)
    db.session.commit()


def _home(client, auth, user) -> str:
    _login(auth, user)
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _login(auth, user) -> None:
    auth.logout()  # logging in while logged in keeps the first account
    auth.login(user)


def _total_on_page(html: str) -> str:
    # The 盘点数 cell of the funnel table's first row: "盘点 … <td …>N</td>".
    import re

    match = re.search(r"盘点数\D*?(\d+)", html)
    assert match, "funnel table missing"
    return match.group(1)


@pytest.fixture
def large(app, monkeypatch):
    """Treat the platform as large: every regional aggregate goes through the cache."""
    monkeypatch.setitem(app.config, "REVIVE_DASHBOARD_SYNC_LIMIT", 0)
    monkeypatch.setitem(app.config, "REVIVE_DASHBOARD_CACHE_TTL", 600)
    return app


def test_small_platform_is_always_live_and_stores_nothing(world, client, auth):
    officer = make_user(Role.OFFICER)
    html = _home(client, auth, officer)
    assert "数据实时统计" in html and "数据更新于" not in html
    make_patent(world.uni_b, status=EntryStatus.DRAFT)
    api = client.get("/api/v1/dashboard/summary").get_json()
    assert api["total"] == 12  # 11 in the world + the new draft, at once
    assert _rows() == {}


def test_large_platform_serves_the_snapshot_until_a_write(large, world, client, auth, enqueued):
    officer = make_user(Role.OFFICER)
    html = _home(client, auth, officer)
    assert set(_rows()) == HOME_KEYS
    assert "数据更新于" in html and "正在更新" not in html
    # A direct edit of a snapshot shows that later requests read it rather than the patents.
    row = _rows()["summary"]
    row.payload = {**row.payload, "total": 999}
    db.session.commit()
    assert client.get("/api/v1/dashboard/summary").get_json()["total"] == 999
    assert enqueued == []


def test_write_makes_it_stale_one_refresh_is_queued_and_brings_new_figures(
    large, world, client, auth, enqueued
):
    officer = make_user(Role.OFFICER)
    assert _total_on_page(_home(client, auth, officer)) == "11"
    make_patent(world.uni_b, status=EntryStatus.ENTERED)
    _age(cache.MIN_REFRESH_AGE.total_seconds() + 1)

    html = _home(client, auth, officer)
    assert _total_on_page(html) == "11"  # stale, served at once
    assert "（正在更新）" in html
    assert enqueued and {name for name, _ in enqueued} == {cache.TASK_NAME}
    queued = len(enqueued)
    assert {keys[0] for _name, (keys,) in enqueued} == HOME_KEYS
    _home(client, auth, officer)
    assert len(enqueued) == queued  # already refreshing: not queued twice

    # The worker's job.
    for _name, (keys,) in enqueued:
        refresh(keys)
    html = _home(client, auth, officer)
    assert _total_on_page(html) == "12"
    assert "正在更新" not in html
    assert all(r.refreshing_since is None for r in _rows().values())


def test_recent_snapshot_is_served_without_refresh_even_after_a_write(
    large, world, client, auth, enqueued
):
    officer = make_user(Role.OFFICER)
    _home(client, auth, officer)
    make_patent(world.uni_b, status=EntryStatus.DRAFT)
    _home(client, auth, officer)  # younger than MIN_REFRESH_AGE: no recomputation storm
    assert enqueued == []


def test_ttl_expiry_queues_a_refresh_without_any_write(large, world, client, auth, enqueued):
    officer = make_user(Role.OFFICER)
    _home(client, auth, officer)
    _age(601)
    html = _home(client, auth, officer)
    assert "（正在更新）" in html
    assert enqueued


def test_broker_down_serves_stale_figures_and_retries_next_time(
    large, world, client, auth, monkeypatch
):
    import revive.queue

    def down(*_args):
        raise ServiceUnavailable("队列不可用")

    monkeypatch.setattr(revive.queue, "enqueue", down)
    officer = make_user(Role.OFFICER)
    _home(client, auth, officer)
    make_patent(world.uni_b, status=EntryStatus.DRAFT)
    _age(601)
    html = _home(client, auth, officer)
    assert _total_on_page(html) == "11"
    assert all(r.refreshing_since is None for r in _rows().values())


def test_large_university_views_have_their_own_snapshots_colleges_stay_live(
    large, world, client, auth
):
    uid = world.uni_a.id
    html = _home(client, auth, world.admin_a)
    assert "甲大学" in html and "数据更新于" in html
    assert _total_on_page(html) == "8"
    assert set(_rows()) == {f"summary:u{uid}", f"funnel:u{uid}", f"mix-by-college:u{uid}"}
    # read back from the snapshots: the per-college mix keeps 未指定学院 (a null college id)
    html = _home(client, auth, world.admin_a)
    scan = TableScan()
    scan.feed(html)
    assert ["未指定学院", "1", "0", "0", "0", "0", "0", "1", "0"] in scan.tables["table-mix-status"]
    _login(auth, world.admin_a)
    assert client.get("/dashboard/breakdown?by=college").status_code == 200
    officer = make_user(Role.OFFICER)
    _login(auth, officer)  # a regional view narrowed to the university shares its snapshots
    assert client.get(f"/dashboard/breakdown?by=college&university={uid}").status_code == 200
    assert set(_rows()) == {
        f"summary:u{uid}",
        f"funnel:u{uid}",
        f"mix-by-college:u{uid}",
        f"funnel-by-college:u{uid}",
    }
    assert _rows()[f"summary:u{uid}"].payload["total"] == 8  # 甲大学 only

    cache.clear()
    html = _home(client, auth, world.college_admin_a)  # a college: always live
    assert "甲大学 · 材料学院" in html and "数据实时统计" in html
    assert _rows() == {}
    # the refresh recomputes family members too
    _home(client, auth, world.admin_a)
    make_patent(world.uni_a, status=EntryStatus.DRAFT)
    assert f"summary:u{uid}" in refresh()
    assert _rows()[f"summary:u{uid}"].payload["total"] == 9


def test_breakdown_pages_use_their_own_snapshots(large, pipeline, client, auth, enqueued):
    auth.login(pipeline.users["regulator"])
    for by in ("university", "industry"):
        assert client.get(f"/dashboard/breakdown?by={by}").status_code == 200
    assert set(_rows()) == {"funnel-by-university", "funnel-by-industry"}
    by_uni = funnel._decode_grouped(_rows()["funnel-by-university"].payload)
    assert by_uni[pipeline.world.uni_a.id].inventoried == 10
    assert by_uni[pipeline.world.uni_b.id].signed == 1


def test_refresh_recomputes_every_registered_key(large, world):
    assert set(refresh()) >= KEYS
    rows = _rows()
    assert rows["summary"].payload["total"] == 11
    assert rows["summary"].patents == 11
    cache.clear()
    assert _rows() == {}
