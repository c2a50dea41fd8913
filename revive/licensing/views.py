"""Open-licence pages (blueprint "licensing" at /open-licences): the public list and its .xlsx
export, the declaration form, one declaration with its withdraw button, and the applications
to implement a declared licence (开放许可实施申请: the form, the list, one application with the
holder's and the applicant's actions).

The patent page includes ``licensing/_patent_panel.html``; its data comes from the template
global ``licensing_patent_panel(patent)`` registered at the end of this module.
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
from revive.common.downloads import send_table
from revive.errors import ConflictError, InvalidTransition, NotFoundError, ValidationFailed
from revive.inventory import permissions as patent_permissions
from revive.inventory.models import EntryStatus, Patent
from revive.licensing import applications, display, export, permissions, queries, rules, services
from revive.licensing.models import ApplicationStatus, DeclarationStatus, FeeMode
from revive.licensing.permissions import (
    APPLICANT_ROLES,
    APPLICATION_READERS,
    DECLARER_ROLES,
    HOLDER_ROLES,
    VIEWER_ROLES,
)
from revive.web import int_arg, version_arg

bp = Blueprint("licensing", __name__, url_prefix="/open-licences")


def _posted() -> dict[str, Any]:
    return {key: request.form.get(key, "") for key in rules.FIELD_KEYS}


def _form_page(form: services.DeclarationForm, values: dict, errors: list | None = None):
    by_field: dict[str, list[str]] = {}
    for key, message in errors or []:
        by_field.setdefault(key, []).append(message)
    return render_template(
        "licensing/form.html",
        form=form,
        patent=form.patent,
        values=values,
        errors=errors or [],
        field_errors=by_field,
        labels=rules.LABELS,
        fee_modes=list(FeeMode),
        co_owners=rules.patentee_names(form.patent.patentees),
        needs_report=form.patent.patent_type in rules.NEEDS_EVALUATION_REPORT,
        caps={
            "fixed": rules.MAX_FIXED_FEE_WAN,
            "sales": rules.MAX_ROYALTY_SALES_PCT,
            "profit": rules.MAX_ROYALTY_PROFIT_PCT,
            "years": rules.MIN_PERIOD_YEARS,
        },
    )


def _patent_id() -> int:
    patent_id = int_arg(request.args.get("patent_id"))
    if patent_id is None:
        raise NotFoundError("请从专利详情页发起开放许可声明")
    return patent_id


# ---------------------------------------------------------------------------- list & export


@bp.get("")
@roles_required(*VIEWER_ROLES)
def list_declarations():
    filters = queries.parse_filters(request.args)
    page = queries.list_page(filters, int(current_app.config["REVIVE_PAGE_SIZE"]))
    return render_template(
        "licensing/list.html",
        page=page,
        filters=filters,
        fee_modes=list(FeeMode),
        sorts=queries.SORTS,
        industries=queries.industry_choices(),
        universities=queries.university_choices(),
    )


@bp.get("/export.xlsx")
@roles_required(*VIEWER_ROLES)
def export_declarations():
    """Every listed declaration matching the list's filters (not just one page), as .xlsx."""
    rows = queries.export_declarations(queries.parse_filters(request.args))
    return send_table(
        export.HEADER,
        map(export.row, rows),
        f"专利开放许可-{local_today():%Y%m%d}.xlsx",
        sheet_title="专利开放许可",
    )


# ---------------------------------------------------------------------------- declare


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*DECLARER_ROLES)
def new():
    form = services.declaration_form(_patent_id(), actor=current_user)
    if request.method == "GET":
        return _form_page(form, {"start_date": local_today().isoformat()})
    values = _posted()
    try:
        declaration = services.declare(form.patent.id, values, actor=current_user)
    except services.DeclarationRejected as exc:
        return _form_page(form, values, exc.errors), 422
    flash("开放许可声明已发布", "success")
    return redirect(url_for("licensing.detail", declaration_id=declaration.id))


# ---------------------------------------------------------------------------- one declaration


@bp.get("/<int:declaration_id>")
@roles_required(*VIEWER_ROLES)
def detail(declaration_id: int):
    declaration = services.get_declaration_for(current_user, declaration_id)
    return render_template(
        "licensing/detail.html",
        d=declaration,
        patent=declaration.patent,
        listed=permissions.is_listed(declaration),
        can_manage=permissions.can_manage(current_user, declaration.patent),
        can_view_patent=patent_permissions.can_view(current_user, declaration.patent),
        co_owners=rules.patentee_names(declaration.patent.patentees),
        application=_application_panel(declaration),
    )


def _application_panel(declaration: Any) -> dict[str, Any]:
    """The declaration page's 实施申请 box: an enterprise's own application (or the form's
    link, or why not); the holder's and staff's count of applications."""
    user = current_user
    if user.role in APPLICANT_ROLES:
        held = applications._held(declaration.id, user.organization_id)
        return {
            "applicant": True,
            "held": held,
            "problem": applications._problem(declaration, held),
        }
    if user.role in APPLICATION_READERS and permissions.can_view(user, declaration):
        page = queries.application_page(user, 1, 1, declaration_id=declaration.id)
        return {"applicant": False, "count": page.total}
    return {}


