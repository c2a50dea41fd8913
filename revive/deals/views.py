"""供需对接 pages (blueprint "deals"): the pipeline board, a deal's page (stages, response,
contract).

Who does what is in deals.workflow (the transition table) and deals.permissions (scope). The
patent and demand pages of other blueprints include ``deals/_patent_panel.html`` and
``deals/_demand_panel.html``; their data comes from the template globals registered at the end
(``deals_patent_panel(patent)``, ``deals_demand_panel(demand)``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from revive import clock
from revive.accounts.permissions import roles_required
from revive.deals import export, permissions, queries, services, workflow
from revive.deals.models import ContractKind, Deal, LicenseScope, Stage, UniversityResponse
from revive.deals.permissions import (
    CONTRACT_ROLES,
    EXPORT_ROLES,
    REMIND_ROLES,
    RESPOND_ROLES,
    STAGE_ROLES,
)
from revive.deals.reasons import CHOSEN_REASONS, FAILURE_REASONS
from revive.demands import permissions as demand_permissions
from revive.demands.models import Demand
from revive.demands.privacy import shown_description, shown_intent
from revive.errors import ConflictError, InvalidTransition, ValidationFailed
from revive.exports.views import export_response
from revive.inventory import permissions as inventory_permissions
from revive.inventory.models import Patent
from revive.matching import permissions as matching_permissions
from revive.matching.models import MatchState
from revive.templating import format_wan
from revive.web import version_arg

bp = Blueprint("deals", __name__, url_prefix="/deals")


def _page_context(deal: Deal, **extra: Any) -> dict[str, Any]:
    """Everything deals/detail.html needs; the forms' values/errors come in ``extra``."""
    user = current_user
    is_staff = user.role in workflow.STAFF
    refused = {
        a: services.refusal(deal, a, user)
        for a in workflow.available(deal.stage)
        if permissions.can_act(user, deal, a)
    }
    actions = [a for a, why in refused.items() if why is None]
    # why a party's next step is held back (the university has not answered 愿意对接)
    held = next((why for why in refused.values() if why), None)
    contract = deal.contract
    contract_values = extra.pop("contract_values", None) or (
        {
            "kind": contract.kind.value,
            "amount_wan": str(contract.amount_wan),
            "signed_on": contract.signed_on.isoformat(),
            "record_no": contract.record_no or "",
            "parties": contract.parties,
            "license_scope": contract.license_scope.value if contract.license_scope else "",
            "license_until": contract.license_until.isoformat() if contract.license_until else "",
        }
        if contract
        else {"parties": f"{deal.university.name}；{deal.enterprise.name}"}
    )
    return {
        "deal": deal,
        "demand_description": shown_description(user, deal.demand),
        "intent_message": shown_intent(
            user, deal.demand, deal.match.intent_message if deal.match else None
        ),
        "events": queries.events_of(deal),
        "days_in_stage": queries.days_in_stage(deal),
        "overdue": queries.is_overdue(deal),
        "stages": list(Stage),
        "stage_actions": [a for a in actions if a.name != "sign"],
        "held": None if actions else held,
        "can_sign": any(a.name == "sign" for a in actions),
        "can_respond": permissions.can_respond(user, deal) and deal.stage in workflow.OPEN_STAGES,
        "can_edit_contract": contract is not None and permissions.can_record_contract(user, deal),
        "is_staff": is_staff,
        "max_extension_days": services.MAX_EXTENSION_DAYS,
        "responses": list(UniversityResponse),
        "contract_kinds": list(ContractKind),
        "license_scopes": list(LicenseScope),
        "failure_reasons": FAILURE_REASONS,  # labels of every stored code
        "chosen_reasons": CHOSEN_REASONS,  # the form's choices
        "contract_values": contract_values,
        "today": services.today_in_china().isoformat(),
        "pushed_on": services.pushed_on(deal),
        "can_see_demand": demand_permissions.can_view(user, deal.demand),
        "can_see_patent": inventory_permissions.can_view(user, deal.patent),
        "can_see_match": matching_permissions.is_staff(user)
        or (
            deal.match.state == MatchState.ACCEPTED
            and matching_permissions.owns_demand(user, deal.demand)
        ),
        "errors": extra.pop("errors", {}),
        "form": extra.pop("form", None),
        **extra,
    }


@bp.get("/")
@login_required
def board():
    filters = queries.parse_filters(request.args)
    # 返回看板 on a deal's page leads back to the board as it was filtered (an officer lost
    # the enterprise filter each time they opened a card and came back)
    session[BOARD_FILTERS] = queries.filter_args(filters)
    return render_template(
        "deals/board.html",
        columns=queries.board(current_user, filters),
        filters=filters,
        export_args=export.KIND.params(current_user, request.args),
        options=queries.filter_options(current_user),
        column_limit=queries.BOARD_COLUMN_LIMIT,
        # the filters without stage and page: links to one stage alone, and back
        base_args={
            k: v for k, v in queries.filter_args(filters).items() if k not in ("stage", "page")
        },
        days_in_stage=queries.days_in_stage,
        is_overdue=queries.is_overdue,
        answer_days_left=queries.answer_days_left,
        show_officer_filter=current_user.role in permissions.READ_ALL_ROLES,
    )


BOARD_FILTERS = "deals_board_filters"


@bp.get("/export.<fmt>")
@roles_required(*EXPORT_ROLES)
def export_deals(fmt: str):
    """Every deal the board shows for its filters — every stage, no cap per column — as
    .xlsx or .csv: streamed, or — a large .xlsx — built in the background (revive.exports)."""
    return export_response(export.KIND.name, fmt, request.args)


def board_url() -> str:
    """The board with the filters it was last shown with in this session."""
    return url_for("deals.board", **session.get(BOARD_FILTERS, {}))


