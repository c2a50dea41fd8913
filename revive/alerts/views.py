"""Alert pages (blueprint "alerts" at /alerts): the e-mail's unsubscribe link (no login), the
account page's switches; and, for every page, the "last looked" stamp of the queues the menu
counts (``_mark_seen``) and the template globals of the account panel and the demand list.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.alerts import queries, services
from revive.alerts.models import AlertKind
from revive.extensions import csrf, db

logger = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

# Pages that are a queue the menu counts: opening one (a 200 GET) stamps it as seen.
SEEN: dict[str, dict[Role, str]] = {
    "demands.list_demands": {
        Role.OFFICER: queries.DEMANDS,
        Role.PLATFORM_ADMIN: queries.DEMANDS,
        Role.ENTERPRISE: queries.SUGGESTIONS,
    },
    "review.queue": {Role.OFFICER: queries.INTENTS, Role.PLATFORM_ADMIN: queries.INTENTS},
}


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential (RFC 8058 one-click POSTs carry no CSRF token)
def unsubscribe(token: str):
    """退订: the link turns the alert kind it names off for its user, and says so.

    A GET does it (the e-mail's link must work in one click, without logging in); a mail
    scanner that fetches it early only turns an alert off, which the account page turns back
    on. Mail clients that support RFC 8058 POST instead (List-Unsubscribe-Post)."""
    user, kind = services.unsubscribe(token)
    return render_template(
        "alerts/unsubscribed.html",
        user=user,
        kind=kind,
        is_enterprise=user.role == Role.ENTERPRISE,
    )


@bp.post("/preferences")
@roles_required(*services.ALERT_ROLES)
def set_preference():
    """The account page's switch: kind=<matches|queue>, subscribed=1|0."""
    kind = next(
        (k for k in services.kinds_for(current_user) if k == request.form.get("kind")), None
    )
    if kind is None:
        flash("未知的提醒类型", "error")
    else:
        on = request.form.get("subscribed") == "1"
        services.set_preference(current_user, kind, on, actor=current_user, via="account_page")
        flash(f"已{'订阅' if on else '退订'}“{kind.label}”", "success")
    return redirect(url_for("accounts.account", _anchor="alert-preferences"))


@bp.after_app_request
def _mark_seen(response: Any) -> Any:
    queues = SEEN.get(request.endpoint or "")
    if (
        queues
        and request.method == "GET"
        and response.status_code == 200
        and current_user.is_authenticated
        and current_user.role in queues
    ):
        try:
            services.mark_seen(current_user, queues[current_user.role])
        except SQLAlchemyError:  # the page is served; the count just stays
            db.session.rollback()
            logger.warning("Could not stamp %s as seen", request.endpoint, exc_info=True)
    return response


def account_panel() -> list[tuple[AlertKind, bool]]:
    """The account page's alert switches of the signed-in user ([] for roles without)."""
    if not current_user.is_authenticated:
        return []
    return queries.preferences(current_user)


def new_by_demand() -> dict[int, int]:
    """The enterprise's demand list: new suggestions per demand since it last looked."""
    if not current_user.is_authenticated:
        return {}
    return queries.new_suggestions_by_demand(current_user)


def suggested_by_demand() -> dict[int, int]:
    """The enterprise's demand list: the machine suggestions each demand's page lists."""
    if not current_user.is_authenticated:
        return {}
    return queries.suggestions_by_demand(current_user)


@bp.app_context_processor
def _panels() -> dict[str, Any]:
    return {
        "alert_preferences_panel": account_panel,
        "alerts_new_by_demand": new_by_demand,
        "suggested_by_demand": suggested_by_demand,
    }
