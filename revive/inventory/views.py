"""Inventory pages (blueprint "inventory"): list, detail, create/edit, workflow, review, export.

Every route checks the role first (``roles_required``), then the object through the services /
``inventory.permissions`` (someone else's patent is a 404, never data).
"""

from __future__ import annotations

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

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.errors import ConflictError, InvalidTransition, ValidationFailed
from revive.exports.views import export_response
from revive.inventory import export, fees, inventors, permissions, queries, services, workflow
from revive.inventory.fields import FIELDS_BY_KEY
from revive.inventory.forms import (
    FIELD_GROUPS,
    OPTION_HELP,
    PatentForm,
    detail_groups,
    initial_data,
    revision_rows,
)
from revive.inventory.models import EntryStatus, ImplementationStatus, PatentType, Willingness
from revive.inventory.permissions import (
    FILER_ROLES,
    INVENTORY_ROLES,
    LINK_MANAGER_ROLES,
    REVIEWER_ROLES,
)
from revive.selection import MAX_SELECTION, selected_ids
from revive.web import int_arg, version_arg

bp = Blueprint("inventory", __name__, url_prefix="/patents")
UNIVERSITY_ROLES = frozenset({Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR})


def _page_size() -> int:
    return int(current_app.config["REVIVE_PAGE_SIZE"])


# ---------------------------------------------------------------------------- list & export


@bp.get("/")
@roles_required(*INVENTORY_ROLES)
def list_patents():
    filters = queries.parse_filters(request.args, current_user)
    page = queries.list_page(
        current_user, filters, _page_size(), cap=queries.count_cap(current_user)
    )
    cross_institution = current_user.role in permissions.READ_ALL_ROLES
    return render_template(
        "inventory/list.html",
        page=page,
        filters=filters,
        colleges=queries.college_choices(current_user).filter,
        institutions=queries.university_choices() if cross_institution else [],
        legal_statuses=queries.LEGAL_STATUSES,
        implementation_statuses=list(ImplementationStatus),
        sorts=queries.SORTS,
        statuses=list(EntryStatus),
        patent_types=list(PatentType),
        willingness=list(Willingness),
        can_create=current_user.role in FILER_ROLES,
        cross_institution=cross_institution,
        # A school admin moves many patents to a college at once (assign_college).
        assign_colleges=(
            queries.college_choices(current_user).file_into
            if current_user.role == Role.UNIVERSITY_ADMIN
            else []
        ),
        # School and college admins submit many drafts (an import's) at once (submit_batch).
        batch_submit=current_user.role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN),
        max_filtered=queries.MAX_FILTERED_IDS,
        fee_of=fees.fee_lookup(),
    )


@bp.post("/submit")
@roles_required(Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN)
def submit_batch():
    """提交审核 for the ticked patents (scope=ids) or every draft / returned patent matching the
    list's filters (scope=filter): each refusal is listed with its reason, the rest go on."""
    filters = queries.parse_filters(request.form, current_user)
    back = url_for("inventory.list_patents", **filters.to_args())
    submit = workflow.ACTIONS["submit"]
    try:
        limit = MAX_SELECTION
        if request.form.get("scope") == "filter":
            ids = queries.filtered_ids(current_user, filters, statuses=submit.sources)
            limit = queries.MAX_FILTERED_IDS  # the server's own list, bounded by the filter
        else:
            ids = selected_ids(request.form.getlist("ids"), empty="请先勾选要提交的专利")
        result = services.perform_batch(ids, submit.name, actor=current_user, limit=limit)
    except (ValidationFailed, InvalidTransition) as err:
        flash(err.message, "error")
        return redirect(back)
    flash(result.summary, "warning" if result.refused else "success")
    return redirect(back)


@bp.post("/assign-college")
@roles_required(Role.UNIVERSITY_ADMIN)
def assign_college():
    """Move the ticked patents (scope=ids) or every patent matching the list's filters
    (scope=filter, the filters sent along) to one college; each refusal listed with its reason."""
    filters = queries.parse_filters(request.form, current_user)
    back = url_for("inventory.list_patents", **filters.to_args())
    try:
        if request.form.get("scope") == "filter":
            ids = queries.filtered_ids(current_user, filters)
        else:
            ids = selected_ids(request.form.getlist("ids"), empty="请先勾选要分配的专利")
        target = int_arg(request.form.get("target_college"))
        result = services.assign_college(ids, target, actor=current_user)
    except ValidationFailed as err:
        flash(err.message, "error")
        return redirect(back)
    return render_template("inventory/assign_result.html", result=result, back=back)


