"""Every /review and /api/v1/review route × every role × anonymous.

Allowed → 2xx/3xx and the write took effect; refused → 403 and nothing changed; anonymous →
login redirect (HTML) or 401 JSON (API). ``test_every_review_route_is_in_the_table`` fails when
a route of the review blueprint or the review API appears without a row here. What each allowed
role sees of the statistics (own university / college) is in test_rejections.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from revive.accounts.models import Role
from revive.extensions import db
from revive.matching.models import Match, MatchState
from revive.review.permissions import QUEUE_ROLES, STATS_ROLES
from tests.review.helpers import make_match, state_of

ROLES: list[Role | None] = [*Role, None]
OWN_MODULES = ("revive.review.views", "revive.api.review")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    rule: str
    url: Callable[[Match], str]
    roles: frozenset[Role]
    api: bool = False
    data: Callable[[Match], dict] | None = None
    json: Callable[[Match], dict] | None = None
    effect: Callable[[Match], bool] | None = None  # did the write happen?


def _rejected(m: Match) -> bool:
    return state_of(m.id) == MatchState.REJECTED


REJECT = {"decision": "rejected", "reason_code": "vague"}


def _noted(m: Match) -> bool:
    db.session.expire_all()
    return db.session.get(Match, m.id).note == "矩阵推荐说明"


ENDPOINTS = [
    Endpoint("queue", "GET", "/review/", lambda m: "/review/", QUEUE_ROLES),
    Endpoint(
        "add_page",
        "GET",
        "/review/demands/<int:demand_id>/candidates",
        lambda m: f"/review/demands/{m.demand_id}/candidates",
        QUEUE_ROLES,
    ),
    Endpoint(
        "add",
        "POST",
        "/review/demands/<int:demand_id>/candidates",
        lambda m: f"/review/demands/{m.demand_id}/candidates",
        QUEUE_ROLES,
        data=lambda m: {"patent_id": str(m.patent_id), "note": "矩阵推荐说明"},
        effect=_noted,
    ),
    Endpoint(
        "decide",
        "POST",
        "/review/matches/<int:match_id>/decision",
        lambda m: f"/review/matches/{m.id}/decision",
        QUEUE_ROLES,
        data=lambda m: {**REJECT, "version": m.version},
        effect=_rejected,
    ),
    Endpoint(
        "decide_bulk",
        "POST",
        "/review/decisions",
        lambda m: "/review/decisions",
        QUEUE_ROLES,
        data=lambda m: {**REJECT, "match_ids": str(m.id)},
        effect=_rejected,
    ),
    Endpoint(
        "rejections", "GET", "/review/rejections", lambda m: "/review/rejections", STATS_ROLES
    ),
    Endpoint(
        "export",
        "GET",
        "/review/rejections.xlsx",
        lambda m: "/review/rejections.xlsx",
        STATS_ROLES,
    ),
    Endpoint(
        "api_queue",
        "GET",
        "/api/v1/review/queue",
        lambda m: "/api/v1/review/queue",
        QUEUE_ROLES,
        api=True,
    ),
    Endpoint(
        "api_decisions",
        "POST",
        "/api/v1/review/decisions",
        lambda m: "/api/v1/review/decisions",
        QUEUE_ROLES,
        api=True,
        json=lambda m: {**REJECT, "match_ids": [m.id]},
        effect=_rejected,
    ),
    Endpoint(
        "api_rejections",
        "GET",
        "/api/v1/review/rejections",
        lambda m: "/api/v1/review/rejections",
        STATS_ROLES,
        api=True,
    ),
]


def test_every_review_route_is_in_the_table(app):
    covered = {(e.rule, e.method) for e in ENDPOINTS}
    seen = set()
    for rule in app.url_map.iter_rules():
        module = app.view_functions[rule.endpoint].__module__
        # Our URL prefixes, whoever registered them, and whatever our modules register.
        if not (rule.rule.startswith(("/review", "/api/v1/review")) or module in OWN_MODULES):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.rule, method) in covered, f"{method} {rule.rule} has no row in ENDPOINTS"
            seen.add((rule.rule, method))
    assert seen == covered  # and no stale rows


def test_queue_roles_are_staff_and_stats_roles_are_decided():
    assert {Role.PLATFORM_ADMIN, Role.OFFICER} == QUEUE_ROLES
    assert {
        Role.PLATFORM_ADMIN,
        Role.OFFICER,
        Role.REGULATOR,
        Role.UNIVERSITY_ADMIN,
        Role.COLLEGE_ADMIN,
    } == STATS_ROLES


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize("e", ENDPOINTS, ids=lambda e: e.name)
def test_matrix(e, role, world, client, auth):
    match = make_match(world.demands["battery"], world.patents["a1"], 0.5)
    make_match(
        world.demands["water"], world.patents["b1"], state=MatchState.REJECTED, reason="too_costly"
    )
    if role is not None:
        auth.login(world.users[role])
    kwargs = {}
    if e.json is not None:
        kwargs["json"] = e.json(match)
    elif e.data is not None:
        kwargs["data"] = e.data(match)
    response = client.open(e.url(match), method=e.method, **kwargs)
    status = response.status_code
    if role is None:
        assert status == (401 if e.api else 302)
        if e.api:
            assert response.get_json()["error"] == "unauthorized"
        else:
            assert "/login" in response.headers["Location"]
    elif role not in e.roles:
        assert status == 403, response.get_data(as_text=True)[:300]
    else:
        assert status in (200, 302), (status, response.get_data(as_text=True)[:500])
        if e.effect is not None:
            assert e.effect(match)
        return
    if e.effect is not None:
        assert not e.effect(match)
