"""Every demands endpoint (HTML and API) × every role × own/other demand.

Allowed → 2xx/3xx and the write took effect; refused → 403/404 and nothing changed; anonymous
→ login redirect (HTML) or 401 JSON (API). ``test_every_demand_route_is_in_the_table`` fails
when a /demands or /api/v1/demands route appears without a row here.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from revive.accounts.models import UNIVERSITY_ROLES, Role
from revive.demands.models import Demand, DemandStatus
from revive.demands.permissions import (
    DEMAND_ROLES,
    EXPORT_ROLES,
    IMPORTER_ROLES,
    MANAGER_ROLES,
    POSTER_ROLES,
)
from revive.extensions import db
from tests.demands.helpers import FUTURE, HEADER, make_demand, row
from tests.imports.helpers import csv_bytes

ROLES: list[Role | None] = [*Role, None]
EDITORS = frozenset({Role.ENTERPRISE}) | MANAGER_ROLES  # roles_required on edit/close
NEW_TITLE = "矩阵新需求"
OWN_MODULES = ("revive.demands.views", "revive.api.demands")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    rule: str
    url: Callable[[Demand | None], str]
    roles: frozenset[Role]
    api: bool = False
    obj: bool = False  # acts on a demand (own/other)
    write: bool = False  # object write: needs can_edit
    data: Callable[[Demand | None], dict] | None = None
    json: Callable[[Demand | None], dict] | None = None
    effect: Callable[[Demand | None], bool] | None = None
    closed: bool = False  # acts on a closed demand (reopen)


def _title_is(title):
    return lambda d: db.session.get(Demand, d.id).title == title


def _closed(d):
    return db.session.get(Demand, d.id).status == DemandStatus.CLOSED


def _reopened(d):
    return db.session.get(Demand, d.id).status == DemandStatus.OPEN


def _unsubscribed(d):
    return db.session.get(Demand, d.id).alert_subscribed is False


def _created(_d):
    return db.session.query(Demand).filter_by(title=NEW_TITLE).count() == 1


def _form(d=None):
    return {
        "title": "表单改名",
        "description": "描述",
        "visibility": "public",
        "version": d.version if d else "",
    }


def _upload(_d):
    return {"file": (io.BytesIO(csv_bytes([row()], HEADER)), "d.csv")}


ENDPOINTS = [
    Endpoint("list", "GET", "/demands/", lambda d: "/demands/", DEMAND_ROLES),
    Endpoint(
        "export", "GET", "/demands/export.<fmt>", lambda d: "/demands/export.csv", EXPORT_ROLES
    ),
    Endpoint(
        "post_page", "GET", "/demands/new", lambda d: "/demands/new", frozenset({Role.ENTERPRISE})
    ),
    Endpoint(
        "post",
        "POST",
        "/demands/new",
        lambda d: "/demands/new",
        frozenset({Role.ENTERPRISE}),
        data=lambda d: {"title": NEW_TITLE, "description": "描述", "deadline": FUTURE},
        effect=_created,
    ),
    Endpoint(
        "detail",
        "GET",
        "/demands/<int:demand_id>",
        lambda d: f"/demands/{d.id}",
        DEMAND_ROLES,
        obj=True,
    ),
    Endpoint(
        "edit_page",
        "GET",
        "/demands/<int:demand_id>/edit",
        lambda d: f"/demands/{d.id}/edit",
        EDITORS,
        obj=True,
        write=True,
    ),
    Endpoint(
        "edit",
        "POST",
        "/demands/<int:demand_id>/edit",
        lambda d: f"/demands/{d.id}/edit",
        EDITORS,
        obj=True,
        write=True,
        data=_form,
        effect=_title_is("表单改名"),
    ),
    Endpoint(
        "close_page",
        "GET",
        "/demands/<int:demand_id>/close",
        lambda d: f"/demands/{d.id}/close",
        EDITORS,
        obj=True,
        write=True,
    ),
    Endpoint(
        "close",
        "POST",
        "/demands/<int:demand_id>/close",
        lambda d: f"/demands/{d.id}/close",
        EDITORS,
        obj=True,
        write=True,
        data=lambda d: {"reason": "已解决", "version": d.version},
        effect=_closed,
    ),
    Endpoint(
        "alerts",
        "POST",
        "/demands/<int:demand_id>/alerts",
        lambda d: f"/demands/{d.id}/alerts",
        EDITORS,
        obj=True,
        write=True,
        data=lambda d: {"subscribed": "0"},
        effect=_unsubscribed,
    ),
    Endpoint("import_page", "GET", "/demands/import", lambda d: "/demands/import", IMPORTER_ROLES),
    Endpoint(
        "import",
        "POST",
        "/demands/import",
        lambda d: "/demands/import",
        IMPORTER_ROLES,
        data=_upload,
    ),
    Endpoint(
        "template",
        "GET",
        "/demands/import/template.xlsx",
        lambda d: "/demands/import/template.xlsx",
        IMPORTER_ROLES,
    ),
    # ----- API
    Endpoint(
        "api_list", "GET", "/api/v1/demands", lambda d: "/api/v1/demands", DEMAND_ROLES, api=True
    ),
    Endpoint(
        "api_post",
        "POST",
        "/api/v1/demands",
        lambda d: "/api/v1/demands",
        POSTER_ROLES,
        api=True,
        json=lambda d: {"title": NEW_TITLE, "description": "描述"},
        effect=_created,
    ),
    Endpoint(
        "api_get",
        "GET",
        "/api/v1/demands/<int:demand_id>",
        lambda d: f"/api/v1/demands/{d.id}",
        DEMAND_ROLES,
        api=True,
        obj=True,
    ),
    Endpoint(
        "api_patch",
        "PATCH",
        "/api/v1/demands/<int:demand_id>",
        lambda d: f"/api/v1/demands/{d.id}",
        POSTER_ROLES,
        api=True,
        obj=True,
        write=True,
        json=lambda d: {"title": "接口改名"},
        effect=_title_is("接口改名"),
    ),
    Endpoint(
        "api_alerts",
        "POST",
        "/api/v1/demands/<int:demand_id>/alerts",
        lambda d: f"/api/v1/demands/{d.id}/alerts",
        POSTER_ROLES,
        api=True,
        obj=True,
        write=True,
        json=lambda d: {"subscribed": False},
        effect=_unsubscribed,
    ),
    Endpoint(
        "api_close",
        "POST",
        "/api/v1/demands/<int:demand_id>/close",
        lambda d: f"/api/v1/demands/{d.id}/close",
        POSTER_ROLES,
        api=True,
        obj=True,
        write=True,
        json=lambda d: {"reason": "已解决"},
        effect=_closed,
    ),
    Endpoint(
        "reopen_page",
        "GET",
        "/demands/<int:demand_id>/reopen",
        lambda d: f"/demands/{d.id}/reopen",
        EDITORS,
        obj=True,
        write=True,
        closed=True,
    ),
    Endpoint(
        "reopen",
        "POST",
        "/demands/<int:demand_id>/reopen",
        lambda d: f"/demands/{d.id}/reopen",
        EDITORS,
        obj=True,
        write=True,
        data=lambda d: {"deadline": "", "version": d.version},
        effect=_reopened,
        closed=True,
    ),
    Endpoint(
        "api_reopen",
        "POST",
        "/api/v1/demands/<int:demand_id>/reopen",
        lambda d: f"/api/v1/demands/{d.id}/reopen",
        POSTER_ROLES,
        api=True,
        obj=True,
        write=True,
        json=lambda d: {},
        effect=_reopened,
        closed=True,
    ),
]


def test_every_demand_route_is_in_the_table(app):
    covered = {(e.rule, e.method) for e in ENDPOINTS}
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/demands") or rule.rule.startswith("/api/v1/demands")):
            continue
        if app.view_functions[rule.endpoint].__module__ not in OWN_MODULES:
            continue  # e.g. /api/v1/demands/<id>/matches belongs to matching's own matrix
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.rule, method) in covered, f"{method} {rule.rule} has no row in ENDPOINTS"


def _expected(e: Endpoint, role: Role | None, which: str) -> str:
    """'ok', 'anon', 'forbidden' or 'hidden' (404)."""
    if role is None:
        return "anon"
    if role not in e.roles:
        return "forbidden"
    if not e.obj:
        if e.name == "api_post" and role in MANAGER_ROLES:
            return "invalid"  # must name enterprise_id
        return "ok"
    if role == Role.ENTERPRISE and which == "other":
        return "hidden"
    if role in UNIVERSITY_ROLES and e.write:
        return "forbidden"
    if role == Role.REGULATOR and e.write:
        return "forbidden"
    return "ok"


CASES = [(e, w) for e in ENDPOINTS for w in (("own", "other") if e.obj else ("own",))]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize(("e", "which"), CASES, ids=[f"{e.name}-{w}" for e, w in CASES])
def test_matrix(e, which, role, world, client, auth):
    status = DemandStatus.CLOSED if e.closed else DemandStatus.OPEN
    owner = world.ent_a if which == "own" else world.ent_b
    demand = make_demand(owner, title="原标题", status=status)
    if role is not None:
        auth.login(world.users[role])
    url = e.url(demand)
    kwargs = {}
    if e.json is not None:
        kwargs["json"] = e.json(demand)
    elif e.data is not None:
        kwargs["data"] = e.data(demand)
        kwargs["content_type"] = "multipart/form-data"
    response = client.open(url, method=e.method, **kwargs)
    expected = _expected(e, role, which)
    status = response.status_code
    if expected == "anon":
        assert status == (401 if e.api else 302)
        if e.api:
            assert response.get_json()["error"] == "unauthorized"
    elif expected == "forbidden":
        assert status == 403, response.get_data(as_text=True)[:300]
    elif expected == "hidden":
        assert status == 404
    elif expected == "invalid":
        assert status == 422
    else:
        assert status in (200, 201, 302), (status, response.get_data(as_text=True)[:500])
        if e.effect is not None:
            db.session.expire_all()
            assert e.effect(demand)
        return
    if e.effect is not None:
        db.session.expire_all()
        assert not e.effect(demand)


@pytest.mark.parametrize("role", list(DEMAND_ROLES), ids=lambda r: r.value)
def test_list_scope(role, world, client, auth):
    own = make_demand(world.ent_a, title="甲的需求")
    other = make_demand(world.ent_b, title="乙的需求")
    hidden = make_demand(world.ent_b, title="乙的内部需求", visibility="platform")
    auth.login(world.users[role])
    page = client.get("/demands/").get_data(as_text=True)
    api = {i["id"] for i in client.get("/api/v1/demands").get_json()["items"]}
    if role == Role.ENTERPRISE:
        expected = {own.id}
    elif role in UNIVERSITY_ROLES:
        expected = {own.id, other.id}
    else:
        expected = {own.id, other.id, hidden.id}
    assert api == expected
    for d in (own, other, hidden):
        assert (d.title in page) == (d.id in expected)
