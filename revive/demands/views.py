"""Demand pages (blueprint "demands"): my demands / all demands, post, edit, close, detail,
export, and the officers' import upload (the job pages are the shared imports ones)."""

from __future__ import annotations

from functools import partial

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

from revive import queue
from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.common.downloads import send_xlsx
from revive.demands import export, importers, permissions, queries, services
from revive.demands.fields import EDITABLE_KEYS, FIELDS_BY_KEY, display_value, modes_of
from revive.demands.models import DemandStatus, DemandType, Visibility
from revive.demands.permissions import DEMAND_ROLES, EXPORT_ROLES, IMPORTER_ROLES, POSTER_ROLES
from revive.demands.privacy import has_contacts, shown_description, shown_specs
from revive.errors import ConflictError, ValidationFailed
from revive.exports.views import export_response
from revive.imports import services as import_services
from revive.imports.views import receive_upload, upload_page
from revive.inventory.fields import TRL_HELP
from revive.inventory.models import TransferMode
from revive.web import version_arg

bp = Blueprint("demands", __name__, url_prefix="/demands")

POST_ROLES = (Role.ENTERPRISE,)  # the web form; officers import or use the API


def _form_context(values: dict, errors: dict | None = None) -> dict:
    return {
        "values": values,
        "errors": errors or {},
        "fields": FIELDS_BY_KEY,
        "demand_types": list(DemandType),
        "modes": list(TransferMode),
        "visibilities": list(Visibility),
        "trl_help": TRL_HELP,
    }


def _form_values(demand) -> dict:
    """Display text of each editable field (what the form shows and posts back)."""
    values = {k: display_value(k, getattr(demand, k)) for k in EDITABLE_KEYS}
    values["cooperation_modes"] = (demand.cooperation_modes or "").split(",")
    values["demand_type"] = demand.demand_type.value if demand.demand_type else ""
    values["visibility"] = demand.visibility.value
    return values


def _posted() -> dict:
    data = {k: request.form.get(k, "") for k in EDITABLE_KEYS}
    data["cooperation_modes"] = ",".join(request.form.getlist("cooperation_modes"))
    return data


# ---------------------------------------------------------------------------- list & export


@bp.get("/")
@roles_required(*DEMAND_ROLES)
def list_demands():
    filters = queries.parse_filters(request.args)
    page = queries.list_page(current_user, filters, int(current_app.config["REVIVE_PAGE_SIZE"]))
    return render_template(
        "demands/list.html",
        page=page,
        filters=filters,
        statuses=list(DemandStatus),
        demand_types=list(DemandType),
        mine=current_user.role == Role.ENTERPRISE,
        can_post=current_user.role in POST_ROLES,
        can_export=current_user.role in EXPORT_ROLES,
        can_import=current_user.role in IMPORTER_ROLES,
    )


@bp.get("/export.<fmt>")
@roles_required(*EXPORT_ROLES)
def export_demands(fmt: str):
    """Every demand matching the list's filters, as .xlsx or .csv (re-importable): streamed,
    or — a large .xlsx — built in the background (revive.exports). The rows are the list's
    (queries.where_clauses): an enterprise gets its own demands only, whatever their
    visibility or state."""
    return export_response(export.KIND.name, fmt, request.args)


# ---------------------------------------------------------------------------- post / edit / close


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*POST_ROLES)
def post():
    if request.method == "GET":
        return render_template("demands/form.html", demand=None, **_form_context(_new_contact()))
    data = _posted()
    try:
        demand = services.post_demand(data, actor=current_user)
    except ValidationFailed as exc:
        return render_template(
            "demands/form.html", demand=None, error=exc.message, **_form_context(data, exc.details)
        ), 422
    except services.DuplicateDemand as exc:  # the form sent twice: show the one posted
        flash("这条需求已经发布过（标题和内容完全相同），未重复发布", "info")
        return redirect(url_for("demands.detail", demand_id=exc.demand_id))
    flash("需求已发布", "success")
    _contacts_notice(demand.description, demand.target_specs)
    _queue_notice()
    return redirect(url_for("demands.detail", demand_id=demand.id))