@bp.post("/<int:declaration_id>/withdraw")
@roles_required(*DECLARER_ROLES)
def withdraw(declaration_id: int):
    try:
        services.withdraw(
            declaration_id,
            actor=current_user,
            expected_version=version_arg(request.form.get("version")),
            reason=request.form.get("reason"),
        )
    except (ConflictError, InvalidTransition, ValidationFailed) as exc:
        flash(exc.message, "error")
    else:
        flash("开放许可声明已撤回；撤回前已获得的许可不受影响", "success")
    return redirect(url_for("licensing.detail", declaration_id=declaration_id))


# ---------------------------------------------------------------------------- applications


def _apply_page(form: applications.ApplicationForm, values: dict, errors: dict | None = None):
    return render_template(
        "licensing/apply.html",
        form=form,
        d=form.declaration,
        patent=form.declaration.patent,
        form_terms=applications.terms_snapshot(form.declaration),
        values=values,
        errors=errors or {},
        limits={"use": applications.USE_MAX, "name": applications.CONTACT_NAME_MAX},
    )


@bp.route("/<int:declaration_id>/apply", methods=["GET", "POST"])
@roles_required(*APPLICANT_ROLES)
def apply(declaration_id: int):
    """开放许可实施申请: the declared terms, the applicant's details, acceptance."""
    form = applications.application_form(declaration_id, actor=current_user)
    if request.method == "GET":
        return _apply_page(form, form.defaults)
    values = {key: request.form.get(key, "") for key in applications.FIELDS}
    try:
        row = applications.apply(declaration_id, values, actor=current_user)
    except ValidationFailed as exc:
        return _apply_page(form, values, exc.details or {}), 422
    except (InvalidTransition, ConflictError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("licensing.apply", declaration_id=declaration_id))
    flash("实施申请已提交，专利权人确认后会通知您", "success")
    return redirect(url_for("licensing.application", application_id=row.id))


@bp.get("/applications")
@roles_required(*APPLICATION_READERS)
def applications_list():
    raw = request.args.get("status", "")
    status = next((s for s in ApplicationStatus if raw == s.value), None)
    page = queries.application_page(
        current_user,
        int_arg(request.args.get("page"), 1, minimum=1) or 1,
        int(current_app.config["REVIVE_PAGE_SIZE"]),
        status=status,
        declaration_id=int_arg(request.args.get("declaration")),
    )
    return render_template(
        "licensing/applications.html", page=page, status=status, statuses=list(ApplicationStatus)
    )


@bp.get("/applications/<int:application_id>")
@roles_required(*APPLICATION_READERS)
def application(application_id: int):
    row = permissions.get_visible_application(current_user, application_id)
    return render_template(
        "licensing/application.html",
        a=row,
        t=row.terms or {},
        can_decide=permissions.can_manage(current_user, row.patent),
        is_applicant=permissions.is_applicant(current_user, row),
        steps=applications.STEPS,
        today=local_today().isoformat(),
        note_max=applications.NOTE_MAX,
    )


def _act(application_id: int, step: str, done: str):
    form = request.form
    try:
        applications.act(
            application_id,
            step,
            actor=current_user,
            on=form.get("date"),
            note=form.get("reason") if step == "withdraw" else form.get("note"),
            expected_version=version_arg(form.get("version")),
        )
    except (ConflictError, InvalidTransition, ValidationFailed) as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("licensing.application", application_id=application_id))


@bp.post("/applications/<int:application_id>/confirm")
@roles_required(*HOLDER_ROLES)
def confirm_application(application_id: int):
    return _act(application_id, "confirm", "已确认该实施申请，申请企业会收到通知")


@bp.post("/applications/<int:application_id>/sign")
@roles_required(*HOLDER_ROLES)
def sign_application(application_id: int):
    return _act(application_id, "sign", "已登记签订，申请企业会收到通知")


@bp.post("/applications/<int:application_id>/withdraw")
@roles_required(*APPLICANT_ROLES)
def withdraw_application(application_id: int):
    return _act(application_id, "withdraw", "实施申请已撤回")


# ---------------------------------------------------------------------------- patent panel


def patent_panel(patent: Patent) -> dict[str, Any] | None:
    """Data of ``_patent_panel.html``; None when the viewer may see nothing of it."""
    if not current_user.is_authenticated:
        return None
    declarations = queries.for_patent(patent.id)
    active = next((d for d in declarations if d.status == DeclarationStatus.ACTIVE), None)
    entered = patent.status == EntryStatus.ENTERED
    if not patent_permissions.can_view(current_user, patent):
        if active is None or not entered:
            return None
        return {"active": active, "entered": True, "can_manage": False, "history": []}
    can_manage = permissions.can_manage(current_user, patent)
    return {
        "active": active,
        "entered": entered,
        "can_manage": can_manage,
        "can_declare": can_manage and active is None and entered,
        "history": [d for d in declarations if d.status == DeclarationStatus.WITHDRAWN],
    }


@bp.app_context_processor
def _panels() -> dict[str, Any]:
    return {
        "licensing_patent_panel": patent_panel,
        "licence_fee_summary": display.fee_summary,
        "licence_period": display.period_text,
        "licence_amount": display.amount,
    }
