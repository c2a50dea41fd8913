"""市场评价 and 分层推广 pages (blueprint "evaluations").

/evaluations/todo                          an enterprise's patents to evaluate (matched / invited)
/evaluations/patents/<id>/evaluate         the evaluation form (enterprise; rating again updates)
/evaluations/patents/<id>/invites          POST: invite an enterprise (officer, platform admin,
                                           the patent's university admin)
/evaluations/calibration[.xlsx]            self-rating vs. enterprise rating
/evaluations/promotion[.xlsx]              promotion lists per industry (tiers A/B by default)

The patent page includes ``evaluations/_patent_panel.html``; its data comes from the template
global ``evaluations_patent_panel(patent)`` registered below. Two more globals serve other pages:
``evaluations_evaluate_url(patent_id)`` (a link to the form, or None when the viewer may not
evaluate) and ``evaluations_todo_count()`` (patents left to evaluate, for a nav badge).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from revive.accounts.permissions import roles_required
from revive.clock import local_today
from revive.common.downloads import send_stream
from revive.common.spreadsheets import XLSX_MIMETYPE
from revive.errors import ConflictError, ValidationFailed
from revive.evaluations import export, permissions, queries, services
from revive.evaluations.models import CooperationIntent
from revive.evaluations.permissions import (
    CALIBRATION_ROLES,
    EVALUATOR_ROLES,
    INVITER_ROLES,
    PROMOTION_ROLES,
)
from revive.evaluations.tiers import TIER_LABELS, Tier
from revive.inventory.fields import GRADE_HELP, TRL_HELP
from revive.inventory.models import Patent
from revive.inventory.public import not_public_reason, public_patent
from revive.web import int_arg, version_arg

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")

# What each 产业化前景 star means to the enterprise filling in the form.
STAR_HELP = {
    1: "1★：基本看不到产业化前景",
    2: "2★：前景有限，需要大量后续开发",
    3: "3★：有明确应用场景，值得进一步了解",
    4: "4★：前景较好，与本企业业务相关",
    5: "5★：前景很好，可较快投入应用",
}


def _per_page() -> int:
    return int(current_app.config["REVIVE_PAGE_SIZE"])


def _page_arg() -> int:
    return int_arg(request.args.get("page"), 1, minimum=1)


# ---------------------------------------------------------------------------- enterprise


@bp.get("/todo")
@roles_required(*EVALUATOR_ROLES)
def todo():
    state = request.args.get("state", "all")
    state = state if state in queries.TODO_STATES else "all"
    page = queries.todo_page(current_user, state, _page_arg(), _per_page())
    return render_template(
        "evaluations/todo.html", page=page, state=state, states=queries.TODO_STATES
    )


def _form_values(evaluation: Any) -> dict[str, Any]:
    if evaluation is None:
        return {}
    return {
        "prospect_stars": str(evaluation.prospect_stars),
        "intent": evaluation.intent.value,
        "improvement_needs": evaluation.improvement_needs or "",
    }


def _render_form(
    patent: Patent, values: dict | None = None, errors: dict | None = None, error: str = ""
):
    """The form with ``values`` as posted, or (None) the enterprise's saved evaluation."""
    panel = queries.patent_evaluations(current_user, patent)
    # The patent's text as the pool shows it (the asking price only when the university made
    # it public), and only while the patent is in the pool: an evaluator was shown the full
    # record and a non-public price (a security review). Out of the pool, the reason instead.
    absent = not_public_reason(patent)
    return render_template(
        "evaluations/evaluate.html",
        patent=patent,
        p=public_patent(patent) if absent is None else None,
        absent=absent,
        panel=panel,
        values=_form_values(panel.own) if values is None else values,
        errors=errors or {},
        error=error,
        star_help=STAR_HELP,
        intents=list(CooperationIntent),
        trl_help=TRL_HELP,
        can_evaluate=absent is None,
    )


@bp.route("/patents/<int:patent_id>/evaluate", methods=["GET", "POST"])
@roles_required(*EVALUATOR_ROLES)
def evaluate(patent_id: int):
    patent = permissions.get_patent_to_evaluate(current_user, patent_id)
    if request.method == "GET":
        return _render_form(patent)
    values = {k: request.form.get(k, "") for k in ("prospect_stars", "intent", "improvement_needs")}
    try:
        _, created = services.evaluate_patent(
            patent.id,
            actor=current_user,
            expected_version=version_arg(request.form.get("version")),
            **values,
        )
    except ValidationFailed as exc:
        return _render_form(patent, values, exc.details, exc.message), 422
    except ConflictError as exc:
        return _render_form(patent, values, error=exc.message), 409
    flash("评价已提交，感谢！" if created else "评价已更新", "success")
    return redirect(url_for("evaluations.evaluate", patent_id=patent.id))


