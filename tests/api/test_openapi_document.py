"""The OpenAPI document: complete (every /api/v1 rule), public, valid, and honest about auth."""

from __future__ import annotations

import re

import pytest
from flask import g

from revive.accounts.models import Role
from revive.api.openapi import converted_endpoints, documented_endpoints
from tests.factories import make_user

_ARG = re.compile(r"<(?:\w+:)?(\w+)>")


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]


def test_every_api_rule_is_in_the_document(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    missing = []
    for rule in _rules(app):
        path = _ARG.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method.lower() not in document["paths"].get(path, {}):
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes missing from the document (no bp.response schema):\n" + "\n".join(
        missing
    )
    documented = sum(len(item) for item in document["paths"].values())
    assert documented == sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in _rules(app))


def test_no_documentation_for_routes_that_do_not_exist(app):
    endpoints = {r.endpoint.split(".", 1)[1] for r in _rules(app)}
    assert documented_endpoints(app) == endpoints


def test_every_route_is_described_by_its_schemas(app, client):
    """One contract per resource: every /api/v1 route (but the document itself) carries the
    schemas that validate its input, shape its answer and make its entry in the document."""
    converted = converted_endpoints(app)
    endpoints = {r.endpoint.split(".", 1)[1] for r in _rules(app)} - {"openapi_json"}
    assert converted == endpoints
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    create = paths["/api/v1/patents"]["post"]
    assert create["operationId"] == "create_patent" and create["summary"] == "新建专利（草稿）"


def test_document_is_public_valid_openapi_without_secrets(app, client):
    import schemathesis

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert app.config["SECRET_KEY"] not in text
    document = response.get_json()
    assert document["openapi"].startswith("3.0")
    schema = schemathesis.openapi.from_dict(document, config=schemathesis.Config())
    schema.validate()  # against the OpenAPI 3.0 meta-schema
    assert len(list(schema.get_all_operations())) == sum(len(i) for i in document["paths"].values())


