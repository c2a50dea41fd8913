"""Login, logout, invitations, enterprise registration, member management (blueprint "accounts")."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from revive.accounts import queries, services
from revive.accounts.forms import (
    NO_COLLEGE,
    AcceptInviteForm,
    ChangePasswordForm,
    CollegeForm,
    InviteForm,
    LoginForm,
    RegisterEnterpriseForm,
    StaffUserForm,
    apply_error,
)
from revive.accounts.models import OrgKind, Role
from revive.accounts.permissions import roles_required
from revive.errors import ValidationFailed

bp = Blueprint("accounts", __name__)
manager_required = roles_required(Role.UNIVERSITY_ADMIN, Role.PLATFORM_ADMIN)


def _safe_next(target: str | None) -> str:
    """Only same-site absolute paths: refuses //host, /\\host, scheme:… and relative paths."""
    if target and target.startswith("/") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme and not target.startswith("//"):
            return target
    return url_for("dashboard.home")


REGISTERED = (
    "注册申请已受理，请用注册邮箱和密码登录。若该邮箱此前已注册过，请用原密码登录，"
    "忘记密码请联系平台管理员"
)


def _start_session(user) -> None:
    """Log ``user`` in on a fresh session: whatever the browser carried before (a planted or
    pre-login session, its CSRF secret) is dropped, so a session cannot be fixed in advance."""
    session.clear()
    login_user(user)


