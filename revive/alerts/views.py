"""Alert pages (blueprint "alerts" at /alerts): the e-mail's unsubscribe link (no login), the
account page's switches; and, for every page, the "seen" stamps behind the menu's 新 badges
(``_stamp``) and the template globals of the account panel and the demand list.

What "seen" means, per badge:

- 企业需求 新 N (officers): new demands. Seen when the demand list is opened, or one by one
  when a demand's page or its matches (the new-demand notice's link) is opened.
- 匹配审核 新 N (officers): new intents (申请对接). Seen when the review queue is opened, or one
  by one when the intent's match page (the notice's link) is opened.
- 我的需求 新 N (enterprises): new suggestions on their demands. Seen when the demand list is
  opened (each demand's 新推荐 N is shown there once), or per demand when the demand's page,
  which lists them (the 新入库专利 notice's link), is opened.

A page stamps itself as it is drawn (Flask's ``before_render_template``: after the view found
the item and the user may see it, before the menu counts), so the page the badge points at
already shows it cleared; the stamp is committed with the 200 response (``_commit_stamp``).
It stamped after the response before, so the page a user opened from the badge still showed it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask.signals import before_render_template
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.alerts import queries, services
from revive.alerts.models import AlertKind
from revive.db import savepoint
from revive.extensions import csrf, db

logger = logging.getLogger(__name__)

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

STAFF = (Role.OFFICER, Role.PLATFORM_ADMIN)

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


# Pages of one item the menu counts: endpoint → (the item in the page's context, {role: kind}).
ITEMS: dict[str, tuple[str, dict[Role, str]]] = {
    "demands.detail": (
        "demand",
        {
            **dict.fromkeys(STAFF, queries.DEMAND_ITEM),
            Role.ENTERPRISE: queries.SUGGESTIONS_ITEM,
        },
    ),
    "matching.demand_matches": (
        "demand",
        {
            **dict.fromkeys(STAFF, queries.DEMAND_ITEM),
            Role.ENTERPRISE: queries.SUGGESTIONS_ITEM,
        },
    ),
    "matching.match_page": ("match", dict.fromkeys(STAFF, queries.INTENT_ITEM)),
}
PENDING = "revive_seen_pending"  # on g: a stamp written, to commit with the response


def _stamps(template: Any, context: dict[str, Any]) -> list[tuple[str, str, int | None]]:
    """("queue", name, None) and ("item", kind, id) stamps this page makes for the user."""
    endpoint, role = request.endpoint or "", current_user.role
    if template.name is None or template.name.startswith("errors/"):
        return []
    out: list[tuple[str, str, int | None]] = []
    queue = SEEN.get(endpoint, {}).get(role)
    if queue:
        out.append(("queue", queue, None))
    key, kinds = ITEMS.get(endpoint, ("", {}))
    item = context.get(key) if key else None
    kind = kinds.get(role)
    if kind and item is not None and getattr(item, "id", None) is not None:
        out.append(("item", kind, int(item.id)))
    return out


def _stamp(app: Flask, template: Any, context: dict[str, Any], **_: Any) -> None:
    """Stamp what the page being drawn shows as seen (see the module docstring), once per
    request, in a savepoint: a failed stamp leaves the page and its counts as they were."""
    if request.method != "GET" or g.get(PENDING) is not None or not current_user.is_authenticated:
        return
    stamps = _stamps(template, context)
    if not stamps:
        return
    if ("queue", queries.SUGGESTIONS, None) in stamps:
        # the demand list marks each demand's 新推荐 N from the stamp before this visit
        before = queries.new_suggestions_by_demand(current_user)
        g.revive_new_by_demand = (request._get_current_object(), before)
    g.pop("revive_nav_counts", None)  # counted after the stamp
    try:
        with savepoint(db.session):
            for what, name, item_id in stamps:
                if what == "queue":
                    services.mark_seen(current_user, name, commit=False)
                else:
                    services.mark_item_seen(current_user, name, item_id or 0, commit=False)
    except SQLAlchemyError:  # the page is served; the count just stays
        logger.warning("Could not stamp %s as seen", request.endpoint, exc_info=True)
        g.setdefault(PENDING, False)
        return
    g.setdefault(PENDING, True)


@bp.record_once
def _connect(state: Any) -> None:
    before_render_template.connect(_stamp, state.app)


@bp.after_app_request
def _commit_stamp(response: Any) -> Any:
    if not g.pop(PENDING, None):
        return response
    try:
        if response.status_code == 200:
            db.session.commit()
        else:
            db.session.rollback()
    except SQLAlchemyError:
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
    before = g.get("revive_new_by_demand")  # this page stamped the list as seen
    if before is not None and before[0] is request._get_current_object():
        return before[1]
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
