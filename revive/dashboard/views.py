"""Dashboard pages (blueprint "dashboard")."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from revive.dashboard import queries
from revive.dashboard.charts import build_charts

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def home():
    if not queries.has_dashboard(current_user):
        return render_template("dashboard/welcome.html")
    summary = queries.dashboard_summary(current_user)
    return render_template("dashboard/home.html", s=summary, charts=build_charts(summary))
