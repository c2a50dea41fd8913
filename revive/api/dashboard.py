"""Dashboard JSON routes."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required

from revive.api import bp
from revive.dashboard import queries
from revive.errors import PermissionDenied


@bp.get("/dashboard/summary")
@login_required
def dashboard_summary():
    """Inventory figures for the caller's scope.

    Output: {scope, total, entered, entry_rate{numerator, denominator, value, display},
    pending_college, pending_school, by_status[], by_value_grade[], by_trl[],
    by_willingness[] (each {key, label, count}), breakdown_kind ("college" | "university" |
    null), breakdown[] ({id, name, total, entered, pending, entry_rate})}.
    Enterprise accounts get 403: they have no inventory scope.
    """
    if not queries.has_dashboard(current_user):
        raise PermissionDenied("企业账号没有盘点数据看板")
    return jsonify(queries.dashboard_summary(current_user).to_dict())
