"""Every dashboard route (pages, exports per table, JSON API) × every role × anonymous.

allowed → 200; role refused → 403; a table that is not on the role's page → 404; anonymous →
login redirect (pages) or 401 JSON (API). ``test_every_dashboard_route_is_in_the_table`` fails
when a route of the dashboard blueprint or under /api/v1/dashboard has no row, and
``test_every_export_table_is_in_the_table`` when an exportable table has none. Dashboards are
read-only for everyone (the regulator included): no route accepts anything but GET.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from revive.accounts.models import Role
from revive.dashboard import pages
from revive.dashboard.scope import ENTERPRISE_ROLES, FUNNEL_ROLES, REGIONAL_ROLES
from revive.inventory.permissions import INVENTORY_ROLES

ROLES: list[Role | None] = [*Role, None]  # None = anonymous
ALL = frozenset(Role)
NONE: frozenset[Role] = frozenset()
UNIVERSITY_ADMIN = frozenset({Role.UNIVERSITY_ADMIN})
COLLEGE_ADMIN = frozenset({Role.COLLEGE_ADMIN})
EXPORT_RULE = "/dashboard/export/<table>.<fmt>"
API_PREFIX = "/api/v1/dashboard"


@dataclass(frozen=True)
class Endpoint:
    name: str
    rule: str
    url: Callable[[object], str]  # pipeline → URL
    ok: frozenset[Role]
    hidden: frozenset[Role] = NONE  # may call it, but the table/grouping is not theirs: 404
    table: str | None = None  # export key

    @property
    def api(self) -> bool:
        return self.rule.startswith("/api/")


def page(name, path, ok, hidden=NONE):
    return Endpoint(name, path.split("?")[0], lambda p, path=path: path, ok, hidden)


def export(key, ok, hidden=NONE, fmt="csv", query=None):
    def url(p):
        q = query(p) if query else ""
        return f"/dashboard/export/{key}.{fmt}{q}"

    return Endpoint(f"export-{key}.{fmt}", EXPORT_RULE, url, ok, hidden, table=key)


def _uni_a(p) -> str:
    return f"?university={p.world.uni_a.id}"


def _uni_b(p) -> str:
    return f"?university={p.world.uni_b.id}"


def other_university(name, path, ok):
    """``path`` naming 乙大学: regional roles see it; 甲大学's users keep their own scope
    (test_scoped_roles_see_no_other_university_anywhere reads every such answer)."""
    return Endpoint(name, path.split("?")[0], lambda p, path=path: path + _uni_b(p), ok)


ENDPOINTS = [
    page("home", "/", ALL),
    other_university("home-other-university", "/", ALL),
    page("monthly", "/dashboard/monthly", FUNNEL_ROLES),
    page("breakdown", "/dashboard/breakdown", FUNNEL_ROLES),
    page(
        "breakdown-university",
        "/dashboard/breakdown?by=university",
        REGIONAL_ROLES,
        UNIVERSITY_ADMIN | COLLEGE_ADMIN,
    ),
    page("breakdown-industry", "/dashboard/breakdown?by=industry", FUNNEL_ROLES),
    page("contracts", "/dashboard/contracts", FUNNEL_ROLES),
    page("overdue", "/dashboard/overdue", FUNNEL_ROLES),
    page("unmet", "/dashboard/unmet", REGIONAL_ROLES),
    page("workload", "/dashboard/workload", REGIONAL_ROLES),
    page("regions", "/dashboard/regions", REGIONAL_ROLES),
    # ----- exports, one row per table
    export("funnel", FUNNEL_ROLES),
    export("funnel", FUNNEL_ROLES, fmt="xlsx"),
    export("idle-fees", UNIVERSITY_ADMIN | COLLEGE_ADMIN),
    export(
        "inventory-breakdown",
        REGIONAL_ROLES | UNIVERSITY_ADMIN,
        COLLEGE_ADMIN | {Role.INVENTOR},
    ),
    export("inventory-status", INVENTORY_ROLES),
    export("inventory-grade", INVENTORY_ROLES),
    export("inventory-trl", INVENTORY_ROLES),
    export("inventory-willingness", INVENTORY_ROLES),
    export("mix-status", REGIONAL_ROLES | UNIVERSITY_ADMIN, COLLEGE_ADMIN | {Role.INVENTOR}),
    export("mix-grade", REGIONAL_ROLES | UNIVERSITY_ADMIN, COLLEGE_ADMIN | {Role.INVENTOR}),
    export("mix-trl", REGIONAL_ROLES | UNIVERSITY_ADMIN, COLLEGE_ADMIN | {Role.INVENTOR}),
    export("mix-willingness", REGIONAL_ROLES | UNIVERSITY_ADMIN, COLLEGE_ADMIN | {Role.INVENTOR}),
    other_university(
        "export-inventory-status-other-university",
        "/dashboard/export/inventory-status.csv",
        INVENTORY_ROLES,
    ),
    export("by-university", REGIONAL_ROLES, UNIVERSITY_ADMIN | COLLEGE_ADMIN),
    export("by-college", REGIONAL_ROLES | UNIVERSITY_ADMIN, COLLEGE_ADMIN, query=_uni_a),
    export("by-industry", FUNNEL_ROLES),
    export("monthly", FUNNEL_ROLES),
    export("monthly", FUNNEL_ROLES, fmt="xlsx"),
    export("contracts-month", FUNNEL_ROLES),
    export("contracts-kind", FUNNEL_ROLES),
    export("contracts", FUNNEL_ROLES),
    export("overdue", FUNNEL_ROLES),
    export("overdue-units", FUNNEL_ROLES),
    export("unmet", REGIONAL_ROLES),
    export("unmet-industry", REGIONAL_ROLES),
    export("workload", REGIONAL_ROLES),
    export("by-region", REGIONAL_ROLES),
    export("by-pool", REGIONAL_ROLES),
    export("contracts-region", REGIONAL_ROLES),
    export("contracts-pool", REGIONAL_ROLES, fmt="xlsx"),
    export("unmet-region", REGIONAL_ROLES),
    export("unmet-pool", REGIONAL_ROLES),
    export("my-demands", ENTERPRISE_ROLES),
    export("my-deals", ENTERPRISE_ROLES, fmt="xlsx"),
    # ----- JSON API
    page("api-summary", f"{API_PREFIX}/summary", ALL - ENTERPRISE_ROLES),
    other_university(
        "api-summary-other-university", f"{API_PREFIX}/summary", ALL - ENTERPRISE_ROLES
    ),
    page("api-funnel", f"{API_PREFIX}/funnel", FUNNEL_ROLES),
    page("api-breakdown", f"{API_PREFIX}/breakdown", FUNNEL_ROLES),
    page("api-contracts", f"{API_PREFIX}/contracts", FUNNEL_ROLES),
    page("api-overdue", f"{API_PREFIX}/overdue", FUNNEL_ROLES),
    page("api-unmet", f"{API_PREFIX}/unmet", REGIONAL_ROLES),
    page("api-workload", f"{API_PREFIX}/workload", REGIONAL_ROLES),
    page("api-enterprise", f"{API_PREFIX}/enterprise", ENTERPRISE_ROLES),
]


def _dashboard_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("dashboard.") or rule.rule.startswith(API_PREFIX):
            yield rule


def test_every_dashboard_route_is_in_the_table(app):
    covered = {e.rule for e in ENDPOINTS}
    rules = list(_dashboard_rules(app))
    assert rules
    for rule in rules:
        assert rule.rule in covered, f"{rule.rule} has no row in ENDPOINTS"


def test_every_export_table_is_in_the_table():
    assert set(pages.EXPORTS) == {e.table for e in ENDPOINTS if e.table}


def test_dashboards_are_read_only(app):
    for rule in _dashboard_rules(app):
        assert rule.methods - {"HEAD", "OPTIONS"} == {"GET"}, rule.rule


def _user(pipeline, role: Role):
    return {
        Role.PLATFORM_ADMIN: pipeline.users["platform"],
        Role.UNIVERSITY_ADMIN: pipeline.world.admin_a,
        Role.COLLEGE_ADMIN: pipeline.world.college_admin_a,
        Role.INVENTOR: pipeline.world.inventor_a,
        Role.ENTERPRISE: pipeline.users["ent_x"],
        Role.OFFICER: pipeline.users["o1"],
        Role.REGULATOR: pipeline.users["regulator"],
    }[role]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize("e", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_matrix(e, role, pipeline, client, auth):
    if role is not None:
        auth.login(_user(pipeline, role))
    response = client.get(e.url(pipeline))
    status = response.status_code
    body = response.get_data()[:300]
    if role is None:
        assert status == (401 if e.api else 302), body
        if e.api:
            assert response.get_json()["error"] == "unauthorized"
        else:
            assert "/login" in response.headers["Location"]
    elif role in e.ok:
        assert status == 200, (status, body)
    elif role in e.hidden:
        assert status == 404, (status, body)
    else:
        assert status == 403, (status, body)
    if e.api and role is not None:
        assert response.is_json


@pytest.mark.parametrize("role", [Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN])
def test_scoped_roles_see_no_other_university_anywhere(role, pipeline, client, auth):
    """甲大学's users: no page, export or API answer names 乙大学 or its patents and deals."""
    auth.login(_user(pipeline, role))
    foreign = ["乙大学", pipeline.patents["b1"].title, pipeline.patents["b2"].title]
    for e in ENDPOINTS:
        if role not in e.ok or e.url(pipeline).endswith(".xlsx"):  # zipped: the .csv twin is read
            continue
        response = client.get(e.url(pipeline))
        text = response.get_data().decode("utf-8", "ignore")
        for word in foreign:
            assert word not in text, (e.name, word)


def test_enterprise_sees_no_other_enterprise(pipeline, client, auth):
    auth.login(pipeline.users["ent_x"])
    others = ["轻量化汽车零部件", "污水深度处理", "饲料添加剂", "乙制造有限公司"]
    for e in ENDPOINTS:
        if Role.ENTERPRISE not in e.ok or e.url(pipeline).endswith(".xlsx"):
            continue
        text = client.get(e.url(pipeline)).get_data(as_text=True)
        for word in others:
            assert word not in text, (e.name, word)
