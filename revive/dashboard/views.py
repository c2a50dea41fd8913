"""Dashboard pages (blueprint "dashboard"): the home page chooses the view by role; the other
tabs live under /dashboard/. Every table links to its .xlsx/.csv export. Read-only: GET only.

What each page contains and who may open it: ``revive.dashboard.pages``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from revive.accounts.permissions import roles_required
from revive.dashboard import cache, export, pages
from revive.dashboard.pages import Page
from revive.dashboard.scope import FUNNEL_ROLES, REGIONAL_ROLES
from revive.dashboard.todo import nothing_due, todo_for
from revive.errors import NotFoundError

bp = Blueprint("dashboard", __name__)
bp.before_app_request(cache.forget_as_of)


def _render(page: Page, **extra: Any):
    template = "dashboard/home.html" if page.summary is not None else "dashboard/page.html"
    return render_template(
        template,
        page=page,
        s=page.summary,
        tabs=pages.tabs_for(current_user),
        as_of=cache.as_of(),  # cached platform-wide figures: when they were computed
        **extra,
    )


@bp.get("/")
@login_required
def home():
    todo = todo_for(current_user)
    return _render(
        pages.home_page(current_user, request.args), todo=todo, nothing_due=nothing_due(todo)
    )


@bp.get("/dashboard/monthly")
@roles_required(*FUNNEL_ROLES)
def monthly():
    return _render(pages.monthly_page(current_user, request.args))


@bp.get("/dashboard/breakdown")
@roles_required(*FUNNEL_ROLES)
def breakdown():
    return _render(pages.breakdown_page(current_user, request.args))


@bp.get("/dashboard/contracts")
@roles_required(*FUNNEL_ROLES)
def contracts():
    return _render(pages.contracts_page(current_user, request.args))


@bp.get("/dashboard/overdue")
@roles_required(*FUNNEL_ROLES)
def overdue():
    return _render(pages.overdue_page(current_user, request.args))


@bp.get("/dashboard/unmet")
@roles_required(*REGIONAL_ROLES)
def unmet():
    return _render(pages.unmet_page(current_user, request.args))


@bp.get("/dashboard/workload")
@roles_required(*REGIONAL_ROLES)
def workload():
    return _render(pages.workload_page(current_user, request.args))


@bp.get("/dashboard/regions")
@roles_required(*REGIONAL_ROLES)
def regions():
    return _render(pages.regions_page(current_user, request.args))


@bp.get("/dashboard/export/<table>.<fmt>")
@login_required
def export_table(table: str, fmt: str):
    """One table of a dashboard page, complete (long lists unpaginated), as .xlsx or .csv."""
    if fmt not in export.CONTENT_TYPES:
        raise NotFoundError("不支持的导出格式")
    return export.download(pages.export_table(current_user, table, request.args), fmt)
