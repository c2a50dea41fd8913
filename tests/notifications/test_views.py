"""Inbox page and API: listing, opening, marking read; the unread-count template global; and
the permission table of every /inbox and /api/v1/notifications route × role × own/other."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_login import login_user

from revive.accounts.models import Role
from revive.extensions import db
from revive.notifications import services
from revive.notifications.models import Notification, NotificationRead
from tests.deals.helpers import World

ROLES: list[Role | None] = [*Role, None]
OWN_MODULES = ("revive.notifications.views", "revive.api.notifications")


def _read(n: Notification) -> bool:
    """Read by anyone: the row (personal, settled) or a member's own read."""
    db.session.expire_all()
    member_read = db.session.scalar(
        sa.select(sa.func.count()).where(NotificationRead.notification_id == n.id)
    )
    return db.session.get(Notification, n.id).read_at is not None or bool(member_read)


# ---------------------------------------------------------------------------- pages


def test_inbox_lists_unread_first_and_opens_the_target(world, client, auth):
    deal = world.own_deal(title="电池需求")
    auth.login(world.users[Role.ENTERPRISE])
    html = client.get("/inbox/").get_data(as_text=True)
    assert "电池需求" in html and "1 条未读" in html
    (note,) = db.session.query(Notification).filter_by(organization_id=world.ent_a.id).all()
    r = client.post(f"/inbox/{note.id}/open")
    assert r.status_code == 302 and r.headers["Location"] == f"/deals/{deal.id}"
    assert _read(note)
    assert "0 条未读" in client.get("/inbox/").get_data(as_text=True)


def test_open_never_follows_an_offsite_link(world, client, auth):
    bad = [
        services.notify("t", "外链", organization_id=world.ent_a.id, link=link)
        for link in ("https://evil.example/x", "//evil.example/x", "/\\evil.example")
    ]
    db.session.commit()
    auth.login(world.users[Role.ENTERPRISE])
    for n in bad:
        r = client.post(f"/inbox/{n.id}/open")
        assert r.headers["Location"] == "/inbox/"


def test_mark_all_read_page(world, client, auth):
    for i in range(3):
        services.notify("t", f"通知{i}", organization_id=world.ent_a.id)
    db.session.commit()
    auth.login(world.users[Role.ENTERPRISE])
    r = client.post("/inbox/read-all", follow_redirects=True)
    assert "已将 3 条通知标为已读" in r.get_data(as_text=True)


def test_unread_only_filter_and_escaping(world, client, auth):
    services.notify("t", "<b>粗体</b>", organization_id=world.ent_a.id, body="<script>x</script>")
    read = services.notify("t", "已读的那条", organization_id=world.ent_a.id)
    db.session.commit()
    auth.login(world.users[Role.ENTERPRISE])
    client.post(f"/inbox/{read.id}/read")
    html = client.get("/inbox/?unread=1").get_data(as_text=True)
    assert "已读的那条" not in html and "&lt;b&gt;粗体&lt;/b&gt;" in html
    assert "<script>x</script>" not in html
    assert "已读的那条" in client.get("/inbox/").get_data(as_text=True)


def test_unread_count_global(world, app):
    services.notify("t", "一", organization_id=world.ent_a.id)
    services.notify("t", "二", user_id=world.users[Role.ENTERPRISE].id)
    services.notify("t", "别家", organization_id=world.ent_b.id)
    db.session.commit()
    with app.test_request_context("/"):
        assert render_template_string("{{ inbox_unread_count() }}") == "0"  # anonymous
        login_user(world.users[Role.ENTERPRISE])
        assert render_template_string("{{ inbox_unread_count() }}") == "2"


def test_api_list_and_mark(world, client, auth):
    a = services.notify("t", "一", organization_id=world.ent_a.id, link="/deals/1")
    services.notify("t", "二", organization_id=world.ent_a.id)
    db.session.commit()
    auth.login(world.users[Role.ENTERPRISE])
    body = client.get("/api/v1/notifications?per_page=1").get_json()
    assert body["_meta"] == {
        "page": 1,
        "per_page": 1,
        "total_pages": 2,
        "total_items": 2,
        "unread": 2,
    }
    r = client.post(f"/api/v1/notifications/{a.id}/read").get_json()
    assert r["read"] is True and r["link"] == "/deals/1"
    items = client.get("/api/v1/notifications?unread=1").get_json()["items"]
    assert [i["title"] for i in items] == ["二"]
    assert client.post("/api/v1/notifications/read-all").get_json() == {"marked": 1}