STALE_FORM = (
    "保存前，这条需求已有新的修改（可能来自您的另一个窗口，或同单位的其他人）。"
    "您填写的内容保留在下方，请与需求页上的当前内容核对后再次保存。"
)


@bp.route("/<int:demand_id>/edit", methods=["GET", "POST"])
@roles_required(*POSTER_ROLES)
def edit(demand_id: int):
    demand = services.get_demand_for(current_user, demand_id)
    permissions.check_edit(current_user, demand)
    if demand.status != DemandStatus.OPEN:  # no form that could never be saved
        flash("需求已关闭，不能修改", "warning")
        return redirect(url_for("demands.detail", demand_id=demand_id))
    if request.method == "GET":
        return render_template(
            "demands/form.html", demand=demand, **_form_context(_form_values(demand))
        )
    data = _posted()
    try:
        services.update_demand(
            demand_id,
            data,
            actor=current_user,
            expected_version=version_arg(request.form.get("version")),
        )
    except ValidationFailed as exc:
        return render_template(
            "demands/form.html",
            demand=demand,
            error=exc.message,
            **_form_context(data, exc.details),
        ), 422
    except ConflictError:
        # Saved meanwhile (another window, or a colleague): keep what this user typed, on a
        # form that carries the current version (``demand`` was read after that save, or was
        # expired by the service's rollback), so checking it and saving again works.
        return render_template(
            "demands/form.html", demand=demand, error=STALE_FORM, **_form_context(data, {})
        ), 409
    flash("需求已保存", "success")
    _contacts_notice(data.get("description"), data.get("target_specs"))
    _queue_notice()
    return redirect(url_for("demands.detail", demand_id=demand_id))


def _contacts_notice(description: str | None, specs: str | None) -> None:
    """The poster wrote contact details into the description or the targets: say that
    universities will not see them (demands.privacy) and where they belong."""
    where = "、".join(
        label
        for label, text in (("需求描述", description), ("量化技术指标", specs))
        if has_contacts(text)
    )
    if where:
        flash(
            f"{where}中含有电话、邮箱等联系方式：高校用户看不到这些内容（已自动隐藏）。"
            "请把联系方式填在“联系人”栏，由技术经理人为您对接",
            "warning",
        )


def _new_contact() -> dict:
    """A new demand form starts with the enterprise user's own contact."""
    return services.contact_of(current_user) if current_user.role == Role.ENTERPRISE else {}


def _queue_notice() -> None:
    """The demand is saved; tell the poster when its matching had to wait for the queue."""
    if queue.deferred():
        flash("需求已保存；后台任务队列暂不可用，匹配将在队列恢复后自动进行", "warning")


@bp.route("/<int:demand_id>/close", methods=["GET", "POST"])
@roles_required(*POSTER_ROLES)
def close(demand_id: int):
    """The close form lists what closing ends (open deals, unreviewed intents) and warns; the
    list shown travels with the form, so one that grew meanwhile is shown again first."""
    demand = services.get_demand_for(current_user, demand_id)
    permissions.check_edit(current_user, demand)
    if demand.status != DemandStatus.OPEN:  # e.g. the form sent twice: show the closed demand
        flash("需求已关闭", "info")
        return redirect(url_for("demands.detail", demand_id=demand_id))

    def page(error: str | None = None, status: int = 200, reason: str = ""):
        endings = services.closing_effects(demand, current_user)
        return render_template(
            "demands/close.html",
            demand=demand,
            is_owner=permissions.is_owner(current_user, demand),
            error=error,
            reason=reason,
            deals=[e for e in endings if e.kind == "deal"],
            intents=[e for e in endings if e.kind == "intent"],
            shown=",".join(e.key for e in endings),
        ), status

    if request.method == "GET":
        return page()
    reason = request.form.get("reason") or ""
    shown = request.form.get("shown")  # the form's list; an old form has none
    try:
        services.close_demand(
            demand_id,
            actor=current_user,
            reason=reason,
            expected_version=version_arg(request.form.get("version")),
            seen=None if shown is None else set(filter(None, shown.split(","))),
        )
    except ValidationFailed as exc:
        return page(exc.message, 422, reason)
    except ConflictError as exc:  # saved meanwhile: the page shows the current state
        return page(exc.message, 409, reason)
    flash("需求已关闭", "success")
    return redirect(url_for("demands.detail", demand_id=demand_id))


