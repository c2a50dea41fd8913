"""Odd query-string values: never a 500, always a status the document lists.

The document says bad query values are ignored (revive/api/openapi.py ``q``); schemathesis only
sends values of the documented type. Each query parameter of every GET operation gets a
non-ASCII digit ('²' is a digit to str.isdigit, not to int), a number beyond every column, a
negative number and text, as a role allowed to call it, on seeded rows.
"""

from __future__ import annotations

from flask import g

from revive.api.openapi import build_document
from tests.api.helpers import allowed_roles, first_allowed_role, seed, signed_in_clients

ODD_VALUES = ("²", "9" * 30, "-1", "x")


def test_odd_query_values_are_ignored_not_crashed(app):
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
