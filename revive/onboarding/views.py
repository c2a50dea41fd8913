"""Institutions (the platform admin: list, add one, import many) and colleges in bulk
(school admins) — blueprint "onboarding". Import job pages are the shared imports ones."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from revive.accounts.forms import apply_error
from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.common.downloads import send_xlsx
from revive.errors import ValidationFailed
from revive.imports import services as import_services
from revive.imports.reader import FileRejected
from revive.imports.views import receive_upload, upload_page
from revive.onboarding import importers, queries, services
from revive.onboarding.forms import CollegesForm, InstitutionForm
from revive.web import int_arg

bp = Blueprint("onboarding", __name__)

platform_admin_required = roles_required(Role.PLATFORM_ADMIN)
manager_required = roles_required(Role.UNIVERSITY_ADMIN, Role.PLATFORM_ADMIN)


def _render_institutions(form: InstitutionForm | None = None, status: int = 200):
    q = (request.args.get("q") or "").strip()[:100]
    page = queries.institutions(
        int_arg(request.args.get("page"), 1, minimum=1),
        int(current_app.config["REVIVE_PAGE_SIZE"]),
        q or None,
    )
    return render_template(
        "onboarding/institutions.html",
        page=page,
        q=q,
        form=form or InstitutionForm(formdata=None),
    ), status


@bp.get("/institutions/")
@platform_admin_required
def institutions():
    """Every university and research institute, whether it has a school admin yet, and the
    form to add one."""
    return _render_institutions()


@bp.post("/institutions/")
@platform_admin_required
def add_institution():
    form = InstitutionForm()
    if form.validate_on_submit():
        try:
            org = services.add_institution(
                actor=current_user,
                name=form.name.data,
                credit_code=form.credit_code.data,
                region=form.region.data,
                institution_type=form.institution_type.data,
            )
        except ValidationFailed as err:
            if not apply_error(form, err):
                flash(err.message, "error")
        else:
            flash(f"已添加「{org.name}」。下一步：邀请该单位的学校管理员", "success")
            return redirect(url_for("accounts.members", org=org.id))
    return _render_institutions(form, 422)


_upload_page = partial(upload_page, "onboarding/import.html")


@bp.get("/institutions/import")
@platform_admin_required
def import_upload():
    return _upload_page()


@bp.post("/institutions/import")
@platform_admin_required
def import_upload_post():
    create = partial(importers.create_institution_import, actor=current_user)
    return receive_upload(create, _upload_page)


@bp.get("/institutions/template.xlsx")
@platform_admin_required
def import_template():
    template = partial(import_services.write_template_xlsx, kind=importers.KIND)
    return send_xlsx(template, "高校科研院所导入模板.xlsx")


# ---------------------------------------------------------------------------- colleges


def _members_page(org_id: int | None):
    if current_user.role == Role.PLATFORM_ADMIN and org_id:
        return redirect(url_for("accounts.members", org=org_id))
    return redirect(url_for("accounts.members"))


@bp.post("/colleges/bulk")
@manager_required
def add_colleges():
    """Add many colleges at once: a pasted list (one per line) or a spreadsheet column."""
    form = CollegesForm()
    raw = form.organization_id.data
    if current_user.role == Role.UNIVERSITY_ADMIN and not raw:
        org_id = current_user.organization_id  # a school admin's own university
    else:
        org_id = int_arg(raw, minimum=1)  # another one: the service checks who manages it
    if org_id is None:
        raise ValidationFailed("请先选择单位")
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(errors[0], "error")
        return _members_page(org_id)
    try:
        file = request.files.get("file")
        if file is not None and file.filename:
            names = services.college_names_from_file(file.stream)
        else:
            names = services.college_names(form.names.data)
        added = services.add_colleges(actor=current_user, organization_id=org_id, names=names)
    except (ValidationFailed, FileRejected) as err:
        flash(err.message, "error")
    else:
        skipped = len(names) - len(added)
        note = f"，{skipped} 个已存在、已跳过" if skipped else ""
        flash(f"已添加 {len(added)} 个学院{note}", "success")
    return _members_page(org_id)
