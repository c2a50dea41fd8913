"""Property-based run of the OpenAPI document against the app (schemathesis, WSGI).

Every operation of /api/v1/openapi.json is called with generated parameters and bodies as an
enterprise user, a university admin and an officer (each with its own and others' objects in
the database, path ids drawn from those objects plus one that does not exist), with CSRF
enforced and the token sent as the document says. No answer may be a 500, use an
undocumented status code or content type, or break its documented JSON schema.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from revive.accounts.models import Role
from revive.api.openapi import build_document
from revive.db import utcnow
from revive.deals.models import Stage
from revive.evaluations.models import CooperationIntent, Evaluation, EvaluationInvite
from revive.extensions import db
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.models import EntryStatus
from revive.matching.models import IndexBuild, Match, MatchRun, RunScope, RunStatus
from revive.notifications.models import Notification
from tests.deals.helpers import advance, make_world, sign
from tests.factories import make_patent
from tests.licensing.helpers import make_declaration
from tests.matching.helpers import entered, make_demand

MAX_EXAMPLES = 12  # per operation, for a role allowed to call it
FORBIDDEN_EXAMPLES = 2  # a role the route refuses (403 for every input): the refusal's shape
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
ROLES = (Role.ENTERPRISE, Role.UNIVERSITY_ADMIN, Role.OFFICER)
MISSING_ID = 999_999


@pytest.fixture(autouse=True)
def _no_broker(enqueued):
    return enqueued


def _seed() -> tuple[Any, dict[str, list[int]]]:
    """Both sides' objects of every kind; returns the world and the ids per path argument."""
    w = make_world()
    ent_user = w.users[Role.ENTERPRISE]
    own_deal = w.own_deal()
    other_deal = w.other_deal()
    negotiating = advance(w.own_deal(), Stage.CONTACTED, Stage.NEGOTIATING)
    signed = sign(w.own_deal())
    draft = make_patent(w.uni_a, college=w.college_a)
    submitted = make_patent(w.uni_a, college=w.college_a, status=EntryStatus.PENDING_COLLEGE)
    entered_a = entered(w.uni_a, college=w.college_a)
    entered_b = entered(w.uni_b)
    own_demand = make_demand(w.ent_a, title="甲企业的开放需求")
    other_demand = make_demand(w.ent_b, title="乙企业的开放需求")
    candidates = []
    for demand, patent in ((own_demand, entered_a), (other_demand, entered_b)):
        m = Match(demand_id=demand.id, patent_id=patent.id, score=0.4, terms=[["材料", 1.0]])
        db.session.add(m)
        candidates.append(m)
    run = MatchRun(scope=RunScope.DEMAND, demand_id=own_demand.id, status=RunStatus.SUCCEEDED)
    build = IndexBuild(
        status=RunStatus.SUCCEEDED, doc_count=4, vocab_size=10, path="/nonexistent/index",
        finished_at=utcnow(),
    )
    db.session.add_all([run, build])
    evaluation = Evaluation(
        patent_id=own_deal.patent_id,
        enterprise_id=w.ent_a.id,
        user_id=ent_user.id,
        prospect_stars=4,
        intent=CooperationIntent.LICENSE,
    )
    invite = EvaluationInvite(patent_id=entered_a.id, enterprise_id=w.ent_a.id)
    job = ImportJob(
        kind="patents",
        status=ImportStatus.VALIDATED,
        institution_id=w.uni_a.id,
        filename="盘点.xlsx",
        stored_path="/nonexistent/盘点.xlsx",
        total_rows=10,
        processed_rows=4,
    )
    note = Notification(user_id=ent_user.id, kind="test", title="测试通知", body="正文")
    org_note = Notification(organization_id=w.uni_a.id, kind="test", title="高校通知")
    db.session.add_all([evaluation, invite, job, note, org_note])
    db.session.commit()
    own_licence = make_declaration(entered_a)
    other_licence = make_declaration(entered_b)
    deals = [own_deal.id, other_deal.id, negotiating.id, signed.id]
    matches = [m.id for m in candidates] + [own_deal.match_id, other_deal.match_id]
    ids = {
        "patent_id": [draft.id, submitted.id, entered_a.id, entered_b.id, own_deal.patent_id],
        "demand_id": [own_demand.id, other_demand.id, own_deal.demand_id, other_deal.demand_id],
        "deal_id": deals,
        "match_id": matches,
        "run_id": [run.id],
        "build_id": [build.id],
        "declaration_id": [own_licence.id, other_licence.id],
        "notification_id": [note.id, org_note.id],
        "job_id": [job.id],
    }
    return w, {k: [*v, MISSING_ID] for k, v in ids.items()}


def _login(app, user) -> dict[str, str]:
    """Headers of a logged-in browser session: the session cookie and its CSRF token."""
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "Passw0rd!"})
    assert response.status_code == 302, response.data[:300]
    page = client.get("/notifications").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token, "no CSRF token on a page"
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME") or "session")
    return {"Cookie": f"{cookie.key}={cookie.value}", "X-CSRFToken": token.group(1)}


def _remap_ids(ids: dict[str, list[int]]):
    """Path ids from the seeded objects (a generated int picks one), so calls reach rows."""

    def remap(case) -> None:
        for name, value in (case.path_parameters or {}).items():
            if name in ids and isinstance(value, int):
                case.path_parameters[name] = ids[name][value % len(ids[name])]

    return remap


def _run(operation, headers: dict[str, str], remap, examples: int, calls: list) -> str | None:
    """Run one operation's property test; the failure text, or None."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def test(case) -> None:
        remap(case)
        response = case.call(headers=headers)
        calls.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    try:
        test()
    except Exception as exc:  # noqa: BLE001  (collected: one report for every operation)
        return f"{operation.verbose_name}: {type(exc).__name__}: {str(exc)[:1500]}"
    finally:
        db.session.rollback()
    return None


def _allowed_roles(app, operation) -> frozenset | None:
    """The roles the route's ``roles_required`` admits (None: any logged-in user)."""
    endpoint = f"api.{operation.definition.raw['operationId']}"
    return getattr(app.view_functions.get(endpoint), "allowed_roles", None)


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value)
def test_api_conforms_to_its_openapi_document(app, role, monkeypatch):
    world, ids = _seed()
    user = world.users[role]
    headers = _login(app, user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # writes must carry the token
    schema = schemathesis.from_dict(build_document(app), app=app, validate_schema=True)
    remap = _remap_ids(ids)
    started = time.monotonic()
    failures = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        allowed = _allowed_roles(app, operation)
        examples = MAX_EXAMPLES if allowed is None or role in allowed else FORBIDDEN_EXAMPLES
        t0 = time.monotonic()
        failure = _run(operation, headers, remap, examples, calls)
        if os.environ.get("API_RUN_TIMES"):
            print(f"{time.monotonic() - t0:6.2f}s {examples:3d} {operation.verbose_name}")
        if failure:
            failures.append(failure)
    elapsed = time.monotonic() - started
    print(
        f"{role.value}: {len(operations)} operations, {len(calls)} calls "
        f"({sum(1 for c in calls if c < 300)} 2xx), {elapsed:.1f} s"
    )
    assert not failures, f"{len(failures)} of {len(operations)} operations failed:\n\n" + (
        "\n\n".join(failures)
    )
    assert sum(1 for c in calls if c < 300) > len(operations), "the run hardly reached a row"
