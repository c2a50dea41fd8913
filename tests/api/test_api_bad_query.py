"""Odd query-string values: never a 500, always a status the document lists, and a value
outside the documented schema is a 422 naming the parameter (revive.api.schema.Query), never
the whole list as if the filter matched. Schemathesis only sends values of the documented type. Each query parameter of every GET operation gets a
non-ASCII digit ('²' is a digit to str.isdigit, not to int), a number beyond every column, a
negative number and text, as a role allowed to call it, on seeded rows.
"""

from __future__ import annotations

from flask import g

from revive.api.openapi import build_document
from tests.api.helpers import allowed_roles, first_allowed_role, seed, signed_in_clients

# … and whitespace alone (stripped to nothing by the schema, then read raw: a 500), and days at
# the ends of the calendar (their UTC moment, or the day after, overflows datetime: a 500)
ODD_VALUES = (
    "²",
    "9" * 30,
    "-1",
    "x",
    " ",
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
)


def test_odd_query_values_are_refused_not_crashed(app):
    world, ids = seed()
    document = build_document(app)
    clients = signed_in_clients(app, world)

    problems = []
    sent = 0
    for path, item in document["paths"].items():
        op = item.get("get")
        if op is None:
            continue
        allowed = allowed_roles(app, op["operationId"])
        role = first_allowed_role(allowed)
        url = path
        for name, values in ids.items():
            url = url.replace(f"{{{name}}}", str(values[0]))
        for param in op.get("parameters", []):
            if param["in"] != "query":
                continue
            for value in ODD_VALUES:
                g.pop("_login_user", None)
                response = clients[role].get(url, query_string={param["name"]: value})
                sent += 1
                status = str(response.status_code)
                if response.status_code >= 500 or status not in op["responses"]:
                    problems.append(f"{role.value} GET {url}?{param['name']}={value} → {status}")
    assert sent > 100
    assert not problems, "\n".join(problems[:40])


def test_a_filter_outside_its_schema_is_a_422_naming_it(client, auth):
    from revive.accounts.models import Role
    from tests.factories import make_patent, make_user

    admin = make_user(Role.UNIVERSITY_ADMIN)
    make_patent(admin.organization)
    auth.login(admin)
    for query, name, words in [
        ("status=bogus", "status", "须为 draft"),
        ("trl=10", "trl", "不能大于 9"),
        ("filed_from=2020-13-01", "filed_from", "须为日期"),
        ("page=0", "page", "不能小于 1"),
        ("per_page=100000", "per_page", "不能大于 100"),
        ("sort=password", "sort", "须为 updated_at"),
    ]:
        response = client.get(f"/api/v1/patents?{query}")
        assert response.status_code == 422, query
        body = response.get_json()
        assert set(body["details"]) == {name} and words in body["details"][name], body
        assert body["message"].startswith("查询参数无效（" + name)
    # documented values pass; unknown parameters are left out
    assert client.get("/api/v1/patents?trl=none&status=draft&colour=red").status_code == 200


def test_a_page_past_the_last_is_empty_so_a_paging_client_stops(client, auth):
    from revive.accounts.models import Role
    from tests.factories import make_patent, make_user

    admin = make_user(Role.UNIVERSITY_ADMIN)
    for i in range(3):
        make_patent(admin.organization, title=f"专利{i}")
    auth.login(admin)
    seen, page = [], 1
    while True:
        body = client.get(f"/api/v1/patents?per_page=2&page={page}").get_json()
        if not body["items"]:
            break
        seen += [p["id"] for p in body["items"]]
        page += 1
    assert len(seen) == len(set(seen)) == 3 and page == 3
    assert body["_meta"] == {"page": 3, "per_page": 2, "total_pages": 2, "total_items": 3}