def test_security_schemes_match_how_the_api_authenticates(client, auth, app):
    document = client.get("/api/v1/openapi.json").get_json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["sessionCookie"] == {
        **schemes["sessionCookie"],
        "type": "apiKey",
        "in": "cookie",
        "name": app.config.get("SESSION_COOKIE_NAME") or "session",
    }
    assert schemes["csrfToken"]["in"] == "header"
    assert schemes["csrfToken"]["name"] == "X-CSRFToken"
    assert schemes["bearerToken"] == {
        **schemes["bearerToken"],
        "type": "http",
        "scheme": "bearer",
    }
    for path, item in document["paths"].items():
        for method, op in item.items():
            if path.endswith("/openapi.json"):
                assert op["security"] == []
                continue
            # Alternatives: the browser session (writes: with its CSRF token), or a token.
            requirements = [set(requirement) for requirement in op["security"]]
            write = method in {"post", "patch", "put", "delete"}
            session = {"sessionCookie", "csrfToken"} if write else {"sessionCookie"}
            assert requirements == [session, {"bearerToken"}], f"{method} {path}"
            assert "401" in op["responses"], f"{method} {path}"
            assert "403" in op["responses"], f"{method} {path}: read-only token refusal"
            if write:
                assert "400" in op["responses"], f"{method} {path}: CSRF refusal undocumented"

    # What the document says is what the app does: anonymous → 401 JSON …
    anonymous = client.get("/api/v1/patents")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"] == "unauthorized"
    # … and a logged-in write without the token → 400 JSON when CSRF is on.
    auth.login(make_user(Role.UNIVERSITY_ADMIN))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = client.post("/api/v1/notifications/read-all")
        page = client.get("/notifications").get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        accepted = client.post("/api/v1/notifications/read-all", headers={"X-CSRFToken": token})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert refused.status_code == 400
    assert refused.get_json()["error"] == "bad_request"
    assert accepted.status_code == 200
    assert accepted.get_json() == {"marked": 0}

    # … and a bearer token writes without any CSRF token, also with CSRF on.
    from revive.accounts import tokens

    _, token = tokens.create_token(actor=make_user(Role.OFFICER), name="外部系统", scope="write")
    g.pop("_login_user", None)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        by_token = app.test_client().post(
            "/api/v1/notifications/read-all", headers={"Authorization": f"Bearer {token}"}
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert by_token.status_code == 200 and by_token.get_json() == {"marked": 0}


def test_the_import_routes_document_the_upload_and_the_polling(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    upload = paths["/api/v1/import-jobs"]["post"]
    media = upload["requestBody"]["content"]
    assert list(media) == ["multipart/form-data"]
    schema = media["multipart/form-data"]["schema"]
    assert schema["required"] == ["file"]
    assert schema["properties"]["file"] == {**schema["properties"]["file"], "format": "binary"}
    assert set(schema["properties"]["kind"]["enum"]) == {"patents", "demands", "institutions"}
    assert "201" in upload["responses"] and "/api/v1/import-jobs/{job_id}" in upload["description"]
    poll = paths["/api/v1/import-jobs/{job_id}"]["get"]
    job = poll["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"status", "progress", "preview_counts", "result_counts", "error"} <= set(
        job["properties"]
    )
    commit = paths["/api/v1/import-jobs/{job_id}/commit"]["post"]["requestBody"]["content"]
    mode = commit["application/json"]["schema"]["properties"]["mode"]
    assert mode["enum"] == ["valid_only", "all_or_nothing"]
    assert "get" in paths["/api/v1/import-jobs/{job_id}/errors"]


def test_a_demands_matches_say_what_an_enterprise_gets(client):
    """explore2 F18: GET …/matches answered an enterprise ``items: []`` while its page showed
    machine suggestions; the document says it gets pushed matches only, and where the
    suggestions are."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    op = paths["/api/v1/demands/{demand_id}/matches"]["get"]
    assert "企业：仅已推送" in op["summary"]
    assert "state=accepted" in op["description"] and "items 为空数组" in op["description"]
    assert "/api/v1/demands/{demand_id}/overview" in op["description"]
    assert "/api/v1/demands/{demand_id}/overview" in paths


def test_request_bodies_follow_the_field_tables(client):
    from revive.demands.fields import EDITABLE_KEYS as DEMAND_KEYS
    from revive.inventory.fields import EDITABLE_KEYS as PATENT_KEYS
    from revive.inventory.models import PatentType

    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    def body(path, method):
        return paths[path][method]["requestBody"]["content"]["application/json"]["schema"]

    create = body("/api/v1/patents", "post")
    assert set(PATENT_KEYS) <= set(create["properties"])
    assert {"application_no", "title"} <= set(create["required"])
    assert create["additionalProperties"] is False  # unknown keys are a 422
    assert create["properties"]["patent_type"]["enum"] == [m.value for m in PatentType]
    assert create["properties"]["trl"]["maximum"] == 9
    budget = body("/api/v1/demands", "post")["properties"]["budget"]["oneOf"][0]
    assert budget["maximum"] == 1_000_000 and budget["exclusiveMaximum"] is True
    assert set(DEMAND_KEYS) <= set(body("/api/v1/demands", "post")["properties"])
    assert "version" in body("/api/v1/demands/{demand_id}", "patch")["properties"]


@pytest.mark.parametrize(
    "path", ["/api/v1/patents/2147483648", "/api/v1/deals/99999999999999999999"]
)
def test_path_ids_beyond_the_integer_range_are_404(client, auth, path):
    """Beyond 2**63 SQLite raised OverflowError (a 500) before the guard in revive/api."""
    auth.login(make_user(Role.OFFICER))
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


@pytest.mark.parametrize("method", ["TRACE", "PUT", "DELETE"])
def test_an_undocumented_method_is_405_with_allow(client, auth, method):
    """Found by the schemathesis 4 CLI (check unsupported_method): the JSON 405 dropped the
    Allow header that RFC 9110 requires; pages keep it too."""
    auth.login(make_user(Role.UNIVERSITY_ADMIN))
    response = client.open("/api/v1/patents", method=method)
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    page = client.open("/logout", method=method)
    assert page.status_code == 405
    assert "POST" in page.headers["Allow"]


def test_docs_page_lists_every_operation_without_script(client):
    document = client.get("/api/v1/openapi.json").get_json()
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html
    for path, item in document["paths"].items():
        assert f"<code>{path}</code>" in html
        for op in item.values():
            assert op["summary"] in html
    assert "/api/v1/openapi.json" in html


def test_every_response_field_has_a_type(client):
    """An integrator's generated client had 25 fields of the Patent typed as anything."""
    spec = client.get("/api/v1/openapi.json").get_json()
    typed = ("type", "oneOf", "anyOf", "allOf", "$ref")

    def untyped(name, schema, path):
        for key, prop in (schema.get("properties") or {}).items():
            where = f"{path}.{key}"
            if not any(t in prop for t in typed):
                yield where
            yield from untyped(name, prop, where)
            if isinstance(prop.get("items"), dict):
                yield from untyped(name, prop["items"], where + "[]")

    missing = [
        where
        for name, schema in spec["components"]["schemas"].items()
        for where in untyped(name, schema, name)
    ]
    assert missing == []
