"""Property-based run of the OpenAPI document against the app (schemathesis, WSGI).

Every operation of /api/v1/openapi.json is called with generated parameters and bodies as an
enterprise user, a university admin and an officer (each with its own and others' objects in
the database, path ids drawn from those objects plus one that does not exist), with CSRF
enforced and the token sent as the document says — and once more as the university admin
through the document's other security alternative, a personal API token (Bearer, no CSRF
token). No answer may be a 500, use an undocumented status code or content type, or break its
documented JSON schema.
"""

from __future__ import annotations

import io
import os
import re
import time

import pytest
import schemathesis
from flask import g
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.serialization import Binary

from revive.accounts import tokens
from revive.accounts.models import Role, TokenScope
from revive.api.openapi import build_document
from revive.extensions import db
from tests.api.helpers import allowed_roles, seed

# Per operation, for a role allowed to call it: ~1,500 calls, ~25 s CPU for the three roles
# (the CI budget is 60 s; 25 examples took ~45 s). API_MAX_EXAMPLES=60 for a deeper local run
# (~5,500 calls, clean when this was written).
MAX_EXAMPLES = int(os.environ.get("API_MAX_EXAMPLES", "15"))
FORBIDDEN_EXAMPLES = 2  # a role the route refuses (403 for every input): the refusal's shape
CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)
ROLES = (Role.ENTERPRISE, Role.UNIVERSITY_ADMIN, Role.OFFICER)
# (role, how it authenticates): each role by its browser session, one by an API token too.
RUNS = [*((role, "session") for role in ROLES), (Role.UNIVERSITY_ADMIN, "bearer")]


@pytest.fixture(autouse=True)
def _no_broker(enqueued):
    return enqueued


def _login(app, user) -> tuple[dict[str, str], dict[str, str]]:
    """A logged-in browser session: its cookie, and the header with its CSRF token."""
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": "Passw0rd!"})
    assert response.status_code == 302, response.data[:300]
    page = client.get("/notifications").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert token, "no CSRF token on a page"
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME") or "session")
    g.pop("_login_user", None)
    return {cookie.key: cookie.value}, {"X-CSRFToken": token.group(1)}


def _bearer(user) -> tuple[dict[str, str], dict[str, str]]:
    """No cookie of ours; a write token in the Authorization header (and no CSRF token)."""
    _, token = tokens.create_token(actor=user, name="schemathesis", scope=TokenScope.WRITE)
    return {}, {"Authorization": f"Bearer {token}"}


def _as_uploads(case) -> None:
    """schemathesis hands a multipart body to werkzeug's test client as a dict, which sends a
    generated file (``Binary``) as a plain form field; a (stream, filename) pair is what it
    uploads as a file."""
    media = (case.media_type or "").split(";")[0]
    if media == "multipart/form-data" and isinstance(case.body, dict):
        for name, value in list(case.body.items()):
            if isinstance(value, Binary | bytes):
                data = value.data if isinstance(value, Binary) else value
                case.body[name] = (io.BytesIO(data), f"{name}.csv")


def _remap_ids(ids: dict[str, list[int]]):
    """Path ids from the seeded objects (a generated int picks one), so calls reach rows."""

    def remap(case) -> None:
        for name, value in (case.path_parameters or {}).items():
            if name in ids and isinstance(value, int):
                case.path_parameters[name] = ids[name][value % len(ids[name])]

    return remap


EXAMPLE_RUNS = 3  # the document's request examples (bodies that succeed on fresh rows)


def _run(operation, auth, remap, examples: int, calls: list) -> str | None:
    """Run one operation's property test (and its documented examples); the failure, or None."""

    def check(case) -> None:
        remap(case)
        _as_uploads(case)
        # The test's app context outlives requests: without this, Flask-Login's user cached
        # in ``g`` would answer for the session cookie.
        g.pop("_login_user", None)
        cookies, headers = auth
        if "Authorization" not in headers and case.headers:
            # The document's bearer alternative makes schemathesis generate a random
            # Authorization header; a session run sends none (a bearer request would be
            # judged by that random token alone).
            case.headers.pop("Authorization", None)
        response = case.call(headers=headers, cookies=cookies)
        calls.append(response.status_code)
        case.validate_response(response, checks=CHECKS)

    runs = [(operation.as_strategy(), examples)]
    documented = operation.get_strategies_from_examples()
    if documented and examples > FORBIDDEN_EXAMPLES:
        runs.insert(0, (st.one_of(documented), EXAMPLE_RUNS))
    try:
        for strategy, count in runs:

            @given(case=strategy)
            @settings(
                max_examples=count,
                deadline=None,
                derandomize=True,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def property_test(case) -> None:
                check(case)

            property_test()
    # Collected: one report for every operation. A check's failures come as a FailureGroup, a
    # BaseExceptionGroup that ``except Exception`` would let through.
    except (Exception, FailureGroup) as exc:
        return f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}"
    finally:
        db.session.rollback()
    return None


@pytest.mark.parametrize(("role", "via"), RUNS, ids=[f"{r.value}-{via}" for r, via in RUNS])
def test_api_conforms_to_its_openapi_document(app, role, via, monkeypatch):
    world, ids = seed()
    user = world.users[role]
    auth = _login(app, user) if via == "session" else _bearer(user)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)  # writes must carry the token
    # from_dict rather than from_wsgi: loaded over HTTP, schemathesis 4 leaves out the operation
    # that serves the document, and GET /api/v1/openapi.json is one of ours to test. An explicit
    # Config: the defaults, not a schemathesis.toml that happens to lie above the checkout.
    schema = schemathesis.openapi.from_dict(build_document(app), config=schemathesis.Config())
    schema.validate()  # against the OpenAPI 3.0 meta-schema
    schema.app = app  # calls go through the WSGI app in process
    remap = _remap_ids(ids)
    started, cpu_started = time.monotonic(), time.process_time()
    failures = []
    calls: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        allowed = allowed_roles(app, operation.definition.raw["operationId"])
        examples = MAX_EXAMPLES if allowed is None or role in allowed else FORBIDDEN_EXAMPLES
        t0, before = time.monotonic(), len(calls)
        failure = _run(operation, auth, remap, examples, calls)
        if os.environ.get("API_RUN_TIMES"):
            statuses = sorted(set(calls[before:]))
            print(f"{time.monotonic() - t0:6.2f}s {examples:3d} {operation.label} {statuses}")
        if failure:
            failures.append(failure)
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu_started
    print(
        f"{role.value} ({via}): {len(operations)} operations, {len(calls)} calls "
        f"({sum(1 for c in calls if c < 300)} 2xx), {elapsed:.1f} s ({cpu:.1f} s CPU)"
    )
    assert not failures, f"{len(failures)} of {len(operations)} operations failed:\n\n" + (
        "\n\n".join(failures)
    )
    assert sum(1 for c in calls if c < 300) > len(operations), "the run hardly reached a row"
