"""JSON API: 供需对接 — deals, stage changes, university responses, contracts.

Scope and roles are those of the pages (revive.deals.permissions, revive.deals.workflow): a deal
outside the caller's scope is a 404, a refused action a 403, a stale ``version`` a 409
``conflict``. Writes need the ``X-CSRFToken`` header like every API write.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user, login_required

from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import enum_pair, iso, json_body, optional_int, paginated, requested_per_page
from revive.deals import permissions, queries, services
from revive.deals.models import Contract, Deal, DealEvent
from revive.deals.permissions import CONTRACT_ROLES, RESPOND_ROLES, STAGE_ROLES
from revive.deals.reasons import failure_label
from revive.errors import ValidationFailed


def contract_json(c: Contract) -> dict[str, Any]:
    kind, kind_label = enum_pair(c.kind)
    deal = c.deal
    return {
        "id": c.id,
        # traceability: contract → deal → demand + patent
        "deal_id": c.deal_id,
        "demand_id": deal.demand_id,
        "patent_id": deal.patent_id,
        "kind": kind,
        "kind_label": kind_label,
        "amount_wan": str(c.amount_wan),
        "signed_on": iso(c.signed_on),
        "record_no": c.record_no,
        "parties": c.parties,
        "version": c.version,
    }


def event_json(e: DealEvent) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "from_stage": e.from_stage.value if e.from_stage else None,
        "to_stage": e.to_stage.value,
        "to_stage_label": e.to_stage.label,
        "actor": {"id": e.actor.id, "name": e.actor.name} if e.actor else None,
        "comment": e.comment,
        "created_at": iso(e.created_at),
    }


def deal_json(d: Deal, *, full: bool = False) -> dict[str, Any]:
    stage, stage_label = enum_pair(d.stage)
    response, response_label = enum_pair(d.response)
    out: dict[str, Any] = {
        "id": d.id,
        "match_id": d.match_id,
        "demand": {"id": d.demand_id, "title": d.demand.title},
        "patent": {
            "id": d.patent_id,
            "title": d.patent.title,
            "application_no": d.patent.application_no,
        },
        "university": {"id": d.university_id, "name": d.university.name},
        "enterprise": {"id": d.enterprise_id, "name": d.enterprise.name},
        "officer": {"id": d.officer.id, "name": d.officer.name} if d.officer else None,
        # the officer's recommendation note sent with the push (推荐说明), and the
        # enterprise's own request when the pair came from an intent (申请对接)
        "note": d.note,
        "intent_message": d.match.intent_message if d.match else None,
        "stage": stage,
        "stage_label": stage_label,
        "stage_changed_at": iso(d.stage_changed_at),
        "days_in_stage": queries.days_in_stage(d),
        "pushed_at": iso(d.pushed_at),
        "response_due_at": iso(d.response_due_at),
        "overdue": queries.is_overdue(d),
        "response": response,
        "response_label": response_label,
        "response_comment": d.response_comment,
        "responded_at": iso(d.responded_at),
        "failure_reason": d.failure_reason,
        "failure_reason_label": failure_label(d.failure_reason) if d.failure_reason else None,
        "failure_comment": d.failure_comment,
        "contract": contract_json(d.contract) if d.contract else None,
        "version": d.version,
    }
    if full:
        out["events"] = [event_json(e) for e in queries.events_of(d)]
    return out


@bp.get("/deals")
@login_required
def list_deals():
    """Deals the caller may see, most recently changed first. Query: university, enterprise,
    officer (ids), stage, overdue=1, page, per_page. Output: {items: [deal…], _meta}."""
    filters = queries.parse_filters(request.args)
    per_page = requested_per_page()
    page = queries.list_page(current_user, filters, per_page)
    return paginated(page, deal_json)


@bp.get("/deals/<int:deal_id>")
@login_required
def get_deal(deal_id: int):
    """One deal with its stage history (events) and contract."""
    return jsonify(deal_json(permissions.get_visible_deal(current_user, deal_id), full=True))


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{key} 须为字符串", details={key: "须为字符串"})
    return value


@bp.post("/deals/<int:deal_id>/stage")
@roles_required(*STAGE_ROLES)
def change_deal_stage(deal_id: int):
    """Move a deal. Input: {action: contact|negotiate|sign|fail|reopen, or to: <stage>,
    reason? (failure code, required for fail), comment?, contract? (required for sign),
    version?}. Output: the deal with events."""
    data = json_body()
    contract = data.get("contract")
    if contract is not None and not isinstance(contract, dict):
        raise ValidationFailed("contract 须为对象")
    deal = services.change_stage(
        deal_id,
        _text(data, "action") or "",
        current_user,
        to=_text(data, "to"),
        reason=_text(data, "reason"),
        comment=_text(data, "comment"),
        contract=contract,
        expected_version=optional_int(data, "version"),
    )
    return jsonify(deal_json(deal, full=True))


@bp.post("/deals/<int:deal_id>/response")
@roles_required(*RESPOND_ROLES)
def respond_deal(deal_id: int):
    """The university's answer. Input: {response: interested|declined, comment?, version?}."""
    data = json_body()
    deal = services.respond(
        deal_id,
        _text(data, "response") or "",
        current_user,
        comment=_text(data, "comment"),
        expected_version=optional_int(data, "version"),
    )
    return jsonify(deal_json(deal, full=True))


@bp.post("/deals/<int:deal_id>/contract")
@roles_required(*CONTRACT_ROLES)
def record_deal_contract(deal_id: int):
    """Record the contract: signs a deal in 洽谈中, or corrects a signed deal's contract.
    Input: {kind: assignment|license|open_license|equity, amount_wan (万元, ≥ 0),
    signed_on (YYYY-MM-DD, not in the future), record_no?, parties, comment?, version?}.
    Output: the contract (with deal_id, demand_id, patent_id); 201 when it was created."""
    data = json_body()
    had_contract = permissions.get_visible_deal(current_user, deal_id).contract is not None
    contract = services.record_contract(
        deal_id, data, current_user, expected_version=optional_int(data, "version")
    )
    return jsonify(contract_json(contract)), (200 if had_contract else 201)