# ---------------------------------------------------------------------------- invitations


@bp.post("/patents/<int:patent_id>/invites")
@roles_required(*INVITER_ROLES)
def invite(patent_id: int):
    try:
        invitation, created = services.invite_enterprise(
            patent_id,
            actor=current_user,
            enterprise_id=request.form.get("enterprise_id"),
            enterprise_name=request.form.get("enterprise_name"),
        )
    except ValidationFailed as exc:
        flash(exc.message, "error")
    else:
        name = invitation.enterprise.name
        if created:
            flash(f"已邀请「{name}」评价该专利，并已通知该企业", "success")
        else:
            flash(f"「{name}」已在邀请名单中", "info")
    return redirect(url_for("inventory.detail", patent_id=patent_id) + "#evaluations")


# ---------------------------------------------------------------------------- calibration


def _institution_arg() -> int | None:
    return int_arg(request.args.get("institution"))


def _universities() -> list[tuple[int, str]]:
    return queries.universities() if current_user.role in permissions.READ_ALL_ROLES else []


@bp.get("/calibration")
@roles_required(*CALIBRATION_ROLES)
def calibration():
    institution = _institution_arg()
    summary = queries.calibration(current_user, institution)
    patents = queries.calibration_patents(current_user, institution, _page_arg(), _per_page())
    return render_template(
        "evaluations/calibration.html",
        s=summary,
        patents=patents,
        chart=export.calibration_chart(summary),
        universities=_universities(),
        good=queries.GOOD,
        grade_help=GRADE_HELP,
    )


@bp.get("/calibration.xlsx")
@roles_required(*CALIBRATION_ROLES)
def calibration_xlsx():
    institution = _institution_arg()
    summary = queries.calibration(current_user, institution)
    rows = queries.iter_calibration_patents(current_user._get_current_object(), institution)
    name = f"自评与企业评价对比-{summary.scope_label}-{local_today():%Y%m%d}.xlsx"
    return send_stream(
        export.iter_calibration_xlsx(summary, rows), XLSX_MIMETYPE, name, "calibration.xlsx"
    )


# ---------------------------------------------------------------------------- promotion lists


@bp.get("/promotion")
@roles_required(*PROMOTION_ROLES)
def promotion():
    filters = queries.parse_promotion_filters(request.args)
    page = queries.promotion_page(current_user, filters, _per_page())
    summary = queries.promotion_summary(current_user, filters)
    return render_template(
        "evaluations/promotion.html",
        page=page,
        f=filters,
        summary=summary,
        chart=export.promotion_chart(summary),
        chart_height=export.promotion_chart_height(summary),
        withheld=queries.promotion_withheld(current_user, filters),
        groupings=queries.GROUPINGS,
        tiers=list(Tier),
        tier_labels=TIER_LABELS,
        universities=_universities(),
        scope_label=queries.scope_label(current_user, filters.institution),
        rules=queries.current_rules(),
    )


@bp.get("/promotion.xlsx")
@roles_required(*PROMOTION_ROLES)
def promotion_xlsx():
    filters = queries.parse_promotion_filters(request.args)
    permissions.check_institution(current_user, filters.institution)  # before streaming starts
    rows = queries.iter_promotion(current_user._get_current_object(), filters)
    tiers = "".join(filters.tiers)
    name = f"分层推广清单-{tiers}-{local_today():%Y%m%d}.xlsx"
    return send_stream(export.iter_promotion_xlsx(rows), XLSX_MIMETYPE, name, "promotion.xlsx")


# ---------------------------------------------------------------------------- patent panel


def patent_panel(patent: Patent) -> queries.PatentEvaluations | None:
    """Data of ``_patent_panel.html``; None when the viewer may not see evaluations."""
    if not current_user.is_authenticated or not permissions.can_see_evaluations(
        current_user, patent
    ):
        return None
    return queries.patent_evaluations(current_user, patent)


def evaluate_url(patent_id: int) -> str | None:
    """The evaluation form's URL when the viewer's enterprise may evaluate this patent (matched
    or invited), for other pages (e.g. a deal page) to link to; None otherwise."""
    if not permissions.is_linked(current_user, patent_id):  # False for non-enterprises
        return None
    return url_for("evaluations.evaluate", patent_id=patent_id)


def todo_count() -> int | None:
    """Entered patents the viewer's enterprise has yet to evaluate (for a nav badge)."""
    if not permissions.is_enterprise(current_user):
        return None
    return queries.todo_count(current_user)


@bp.app_context_processor
def _panels() -> dict[str, Any]:
    return {
        "evaluations_patent_panel": patent_panel,
        "evaluations_evaluate_url": evaluate_url,
        "evaluations_todo_count": todo_count,
    }