# ---------------------------------------------------------------------------- matrix


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    rule: str
    url: Callable[[Notification], str]
    api: bool = False
    obj: bool = False
    marks: bool = False  # marks the own notification read


ENDPOINTS = [
    Endpoint("inbox", "GET", "/inbox/", lambda n: "/inbox/"),
    Endpoint(
        "read",
        "POST",
        "/inbox/<int:notification_id>/read",
        lambda n: f"/inbox/{n.id}/read",
        obj=True,
        marks=True,
    ),
    Endpoint(
        "open",
        "POST",
        "/inbox/<int:notification_id>/open",
        lambda n: f"/inbox/{n.id}/open",
        obj=True,
        marks=True,
    ),
    Endpoint("read_all", "POST", "/inbox/read-all", lambda n: "/inbox/read-all", marks=True),
    Endpoint(
        "api_list", "GET", "/api/v1/notifications", lambda n: "/api/v1/notifications", api=True
    ),
    Endpoint(
        "api_read",
        "POST",
        "/api/v1/notifications/<int:notification_id>/read",
        lambda n: f"/api/v1/notifications/{n.id}/read",
        api=True,
        obj=True,
        marks=True,
    ),
    Endpoint(
        "api_read_all",
        "POST",
        "/api/v1/notifications/read-all",
        lambda n: "/api/v1/notifications/read-all",
        api=True,
        marks=True,
    ),
]


def test_every_inbox_route_is_in_the_table(app):
    covered = {(e.rule, e.method) for e in ENDPOINTS}
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if app.view_functions[rule.endpoint].__module__ in OWN_MODULES
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - covered == set(), f"add rows to ENDPOINTS for: {routes - covered}"
    assert covered - routes == set(), f"stale rows: {covered - routes}"


def _notes(world: World, role: Role | None) -> tuple[Notification, Notification]:
    """(own, other): organizations get an org notification about their own deal, staff a
    personal one; "other" is addressed to another organization / another user."""
    deal = world.own_deal()
    db.session.query(Notification).delete()  # drop the push notifications
    user = world.users[role] if role else None
    if user is not None and user.organization_id:
        own = services.notify(
            "t",
            "我方的通知",
            organization_id=user.organization_id,
            deal_id=deal.id,
            link=f"/deals/{deal.id}",
        )
    else:
        own = services.notify(
            "t", "我方的通知", user_id=world.officer.id if user is None else user.id
        )
    other = services.notify("t", "他方的通知", organization_id=world.ent_b.id)
    db.session.commit()
    return own, other


CASES = [
    pytest.param(e, role, which, id=f"{e.name}-{role.value if role else 'anonymous'}-{which}")
    for e in ENDPOINTS
    for role in ROLES
    for which in (("own", "other") if e.obj else ("own",))
]


@pytest.mark.parametrize(("e", "role", "which"), CASES)
def test_matrix(e: Endpoint, role: Role | None, which: str, world: World, client, auth):
    own, other = _notes(world, role)
    target = own if which == "own" else other
    if role is not None:
        auth.login(world.users[role])
    response = client.open(e.url(target), method=e.method)
    status = response.status_code
    text = response.get_data(as_text=True)
    if response.is_json:
        text = json.dumps(response.get_json(), ensure_ascii=False)
    if role is None:
        if e.api:
            assert status == 401 and response.get_json()["error"] == "unauthorized"
        else:
            assert status == 302 and "/login" in response.headers["Location"]
        assert not _read(own)
    elif which == "other":
        assert status == 404
        assert "他方的通知" not in text
        assert not _read(other)
    else:
        assert status in (200, 302), (status, text[:300])
        if status == 302:
            assert "/login" not in response.headers["Location"]
        assert _read(own) is e.marks
        assert not _read(other)
        if e.method == "GET":
            assert "我方的通知" in text and "他方的通知" not in text