@bp.get("/export.<fmt>")
@roles_required(*INVENTORY_ROLES)
def export_patents(fmt: str):
    """Every patent matching the list's filters (not just one page), as .xlsx or .csv:
    streamed, or — a large .xlsx — built in the background (revive.exports)."""
    return export_response(export.KIND.name, fmt, request.args)


# ---------------------------------------------------------------------------- annual fees


@bp.get("/annual-fees")
@roles_required(*INVENTORY_ROLES)
def annual_fees():
    """The fee table in force (its source and date), the reduction rules, and the
    institution's fee reduction setting (editable by its school admin)."""
    institution_id = current_user.organization_id if current_user.role in UNIVERSITY_ROLES else None
    return render_template(
        "inventory/annual_fees.html",
        table=fees.load_table(),
        reduction=fees.reduction_for(institution_id) if institution_id else None,
        can_set=current_user.role == Role.UNIVERSITY_ADMIN,
    )


@bp.post("/annual-fees/reduction")
@roles_required(Role.UNIVERSITY_ADMIN)
def set_fee_reduction():
    try:
        services.set_fee_reduction(
            current_user.organization_id,
            int_arg(request.form.get("reduction_pct")),
            actor=current_user,
        )
    except ValidationFailed as err:
        flash(err.message, "error")
    else:
        flash("已保存年费减缴比例", "success")
    return redirect(url_for("inventory.annual_fees"))


# ---------------------------------------------------------------------------- create & edit


def _setup_form(form: PatentForm, institution_id: int | None, patent=None) -> None:
    """College choices for this user; a platform admin also picks the university. On an
    existing patent the college rule (permissions.college_change_refusal) decides whether the
    field is offered at all and whether "no college" is one of its choices."""
    if patent is not None and not permissions.can_change_college(current_user, patent):
        refusal = permissions.college_change_refusal(current_user, patent, -1)
        form.lock_college(patent.college.name if patent.college else "", refusal or "")
        return
    if current_user.role == Role.PLATFORM_ADMIN:
        form.set_institutions(queries.university_choices())
        names = queries.colleges_of(institution_id) if institution_id else None
    else:
        names = [name for _, name in queries.college_choices(current_user).file_into]
    if names is None:
        return
    if patent is None:
        allow_none = current_user.role != Role.COLLEGE_ADMIN
    else:
        allow_none = permissions.may_clear_college(current_user, patent)
    form.set_colleges(names, allow_none=allow_none)


def _render_form(
    form: PatentForm,
    patent=None,
    *,
    status: int = 200,
    error: str | None = None,
    others: tuple[list, list] | None = None,
):
    return render_template(
        "inventory/form.html",
        form=form,
        patent=patent,
        groups=FIELD_GROUPS,
        option_help=OPTION_HELP,
        FIELDS_BY_KEY=FIELDS_BY_KEY,
        error=error,
        pick_institution=patent is None and current_user.role == Role.PLATFORM_ADMIN,
        others=others,
    ), status


def _institution_for_new(form: PatentForm) -> int | None:
    if current_user.role != Role.PLATFORM_ADMIN:
        return current_user.organization_id
    return int_arg(form.institution_id.data)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*FILER_ROLES)
def create():
    form = PatentForm()
    institution_id = _institution_for_new(form)
    _setup_form(form, institution_id)
    if not form.is_submitted() and current_user.role == Role.INVENTOR:
        form.inventors.data = current_user.name  # an inventor's patent must name them
    if not form.validate_on_submit():
        return _render_form(form)
    if institution_id is None:
        form.institution_id.errors = ["请选择所属单位"]
        return _render_form(form, status=422, error="请选择所属单位")
    try:
        patent = services.create_patent(
            form.raw_record(), institution_id=institution_id, actor=current_user
        )
    except ValidationFailed as err:
        form.apply_errors(err)
        return _render_form(form, status=422, error=err.message)
    flash("专利已登记（草稿）；完善自评后可提交审核", "success")
    return redirect(url_for("inventory.detail", patent_id=patent.id))


