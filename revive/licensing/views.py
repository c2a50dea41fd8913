"""Open-licence declarations on a patent."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("licensing", __name__, url_prefix="/open-licences")