def _form_error(form, err: ValidationFailed) -> None:
    if not apply_error(form, err):
        flash(err.message, "error")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.login(form.email.data, form.password.data, ip=request.remote_addr)
        except services.LoginRateLimited as err:
            flash(err.message, "error")
            return render_template("accounts/login.html", form=form), 429
        if user is None:
            # Same message whether the e-mail exists or not (no user enumeration).
            flash("邮箱或密码错误，或账号已被暂时锁定", "error")
        else:
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()  # nothing of the signed-in session (CSRF secret, flashes) outlives it
    flash("已退出登录", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Enterprise self-registration (university accounts are created by invitation only)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = RegisterEnterpriseForm()
    if form.validate_on_submit():
        try:
            services.request_registration(
                company_name=form.company_name.data,
                credit_code=form.credit_code.data,
                region=form.region.data,
                tags=form.tags.data or [],
                contact_name=form.contact_name.data,
                email=form.email.data,
                phone=form.phone.data,
                password=form.password.data,
            )
        except ValidationFailed as err:
            _form_error(form, err)
            return render_template("accounts/register.html", form=form), 422
        # The same answer whether or not the address already had an account (no enumeration).
        flash(REGISTERED, "success")
        return redirect(url_for("accounts.login"))
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    invitation = services.get_usable_invitation(token)  # InvitationUnusable → 410 page
    form = AcceptInviteForm(name=invitation.name)
    if form.validate_on_submit():
        try:
            user = services.accept_invitation(
                token, password=form.password.data, name=form.name.data
            )
        except ValidationFailed as err:
            _form_error(form, err)
        else:
            logout_user()
            _start_session(user)
            flash("账号已激活，欢迎使用 Revive", "success")
            return redirect(url_for("dashboard.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/accept_invite.html", form=form, invitation=invitation), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except ValidationFailed as err:
            if (err.details or {}).get("field") == "password":
                err.details = {"field": "new_password"}
            _form_error(form, err)
        else:
            flash("密码已修改", "success")
            return redirect(url_for("dashboard.home"))
    status = 422 if form.errors else 200
    return render_template("accounts/change_password.html", form=form), status


# --- members --------------------------------------------------------------------------------


def _managed_org_id(raw: object = None) -> int | None:
    """University admins always manage their own university; platform admins pick one (or none)."""
    if current_user.role == Role.UNIVERSITY_ADMIN and not raw:
        return current_user.organization_id
    try:
        return int(raw) if raw else None
    except (TypeError, ValueError):
        return None


def _render_members(org_id: int | None, *, status: int = 200, **forms):
    ctx: dict = {"org": None}
    if org_id is not None:
        org = services.check_manages_org(current_user, org_id)
        colleges = queries.colleges_of(org.id)
        # Forms not being re-shown with errors start empty (formdata=None: ignore this POST).
        invite_form = forms.get("invite_form") or InviteForm(formdata=None, organization_id=org.id)
        invite_form.college_id.choices = [NO_COLLEGE] + [
            SelectChoice(str(c.id), c.name) for c in colleges
        ]
        ctx.update(
            org=org,
            members=queries.members_of(org.id),
            invitations=queries.pending_invitations(org.id),
            colleges=colleges,
            invite_form=invite_form,
            college_form=forms.get("college_form")
            or CollegeForm(formdata=None, organization_id=org.id),
            is_university=org.kind == OrgKind.UNIVERSITY,
        )
    if current_user.role == Role.PLATFORM_ADMIN:
        ctx.update(
            organizations=queries.organizations_with_counts(),
            staff=queries.staff_users(),
            staff_form=forms.get("staff_form") or StaffUserForm(formdata=None),
        )
    ctx["invite_link"] = forms.get("invite_link")
    ctx["invited"] = forms.get("invited")
    return render_template("accounts/members.html", **ctx), status


def _back_to_members(org_id: int | None):
    if current_user.role == Role.PLATFORM_ADMIN and org_id:
        return redirect(url_for("accounts.members", org=org_id))
    return redirect(url_for("accounts.members"))


@bp.get("/members")
@manager_required
def members():
    return _render_members(_managed_org_id(request.args.get("org")))


@bp.post("/members/invite")
@manager_required
def invite():
    form = InviteForm()
    org_id = _managed_org_id(form.organization_id.data)
    if org_id is None:
        raise ValidationFailed("请先选择要邀请成员的单位")
    if form.validate_on_submit():
        try:
            invitation, token = services.invite_user(
                actor=current_user,
                organization_id=org_id,
                email=form.email.data,
                name=form.name.data,
                role=Role(form.role.data),
                college_id=form.college_id.data,
            )
        except ValidationFailed as err:
            _form_error(form, err)
        else:
            link = url_for("accounts.accept_invite", token=token, _external=True)
            flash(
                f"已创建对 {invitation.name}（{invitation.email}）的邀请，请把下面的链接发给对方",
                "success",
            )
            # The token is shown once, on this response (never cached); only its hash is stored.
            body, status = _render_members(org_id, invite_link=link, invited=invitation)
            return body, status, {"Cache-Control": "no-store"}
    return _render_members(org_id, status=422, invite_form=form)


@bp.post("/invitations/<int:invitation_id>/revoke")
@manager_required
def revoke_invitation(invitation_id: int):
    invitation = services.revoke_invitation(invitation_id, actor=current_user)
    flash(f"已撤销对 {invitation.email} 的邀请", "info")
    return _back_to_members(invitation.organization_id)


@bp.post("/members/<int:user_id>/deactivate")
@manager_required
def deactivate(user_id: int):
    try:
        user = services.set_user_active(user_id, False, actor=current_user)
    except ValidationFailed as err:
        flash(err.message, "error")
        return _back_to_members(_managed_org_id(request.form.get("organization_id")))
    flash(f"已停用 {user.name} 的账号", "info")
    return _back_to_members(user.organization_id)


@bp.post("/members/<int:user_id>/reactivate")
@manager_required
def reactivate(user_id: int):
    user = services.set_user_active(user_id, True, actor=current_user)
    flash(f"已恢复 {user.name} 的账号", "success")
    return _back_to_members(user.organization_id)


@bp.post("/members/staff")
@roles_required(Role.PLATFORM_ADMIN)
def create_staff():
    form = StaffUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_staff_user(
                actor=current_user,
                email=form.email.data,
                name=form.name.data,
                role=Role(form.role.data),
                password=form.password.data,
                organization_name=form.organization_name.data,
            )
        except ValidationFailed as err:
            _form_error(form, err)
        else:
            flash(f"已创建{user.role.label}账号 {user.email}，请通知其登录后修改密码", "success")
            return redirect(url_for("accounts.members"))
    return _render_members(None, status=422, staff_form=form)


@bp.post("/colleges")
@manager_required
def add_college():
    form = CollegeForm()
    org_id = _managed_org_id(form.organization_id.data)
    if org_id is None:
        raise ValidationFailed("请先选择单位")
    if form.validate_on_submit():
        try:
            college = services.add_college(
                actor=current_user, organization_id=org_id, name=form.name.data
            )
        except ValidationFailed as err:
            _form_error(form, err)
        else:
            flash(f"已添加学院「{college.name}」", "success")
            return _back_to_members(org_id)
    return _render_members(org_id, status=422, college_form=form)


@bp.post("/colleges/<int:college_id>/rename")
@manager_required
def rename_college(college_id: int):
    try:
        college = services.rename_college(
            college_id, actor=current_user, name=request.form.get("name", "")
        )
    except ValidationFailed as err:
        flash(err.message, "error")
        return _back_to_members(_managed_org_id(request.form.get("organization_id")))
    flash(f"学院已改名为「{college.name}」", "success")
    return _back_to_members(college.institution_id)