@bp.route("/<int:patent_id>/edit", methods=["GET", "POST"])
@roles_required(*FILER_ROLES)
def edit(patent_id: int):
    patent = services.get_patent_for(current_user, patent_id)
    permissions.check_edit(current_user, patent)
    form = PatentForm() if request.method == "POST" else PatentForm(data=initial_data(patent))
    _setup_form(form, patent.institution_id, patent)
    if not form.validate_on_submit():
        return _render_form(form, patent)
    try:
        services.update_patent(
            patent_id,
            form.raw_record(),
            actor=current_user,
            expected_version=form.expected_version(),
        )
    except ConflictError as err:
        # Keep what the user typed; the form now carries the current version, so saving again
        # is a deliberate overwrite after they have looked at the other person's change,
        # which the page lists (field by field, with the workflow moves).
        edits, moves = queries.changes_since(patent_id, form.loaded_since())
        form.reload(services.get_patent_for(current_user, patent_id).version)
        return _render_form(
            form,
            patent,
            status=409,
            error=f"{err.message}。{CONFLICT_NOTE}",
            others=(revision_rows(edits), moves),
        )
    except ValidationFailed as err:
        form.apply_errors(err)
        return _render_form(form, patent, status=422, error=err.message)
    flash("已保存修改", "success")
    return redirect(url_for("inventory.detail", patent_id=patent_id))


CONFLICT_NOTE = "您填写的内容仍保留在下方；其间的改动列在下方，核对后再次保存将以您的内容为准"


# ---------------------------------------------------------------------------- detail & workflow


@bp.get("/<int:patent_id>")
@roles_required(*INVENTORY_ROLES)
def detail(patent_id: int):
    patent = services.get_patent_for(current_user, patent_id)
    actions = [
        a
        for a in workflow.available_actions(patent)
        if permissions.can_act(current_user, patent, a)
    ]
    manage_inventors = permissions.can_manage_inventors(current_user, patent)
    return render_template(
        "inventory/detail.html",
        patent=patent,
        groups=detail_groups(patent),
        actions=actions,
        can_edit=permissions.can_edit(current_user, patent),
        can_delete=services.can_delete(current_user, patent),
        manage_inventors=manage_inventors,
        suggested_accounts=inventors.suggested_accounts(patent) if manage_inventors else [],
        fee=fees.patent_fee(patent),
        term_ended=fees.expired_on(patent),
        log=queries.status_log(patent.id),
        history=revision_rows(queries.revisions(patent.id)),
    )


@bp.post("/<int:patent_id>/actions/<action>")
@roles_required(*FILER_ROLES)
def act(patent_id: int, action: str):
    try:
        patent = services.perform_action(
            patent_id,
            action,
            actor=current_user,
            comment=request.form.get("comment"),
            expected_version=version_arg(request.form.get("version")),
        )
    except (ValidationFailed, InvalidTransition, ConflictError) as err:
        flash(err.message, "error")
    else:
        flash(f"已{workflow.ACTIONS[action].label}，当前状态：{patent.status.label}", "success")
    return redirect(url_for("inventory.detail", patent_id=patent_id))


@bp.post("/<int:patent_id>/delete")
@roles_required(*FILER_ROLES)
def delete(patent_id: int):
    """删除草稿: a never-submitted draft filed or imported by mistake."""
    try:
        title = services.delete_draft(
            patent_id, actor=current_user, expected_version=version_arg(request.form.get("version"))
        )
    except (InvalidTransition, ConflictError) as err:
        flash(err.message, "error")
        return redirect(url_for("inventory.detail", patent_id=patent_id))
    flash(f"已删除草稿「{title}」", "success")
    return redirect(url_for("inventory.list_patents"))


# ---------------------------------------------------------------------------- review queue


@bp.get("/review")
@roles_required(*REVIEWER_ROLES)
def review_queue():
    page_no = int_arg(request.args.get("page"), 1, minimum=1)
    page = queries.review_page(current_user, page_no, _page_size())
    return render_template(
        "inventory/review.html", page=page, actions=queries.batch_actions(current_user)
    )


