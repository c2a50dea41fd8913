"""JSON API at /api/v1: a second skin over the same services. Errors: {"error", "message"}.

Its OpenAPI document is served at /api/v1/openapi.json and listed for people at /api/docs
(revive/api/openapi.py).
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from revive.api import (  # noqa: E402,F401  (routes register on bp)
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

bp.record_once(auth.init_api_auth)  # 401 JSON instead of the login redirect, for the API
bp.record_once(openapi.init_docs_page)  # GET /api/docs (outside /api/v1: a page, not the API)