@bp.post("/<int:demand_id>/alerts")
@roles_required(*POSTER_ROLES)
def alerts(demand_id: int):
    """订阅 / 取消新专利提醒 (the form posts subscribed=1 or 0)."""
    subscribed = request.form.get("subscribed") == "1"
    services.set_alerts(demand_id, subscribed, actor=current_user)
    flash("已订阅新专利提醒" if subscribed else "已取消新专利提醒", "success")
    return redirect(url_for("demands.detail", demand_id=demand_id, _anchor="demand-progress"))


@bp.route("/<int:demand_id>/reopen", methods=["GET", "POST"])
@roles_required(*POSTER_ROLES)
def reopen(demand_id: int):
    """重新开放 a closed demand: the form shows the close reason and asks for the deadline
    (the old one, when it has passed, must be replaced or cleared)."""
    demand = services.get_demand_for(current_user, demand_id)
    permissions.check_edit(current_user, demand)
    if demand.status != DemandStatus.CLOSED:  # e.g. the form sent twice
        flash("需求已在征集中", "info")
        return redirect(url_for("demands.detail", demand_id=demand_id))
    closer = queries.closed_by(demand)
    refusal = services.reopen_refusal(current_user, closer)

    def page(error: str | None = None, status: int = 200, deadline: str | None = None):
        if deadline is None:
            deadline = demand.deadline.isoformat() if demand.deadline else ""
        return render_template(
            "demands/reopen.html",
            demand=demand,
            error=error,
            refusal=refusal,
            deadline=deadline,
            closed_by=closer,
        ), status

    if request.method == "GET":
        return page()
    if refusal:
        return page(refusal, 403)
    deadline = request.form.get("deadline") or ""
    try:
        services.reopen_demand(
            demand_id,
            actor=current_user,
            deadline=deadline,
            expected_version=version_arg(request.form.get("version")),
        )
    except ValidationFailed as exc:
        return page(exc.message, 422, deadline)
    except ConflictError as exc:
        return page(exc.message, 409, deadline)
    flash("需求已重新开放，平台正在重新为它匹配专利", "success")
    _queue_notice()
    return redirect(url_for("demands.detail", demand_id=demand_id))


@bp.get("/<int:demand_id>")
@roles_required(*DEMAND_ROLES)
def detail(demand_id: int):
    demand = services.get_demand_for(current_user, demand_id)
    show_contact = permissions.can_see_contact(current_user, demand)
    closer = queries.closed_by(demand)
    return render_template(
        "demands/detail.html",
        demand=demand,
        description=shown_description(current_user, demand),
        specs=shown_specs(current_user, demand),
        show_contact=show_contact,
        can_edit=permissions.can_edit(current_user, demand),
        can_reopen=services.can_reopen(current_user, demand, closer),
        closed_by=closer,
        modes=[m.label for m in modes_of(demand.cooperation_modes)],
        trl_help=TRL_HELP,
    )


# ---------------------------------------------------------------------------- import (officers)


_upload_page = partial(upload_page, "demands/import.html")


@bp.get("/import")
@roles_required(*IMPORTER_ROLES)
def import_upload():
    return _upload_page()


@bp.post("/import")
@roles_required(*IMPORTER_ROLES)
def import_upload_post():
    create = partial(importers.create_demand_import, actor=current_user)
    return receive_upload(create, _upload_page)


@bp.get("/import/template.xlsx")
@roles_required(*IMPORTER_ROLES)
def import_template():
    template = partial(import_services.write_template_xlsx, kind=importers.KIND)
    return send_xlsx(template, "企业需求导入模板.xlsx")
