"""Wrong JSON types in request bodies: never a 500, always a status the document lists.

schemathesis generates bodies that match the document; clients send anything. Each body
property of every write operation gets a blank, a null, an integer beyond every column and an
object, as a role allowed to call it, on seeded rows; and every write gets a non-object body.
"""

from __future__ import annotations

from flask import g

from revive.api.openapi import build_document
from revive.extensions import db
from tests.api.helpers import allowed_roles, first_allowed_role, seed, signed_in_clients

WRONG_VALUES = ("", None, 2**64, {"x": 1})


def test_wrong_types_in_bodies_are_refused_not_crashed(app, enqueued):
    world, ids = seed()
    document = build_document(app)
    clients = signed_in_clients(app, world)

    problems = []
    sent = 0
    for path, item in document["paths"].items():
        for method, op in item.items():
            if method == "get":
                continue
            allowed = allowed_roles(app, op["operationId"])
            role = first_allowed_role(allowed)
            url = path.replace("{action}", "submit")
            for name, values in ids.items():
                url = url.replace(f"{{{name}}}", str(values[0]))
            schema = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            keys = list(schema.get("schema", {}).get("properties", {}))
            bodies = [[1], "text"] + [{key: v} for key in keys for v in WRONG_VALUES]
            for body in bodies:
                g.pop("_login_user", None)
                response = clients[role].open(url, method=method.upper(), json=body)
                sent += 1
                db.session.rollback()
                status = str(response.status_code)
                if response.status_code >= 500 or status not in op["responses"]:
                    problems.append(f"{role.value} {method.upper()} {url} {body!r} → {status}")
    assert sent > 500
    assert not problems, "\n".join(problems[:40])
