"""供需对接 pages: the pipeline board, a deal's page (stages, response, contract)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("deals", __name__, url_prefix="/deals")
