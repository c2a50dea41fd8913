"""Every /evaluations and /api/v1/evaluations route × every role (+ anonymous) × own/other.

own / other: for patent routes, the enterprise's invited patent of 甲大学 (the university
users' own) vs. 乙大学's patent nobody invited it to; for calibration and promotion routes,
``?institution=`` 甲大学 vs. 乙大学. Allowed → 2xx/3xx and the write took effect; refused →
403 (wrong role) or 404 (object out of reach) and nothing changed; anonymous → login redirect
(HTML) or 401 JSON (API). ``test_every_route_has_a_row`` fails when a route has no row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.evaluations.models import Evaluation, EvaluationInvite
from revive.extensions import db
from tests.evaluations.helpers import make_invite

ROLES: list[Role | None] = [*Role, None]
OWN_MODULES = ("revive.evaluations.views", "revive.api.evaluations")

ENTERPRISE = frozenset({Role.ENTERPRISE})
INVITERS = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.UNIVERSITY_ADMIN})
READ_ALL = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR})
SCOPED_READERS = READ_ALL | {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN}
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    rule: str
    path: str  # "{p}" = patent id, "{i}" = institution id
    roles: frozenset[Role]
    kind: str = "plain"  # plain | scope | patent
    api: bool = False
    # roles that may reach the *other* object (the rest get 404)
    other_ok: frozenset[Role] = frozenset()
    data: dict | None = None
    effect: Callable[[int], bool] | None = None  # given the patent id: did the write happen?


def _evaluated(patent_id: int) -> bool:
    return (
        db.session.scalar(sa.select(sa.func.count()).where(Evaluation.patent_id == patent_id)) == 1
    )


def _invited_b(ent_b_id: int) -> Callable[[int], bool]:
    def check(patent_id: int) -> bool:
        stmt = sa.select(sa.func.count()).where(
            EvaluationInvite.patent_id == patent_id, EvaluationInvite.enterprise_id == ent_b_id
        )
        return db.session.scalar(stmt) == 1

    return check


EVALUATE = {"prospect_stars": "4", "intent": "license", "improvement_needs": "矩阵"}


def endpoints(ent_b_id: int) -> list[Endpoint]:
    invite = {"enterprise_id": ent_b_id}
    return [
        Endpoint("todo", "GET", "/evaluations/todo", "/evaluations/todo", ENTERPRISE),
        Endpoint(
            "evaluate_page",
            "GET",
            "/evaluations/patents/<int:patent_id>/evaluate",
            "/evaluations/patents/{p}/evaluate",
            ENTERPRISE,
            kind="patent",
        ),
        Endpoint(
            "evaluate",
            "POST",
            "/evaluations/patents/<int:patent_id>/evaluate",
            "/evaluations/patents/{p}/evaluate",
            ENTERPRISE,
            kind="patent",
            data=EVALUATE,
            effect=_evaluated,
        ),
        Endpoint(
            "invite",
            "POST",
            "/evaluations/patents/<int:patent_id>/invites",
            "/evaluations/patents/{p}/invites",
            INVITERS,
            kind="patent",
            other_ok=frozenset({Role.PLATFORM_ADMIN, Role.OFFICER}),
            data=invite,
            effect=_invited_b(ent_b_id),
        ),
        Endpoint(
            "calibration",
            "GET",
            "/evaluations/calibration",
            "/evaluations/calibration?institution={i}",
            SCOPED_READERS,
            kind="scope",
            other_ok=READ_ALL,
        ),
        Endpoint(
            "calibration_xlsx",
            "GET",
            "/evaluations/calibration.xlsx",
            "/evaluations/calibration.xlsx?institution={i}",
            SCOPED_READERS,
            kind="scope",
            other_ok=READ_ALL,
        ),
        Endpoint(
            "promotion",
            "GET",
            "/evaluations/promotion",
            "/evaluations/promotion?institution={i}",
            SCOPED_READERS,
            kind="scope",
            other_ok=READ_ALL,
        ),
        Endpoint(
            "promotion_xlsx",
            "GET",
            "/evaluations/promotion.xlsx",
            "/evaluations/promotion.xlsx?institution={i}",
            SCOPED_READERS,
            kind="scope",
            other_ok=READ_ALL,
        ),
        # ----- API
        Endpoint(
            "api_patent",
            "GET",
            "/api/v1/evaluations/patents/<int:patent_id>",
            "/api/v1/evaluations/patents/{p}",
            EVERYONE,
            kind="patent",
            api=True,
            other_ok=READ_ALL,
        ),
        Endpoint(
            "api_evaluate",
            "POST",
            "/api/v1/evaluations/patents/<int:patent_id>",
            "/api/v1/evaluations/patents/{p}",
            ENTERPRISE,
            kind="patent",
            api=True,
            data=EVALUATE,
            effect=_evaluated,
        ),
        Endpoint(
            "api_invite",
            "POST",
            "/api/v1/evaluations/patents/<int:patent_id>/invites",
            "/api/v1/evaluations/patents/{p}/invites",
            INVITERS,
            kind="patent",
            api=True,
            other_ok=frozenset({Role.PLATFORM_ADMIN, Role.OFFICER}),
            data=invite,
            effect=_invited_b(ent_b_id),
        ),
        Endpoint(
            "api_todo",
            "GET",
            "/api/v1/evaluations/todo",
            "/api/v1/evaluations/todo",
            ENTERPRISE,
            api=True,
        ),
        Endpoint(
            "api_calibration",
            "GET",
            "/api/v1/evaluations/calibration",
            "/api/v1/evaluations/calibration?institution={i}",
            SCOPED_READERS,
            kind="scope",
            api=True,
            other_ok=READ_ALL,
        ),
        Endpoint(
            "api_promotion",
            "GET",
            "/api/v1/evaluations/promotion",
            "/api/v1/evaluations/promotion?institution={i}",
            SCOPED_READERS,
            kind="scope",
            api=True,
            other_ok=READ_ALL,
        ),
    ]


ROWS = endpoints(0)  # for parametrisation; the real enterprise id is filled in per test
CASES = [(e.name, w) for e in ROWS for w in (("own", "other") if e.kind != "plain" else ("own",))]


def test_every_route_has_a_row(app):
    covered = {(e.rule, e.method) for e in ROWS}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/evaluations", "/api/v1/evaluations")):
            continue
        assert app.view_functions[rule.endpoint].__module__ in OWN_MODULES, rule.rule
        routes |= {(rule.rule, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert not routes - covered, f"add rows for: {routes - covered}"
    assert not covered - routes, f"stale rows: {covered - routes}"


def _expected(e: Endpoint, role: Role | None, which: str) -> str:
    if role is None:
        return "anon"
    if role not in e.roles:
        return "forbidden"
    if e.kind == "plain":
        return "ok"
    if which == "own":
        return "ok"
    return "ok" if role in e.other_ok else "hidden"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize(("name", "which"), CASES, ids=[f"{n}-{w}" for n, w in CASES])
def test_matrix(name, which, role, world, client, auth):
    e = next(x for x in endpoints(world.ent_b.id) if x.name == name)
    make_invite(world.own, world.ent_a)  # the enterprise's "own" patent
    patent = world.own if which == "own" else world.other
    institution = world.uni_a if which == "own" else world.uni_b
    if role is not None:
        auth.login(world.users[role])
    url = e.path.format(p=patent.id, i=institution.id)
    kwargs = {}
    if e.data is not None:
        kwargs = {"json": e.data} if e.api else {"data": e.data}
    response = client.open(url, method=e.method, **kwargs)
    status, expected = response.status_code, _expected(e, role, which)
    body = response.get_data()[:300]
    if expected == "anon":
        assert status == (401 if e.api else 302), body
        if e.api:
            assert response.get_json()["error"] == "unauthorized"
    elif expected == "forbidden":
        assert status == 403, body
    elif expected == "hidden":
        assert status == 404, body
        assert world.other.title not in response.get_data(as_text=True)  # nothing leaks
    else:
        assert status in (200, 201, 302), (status, body)
        if e.effect is not None:
            db.session.expire_all()
            assert e.effect(patent.id)
        return
    if e.effect is not None:
        db.session.expire_all()
        assert not e.effect(patent.id)


def test_matrix_covers_every_role():
    assert set(ROLES) == {*Role, None}