bp.add_app_template_global(board_url, "deals_board_url")


@bp.get("/<int:deal_id>")
@login_required
def detail(deal_id: int):
    deal = permissions.get_visible_deal(current_user, deal_id)
    return render_template("deals/detail.html", **_page_context(deal))


def _invalid(deal_id: int, exc: ValidationFailed, form: str, **extra: Any):
    """Re-render the deal page with the form's errors (422), keeping what was typed."""
    deal = permissions.get_visible_deal(current_user, deal_id)
    flash(exc.message, "error")
    details = exc.details if isinstance(exc.details, dict) else {}
    context = _page_context(deal, errors=details, form=form, **extra)
    return render_template("deals/detail.html", **context), 422


def _back(deal_id: int):
    return redirect(url_for("deals.detail", deal_id=deal_id))


@bp.post("/<int:deal_id>/stage")
@roles_required(*STAGE_ROLES)
def change_stage(deal_id: int):
    form = request.form
    try:
        deal = services.change_stage(
            deal_id,
            form.get("action", ""),
            current_user,
            reason=form.get("reason"),
            comment=form.get("comment"),
            expected_version=version_arg(form.get("version")),
        )
    except ValidationFailed as exc:
        return _invalid(deal_id, exc, form.get("action", ""), posted=form.to_dict())
    except (ConflictError, InvalidTransition) as exc:
        flash(exc.message, "error")
        return _back(deal_id)
    flash(f"已更新为「{deal.stage.label}」", "success")
    return _back(deal_id)


@bp.post("/<int:deal_id>/response")
@roles_required(*RESPOND_ROLES)
def respond(deal_id: int):
    form = request.form
    try:
        deal = services.respond(
            deal_id,
            form.get("response", ""),
            current_user,
            comment=form.get("comment"),
            expected_version=version_arg(form.get("version")),
        )
    except ValidationFailed as exc:
        return _invalid(deal_id, exc, "response", posted=form.to_dict())
    except (ConflictError, InvalidTransition) as exc:
        flash(exc.message, "error")
        return _back(deal_id)
    flash(f"已答复「{deal.response.label if deal.response else ''}」", "success")
    return _back(deal_id)


@bp.post("/<int:deal_id>/remind")
@roles_required(*REMIND_ROLES)
def remind(deal_id: int):
    try:
        deal = services.remind(deal_id, current_user, comment=request.form.get("comment"))
    except (ConflictError, InvalidTransition) as exc:
        flash(exc.message, "error")
        return _back(deal_id)
    flash(f"已催办：已通知{deal.university.name}尽快答复", "success")
    return _back(deal_id)


@bp.post("/<int:deal_id>/deadline")
@roles_required(*REMIND_ROLES)
def extend_deadline(deal_id: int):
    form = request.form
    try:
        deal = services.extend_deadline(
            deal_id, current_user, form.get("days"), reason=form.get("reason")
        )
    except ValidationFailed as exc:
        return _invalid(deal_id, exc, "deadline", posted=form.to_dict())
    except (ConflictError, InvalidTransition) as exc:
        flash(exc.message, "error")
        return _back(deal_id)
    flash(
        f"答复期限已延长至 {clock.format_dt(deal.response_due_at)}，已通知{deal.university.name}",
        "success",
    )
    return _back(deal_id)


CONTRACT_FIELDS = (
    "kind",
    "amount_wan",
    "confirm_amount",
    "confirm_free",
    "signed_on",
    "record_no",
    "parties",
    "license_scope",
    "license_until",
    "comment",
)


@bp.post("/<int:deal_id>/contract")
@roles_required(*CONTRACT_ROLES)
def record_contract(deal_id: int):
    data = {k: request.form.get(k, "") for k in CONTRACT_FIELDS}
    try:
        contract = services.record_contract(
            deal_id, data, current_user, expected_version=version_arg(request.form.get("version"))
        )
    except ValidationFailed as exc:
        return _invalid(deal_id, exc, "contract", contract_values=data)
    except (ConflictError, InvalidTransition) as exc:
        flash(exc.message, "error")
        return _back(deal_id)
    done = "已更正" if contract.version > 1 else "已登记"  # signing writes version 1
    free = "，无偿" if contract.amount_wan == 0 else ""
    amount = format_wan(contract.amount_wan)
    flash(f"{done}{services.contract_kind_text(contract)}合同（{amount} 万元{free}）", "success")
    return _back(deal_id)


# ---------------------------------------------------------------------------- panels


def patent_panel(patent: Patent) -> dict[str, Any] | None:
    """Data of ``_patent_panel.html``: the deals of this patent the viewer may see."""
    if not current_user.is_authenticated or not inventory_permissions.can_view(
        current_user, patent
    ):
        return None
    return {
        "deals": queries.deals_of_patent(current_user, patent.id),
        "days_in_stage": queries.days_in_stage,
        "is_overdue": queries.is_overdue,
    }


def demand_panel(demand: Demand) -> dict[str, Any] | None:
    """Data of ``_demand_panel.html``: pushed matches of the demand with their stage — for the
    enterprise that owns it and for staff (officers, platform admin, regulator)."""
    if not current_user.is_authenticated:
        return None
    if current_user.role not in permissions.READ_ALL_ROLES and not demand_permissions.is_owner(
        current_user, demand
    ):
        return None
    return {
        "deals": queries.deals_of_demand(current_user, demand.id),
        "days_in_stage": queries.days_in_stage,
        "is_overdue": queries.is_overdue,
    }


@bp.app_context_processor
def _panels() -> dict[str, Any]:
    return {"deals_patent_panel": patent_panel, "deals_demand_panel": demand_panel}
