"""JSON API at /api/v1: a second skin over the same services. Errors: {"error", "message"}."""

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
    review,
)

bp.record_once(auth.init_api_auth)  # 401 JSON instead of the login redirect, for the API
