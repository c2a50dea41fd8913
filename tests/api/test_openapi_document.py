"""The OpenAPI document: complete (every /api/v1 rule), public, valid, and honest about auth."""

from __future__ import annotations

import re

import pytest

from revive.accounts.models import Role
from revive.api.openapi import OPERATIONS, SELF_ENDPOINTS
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
    assert not missing, "routes missing from revive/api/openapi.py OPERATIONS:\n" + "\n".join(
        missing
    )
    documented = sum(len(item) for item in document["paths"].values())
    assert documented == sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in _rules(app))


def test_no_documentation_for_routes_that_do_not_exist(app):
    endpoints = {r.endpoint.split(".", 1)[1] for r in _rules(app)}
    assert set(OPERATIONS) | SELF_ENDPOINTS == endpoints


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
    for path, item in document["paths"].items():
        for method, op in item.items():
            if path.endswith("/openapi.json"):
                assert op["security"] == []
                continue
            names = {name for requirement in op["security"] for name in requirement}
            write = method in {"post", "patch", "put", "delete"}
            assert names == ({"sessionCookie", "csrfToken"} if write else {"sessionCookie"})
            assert "401" in op["responses"], f"{method} {path}"
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
