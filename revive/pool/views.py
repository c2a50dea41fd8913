"""专利库 pages (blueprint "pool"): search and browse entered patents, a patent's public page
with 申请对接, the enterprise's intents; and the enterprise's panel on its demand page
(template global ``pool_demand_panel(demand)``, included by demands/detail.html and
matching/demand.html)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from revive import clock
from revive.accounts.permissions import roles_required
from revive.deals import services as deals
from revive.demands.models import Demand
from revive.errors import ConflictError, InvalidTransition, ValidationFailed
from revive.evaluations.tiers import Tier
from revive.inventory import fees
from revive.inventory.fields import TRL_HELP
from revive.inventory.models import TransferMode
from revive.matching import manual
from revive.matching import strength as matching_strength
from revive.pool import permissions, queries, status
from revive.pool.permissions import INTENT_ROLES, public_or_login
from revive.web import int_arg

bp = Blueprint("pool", __name__, url_prefix="/pool")

NEW_DEMAND = "new"


@bp.get("/")
@public_or_login
def search():
    filters = queries.parse_filters(request.args)
    return render_template(
        "pool/search.html",
        result=queries.search_page(filters),
        filters=filters,
        modes=list(TransferMode),
        tiers=list(Tier),
        universities=queries.university_choices(),
        trl_help=TRL_HELP,
    )


def _patent_page(patent_id: int, *, form: dict[str, Any] | None = None, error: str | None = None):
    patent, view = queries.get_public_patent(patent_id)
    context: dict[str, Any] = {
        "p": view,
        "can_ask": permissions.can_ask(current_user),
        "form": form or {},
        "error": error,
        "message_max": manual.INTENT_MESSAGE_MAX,
        "trl_help": TRL_HELP,
        "term_ended": fees.expired_on(patent),
        # a sole or exclusive licence in force (its scope and term only: the licensee's name
        # is the parties' business, and this page is public)
        "exclusive": deals.exclusive_in_force(patent.id, clock.local_today()),
    }
    if context["can_ask"]:
        context["demands"] = status.open_demands_of(current_user)
        context["pairs"] = status.pairs_with(current_user, patent)
        # the demand this patent suits best is chosen at first (else the newest)
        context["best_demand"] = status.best_demand(context["demands"], context["pairs"])
        context["bar"] = matching_strength.thresholds()[0]
        context["default_title"] = manual.default_demand_title(patent)
    return render_template("pool/patent.html", **context)


@bp.get("/patents/<int:patent_id>")
@public_or_login
def patent(patent_id: int):
    return _patent_page(patent_id)


@bp.post("/patents/<int:patent_id>/intents")
@roles_required(*INTENT_ROLES)
def intent(patent_id: int):
    """申请对接: an intent with a message, for a chosen open demand or a new minimal one."""
    form = request.form.to_dict()
    choice = form.get("demand", "")
    try:
        match = manual.submit_intent(
            current_user,
            patent_id,
            form.get("message"),
            demand_id=None if choice == NEW_DEMAND else int_arg(choice),
            new_demand_title=form.get("new_demand_title", "") if choice == NEW_DEMAND else None,
        )
    except ValidationFailed as exc:
        return _patent_page(patent_id, form=form, error=exc.message), 422
    except (InvalidTransition, ConflictError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("pool.patent", patent_id=patent_id, _anchor="intent"))
    flash("已提交对接申请，技术经理人审核后会把结果告诉您（需求页可查看进展）", "success")
    return redirect(url_for("demands.detail", demand_id=match.demand_id, _anchor="demand-intents"))


@bp.get("/intents")
@roles_required(*INTENT_ROLES)
def intents():
    page = status.my_intents(current_user, int_arg(request.args.get("page"), 1, minimum=1), 20)
    return render_template("pool/intents.html", page=page)


@bp.post("/intents/<int:match_id>/withdraw")
@roles_required(*INTENT_ROLES)
def withdraw_intent(match_id: int):
    """撤回 a 申请对接 officers have not handled yet."""
    try:
        manual.withdraw_intent(current_user, match_id)
    except (InvalidTransition, ConflictError) as exc:
        flash(exc.message, "error")
    else:
        flash("已撤回对接申请", "success")
    return redirect(url_for("pool.intents"))


# ---------------------------------------------------------------------------- panel


def demand_panel(demand: Demand) -> status.DemandOverview | None:
    """Data of ``pool/_demand_panel.html``: the owning enterprise's view, else None."""
    if not current_user.is_authenticated:
        return None
    return status.demand_overview(current_user, demand)


@bp.app_context_processor
def _panels() -> dict[str, Any]:
    return {"pool_demand_panel": demand_panel, "pool_trl_help": TRL_HELP}
