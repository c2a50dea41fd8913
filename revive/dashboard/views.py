"""Dashboard pages (blueprint "dashboard")."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def home():
    return render_template("dashboard/home.html")