@bp.post("/review/batch")
@roles_required(*REVIEWER_ROLES)
def batch():
    """The ticked patents (scope=ids), or every patent waiting in the queue that the action can
    move (scope=queue), oldest first."""
    action = request.form.get("action", "")
    limit = None
    try:
        if request.form.get("scope") == "queue":
            sources = workflow.get_action(action).sources
            ids = queries.review_ids(current_user, sources)
            limit = queries.MAX_FILTERED_IDS  # the server's own list, bounded by the queue
        else:
            ids = [i for i in map(int_arg, request.form.getlist("ids")) if i is not None]
            if not ids:
                flash("请先勾选要处理的专利", "warning")
                return redirect(url_for("inventory.review_queue"))
        result = services.perform_batch(
            ids, action, actor=current_user, comment=request.form.get("comment"), limit=limit
        )
    except (ValidationFailed, InvalidTransition) as err:
        flash(err.message, "error")
        return redirect(url_for("inventory.review_queue"))
    flash(result.summary, "warning" if result.refused else "success")
    return redirect(url_for("inventory.review_queue"))


# ---------------------------------------------------------------------------- inventor links
# Who may see which patent as an inventor is an admin's decision (inventory.inventors): per
# patent here, per person and per invitation on the pages below. Names only suggest.


def _link_op() -> str:
    op = request.form.get("op", "")
    if op not in ("link", "unlink"):
        raise ValidationFailed("未知的操作：请选择关联或取消关联")
    return op


@bp.post("/<int:patent_id>/inventors")
@roles_required(*LINK_MANAGER_ROLES)
def patent_inventors(patent_id: int):
    """Link ticked / e-mailed inventor accounts to the patent, or unlink ticked ones."""
    inventors.get_manageable_patent(current_user, patent_id)  # 404 / 403 before anything else
    ids = request.form.getlist("user_ids")
    try:
        if _link_op() == "link":
            email = request.form.get("email")
            n = inventors.link_inventors(patent_id, ids, actor=current_user, email=email)
            flash(f"已关联 {n} 个发明人账号", "success")
        else:
            n = inventors.unlink_inventors(patent_id, ids, actor=current_user)
            flash(f"已取消关联 {n} 个发明人账号", "success")
    except ValidationFailed as err:
        flash(err.message, "error")
    return redirect(url_for("inventory.detail", patent_id=patent_id, _anchor="inventor-accounts"))


@bp.route("/inventors/<int:user_id>", methods=["GET", "POST"])
@roles_required(*LINK_MANAGER_ROLES)
def inventor_patents(user_id: int):
    """One inventor account: its linked patents (unlink) and name matches (link)."""
    inventor = inventors.get_inventor_for(current_user, user_id)
    if request.method == "POST":
        ids = request.form.getlist("patent_ids")
        try:
            if _link_op() == "link":
                n = inventors.link_patents(user_id, ids, actor=current_user)
                flash(f"已为 {inventor.name} 关联 {n} 条专利", "success")
            else:
                n = inventors.unlink_patents(user_id, ids, actor=current_user)
                flash(f"已为 {inventor.name} 取消关联 {n} 条专利", "success")
        except ValidationFailed as err:
            flash(err.message, "error")
        return redirect(url_for("inventory.inventor_patents", user_id=user_id))
    return render_template(
        "inventory/inventor_links.html",
        inventor=inventor,
        linked=inventors.linked_patents(current_user, inventor),
        suggested=inventors.suggested_patents(current_user, inventor),
    )


@bp.route("/inventors/invitations/<int:invitation_id>", methods=["GET", "POST"])
@roles_required(Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN)
def invitation_patents(invitation_id: int):
    """The patents a pending inventor invitation links when accepted (the inviter ticks them)."""
    invitation = inventors.get_invitation_for(current_user, invitation_id)
    if request.method == "POST":
        ids = request.form.getlist("patent_ids")
        try:
            chosen = inventors.choose_invitation_patents(invitation_id, ids, actor=current_user)
        except ValidationFailed as err:
            flash(err.message, "error")
        else:
            flash(f"已保存：对方接受邀请后将关联 {len(chosen)} 条专利", "success")
        return redirect(url_for("inventory.invitation_patents", invitation_id=invitation_id))
    return render_template(
        "inventory/inventor_links.html",
        invitation=invitation,
        candidates=inventors.invitation_candidates(current_user, invitation),
        chosen=inventors.chosen_patent_ids(invitation.id),
    )
