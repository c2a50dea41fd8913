"""市场评价 and 分层推广 pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")
