"""JSON API at /api/v1: a second skin over the same services. Errors: {"error", "message"}.

Each route's contract is its marshmallow schemas (flask-smorest, revive/api/schema.py): they
check the request, shape the answer and generate the OpenAPI document, served at
/api/v1/openapi.json and listed for people at /api/docs (revive/api/openapi.py).
"""

from revive.api import (  # noqa: F401  (routes register on bp)
    auth,
    dashboard,
    deals,
    demands,
    evaluations,
    imports,
    inventory,
    licensing,
    matching,
    notifications,
    openapi,
    pool,
    pools,
    review,
)
from revive.api.blueprint import bp
from revive.api.schema import init_spec

bp.record_once(init_spec)  # the document of the converted routes (after every route is added)
bp.record_once(auth.init_api_auth)  # 401 JSON instead of the login redirect, for the API
bp.after_request(auth.challenge)  # WWW-Authenticate on the API's 401s
bp.record_once(openapi.init_docs_page)  # GET /api/docs (outside /api/v1: a page, not the API)
