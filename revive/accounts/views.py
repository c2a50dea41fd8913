"""Login, logout, invitations, enterprise registration, member management (blueprint "accounts")."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from revive.accounts import confirm, devices, queries, recovery, services, sessions, tokens
from revive.accounts.forms import (
    NO_COLLEGE,
    AcceptInviteForm,
    ApiTokenForm,
    ChangePasswordForm,
    CollegeForm,
    EnterpriseUserForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    RegisterEnterpriseForm,
    ResetPasswordForm,
    StaffUserForm,
    apply_error,
)
from revive.accounts.models import OrgKind, Role, User
from revive.accounts.permissions import roles_required
from revive.db import utcnow
from revive.errors import ValidationFailed
from revive.web import external_url, int_arg

bp = Blueprint("accounts", __name__)
MANAGER_ROLES = (Role.UNIVERSITY_ADMIN, Role.PLATFORM_ADMIN)
manager_required = roles_required(*MANAGER_ROLES)


def _safe_next(target: str | None) -> str:
    """Only same-site absolute paths: refuses //host, /\\host, scheme:… and relative paths."""
    if target and target.startswith("/") and "\\" not in target:
        parts = urlsplit(target)
        if not parts.netloc and not parts.scheme and not target.startswith("//"):
            return target
    return url_for("dashboard.home")


LOGIN_FAILED = "邮箱或密码错误，或账号已停用"
# Without SMTP an account works at once: say so (an SME tester read 「注册申请已受理」 as
# waiting for a review) — still the same words whether or not the address had an account.
REGISTERED = (
    "注册已完成，无需等待审核：请用注册邮箱和刚才设置的密码登录（邮箱已填好）。"
    "若该邮箱此前已注册过，请用原密码登录，忘记密码可选「忘记密码」"
)
# With e-mail configured a new account proves its mailbox first (accounts/confirm.py); the
# answer is still the same whether or not the address already had an account.
REGISTERED_CONFIRM = (
    "注册申请已受理：验证邮件已发送到注册邮箱，请在 {hours} 小时内打开邮件中的链接完成验证，"
    "验证后即可登录。没有收到验证邮件：该邮箱可能已有账号（请直接用原密码登录，忘记密码可选「忘记密码」），"
    "或该企业已注册（请联系平台管理员为本企业增加账号）"
)
CONFIRM_SESSION_KEY = "confirm_user"
# Without SMTP nothing is e-mailed (an operator's users were told "已发送" while the link went
# to the web's log); the answer is still the same whatever the address.
RESET_WITHOUT_MAIL = (
    "本平台尚未配置邮件发送，重置链接不会发到邮箱。请联系本单位管理员（学校管理员）或平台管理员"
    "在「成员管理」中为您重置密码"
)
RESET_REQUESTED = (
    "如果该邮箱已注册，重置密码的链接已发送到该邮箱，{minutes} 分钟内有效、只能使用一次。"
    "没有收到请检查垃圾邮件，或联系本单位管理员重置"
)
# Pages that show a one-time secret (a reset link or its token) are never stored nor referred.
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


# Flask-Login's keys plus ours: what a signed-in cookie carries.
_SIGNED_IN_KEYS = ("_user_id", "_fresh", "_id", "_remember", sessions.SESSION_KEY)


def load_signed_in_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of the live server-side session the cookie names.
    Anything else (revoked, expired, idle, another user's, none) signs the cookie out."""
    row = sessions.find_live(user_id, session.get(sessions.SESSION_KEY), ip=request.remote_addr)
    if row is None:
        for key in _SIGNED_IN_KEYS:
            session.pop(key, None)
        return None
    g.user_session_id = row.id
    return row.user


def current_session_id() -> int | None:
    """The id of the user_sessions row this request is signed in with."""
    return g.get("user_session_id")


def _start_session(user: User) -> None:
    """Log ``user`` in on a fresh session: whatever the browser carried before (a planted or
    pre-login session, its CSRF secret) is dropped and a new server-side session with a new
    token is opened, so a session cannot be fixed in advance."""
    session.clear()
    session[sessions.SESSION_KEY] = sessions.start_session(
        user, ip=request.remote_addr, user_agent=request.user_agent.string
    )
    login_user(user)


def _sign_out_here() -> None:
    """Forget the signed-in user in this browser (the server-side session is ended already)."""
    logout_user()
    session.clear()  # nothing of the signed-in session (CSRF secret, flashes) outlives it


def _trust_this_browser(response, user_id: int, nonce: str | None = None):
    """Give this browser a device cookie for ``user_id`` (it proved it may sign in: a correct
    password, an invitation, a reset link), keeping the other accounts it holds."""
    known = devices.read_device_cookie(request.cookies.get(devices.DEVICE_COOKIE))
    devices.remember_device(response, known, user_id, nonce or devices.new_device_nonce())
    return response


def _form_error(form, err: ValidationFailed) -> None:
    if not apply_error(form, err):
        flash(err.message, "error")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if request.method == "GET" and not form.email.data:
        # filled in after a registration (the address the user has just typed; nothing looked up)
        form.email.data = (request.args.get("email") or "")[:254]
    if form.validate_on_submit():
        known = devices.read_device_cookie(request.cookies.get(devices.DEVICE_COOKIE))
        try:
            result = services.login(
                form.email.data, form.password.data, ip=request.remote_addr, devices=known
            )
        except services.LoginRateLimited as err:
            flash(err.message, "error")
            retry = int(services.login_limits().window.total_seconds())
            return render_template("accounts/login.html", form=form), 429, {"Retry-After": retry}
        except confirm.EmailNotConfirmed as err:
            # Only after the right password: offer a new link for this account.
            session[CONFIRM_SESSION_KEY] = err.user_id
            flash(err.message, "error")
            return render_template("accounts/login.html", form=form, resend=True), 403
        if result.user is None:
            # Same message whether the e-mail exists or not (no user enumeration).
            flash(LOGIN_FAILED, "error")
        else:
            _start_session(result.user)
            response = redirect(_safe_next(request.args.get("next")))
            return _trust_this_browser(response, result.user.id, result.device_nonce)
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    sessions.end_session(current_session_id())
    _sign_out_here()
    flash("已退出登录", "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password():
    """Ask for a reset link by e-mail; the same answer whatever the address (no enumeration)."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            recovery.request_password_reset(form.email.data, ip=request.remote_addr)
        except recovery.ResetRateLimited as err:
            flash(err.message, "error")
            retry = int(recovery.RESET_WINDOW.total_seconds())
            return (
                render_template("accounts/forgot_password.html", form=form),
                429,
                {"Retry-After": retry},
            )
        if current_app.config.get("REVIVE_SMTP_HOST"):
            flash(RESET_REQUESTED.format(minutes=recovery.reset_minutes()), "info")
        else:  # the same for every address, but honest: nothing goes out by e-mail
            flash(RESET_WITHOUT_MAIL, "warning")
        return redirect(url_for("accounts.login"))
    status = 422 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Set a new password through a one-time link; every session of the user ends."""
    reset = recovery.get_usable_reset(token)  # ResetUnusable → 410 page
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = recovery.complete_password_reset(token, password=form.password.data)
        except ValidationFailed as err:
            _form_error(form, err)
        else:
            if current_user.is_authenticated and current_user.id == user.id:
                _sign_out_here()  # its session ended with all the others
            flash("密码已重置，所有设备上的登录均已退出，请用新密码登录", "success")
            # The link proved the mailbox (or the admin's hand-over): this browser is trusted,
            # so the new password works here even while strangers are being throttled.
            return _trust_this_browser(redirect(url_for("accounts.login")), user.id)
    status = 422 if form.errors else 200
    page = render_template("accounts/reset_password.html", form=form, reset=reset)
    return page, status, NO_STORE


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Enterprise self-registration (university accounts are created by invitation only)."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = RegisterEnterpriseForm()
    if form.validate_on_submit():
        try:
            services.request_registration(
                ip=request.remote_addr,
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
        except services.RegistrationLimited as err:
            flash(err.message, "error")
            retry = int(services.REGISTER_WINDOW.total_seconds())
            page = render_template("accounts/register.html", form=form)
            return page, 429, {"Retry-After": retry}
        # The same answer whether or not the address already had an account (no enumeration).
        if confirm.required():
            flash(REGISTERED_CONFIRM.format(hours=confirm.confirm_hours()), "success")
            return redirect(url_for("accounts.login"))
        flash(REGISTERED, "success")
        return redirect(url_for("accounts.login", email=form.email.data))
    status = 422 if form.errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """A registration's e-mailed link: the page asks for one click (a POST), so a mail
    scanner that opens links does not confirm on the owner's behalf."""
    link = confirm.get_usable(token)  # ConfirmUnusable → 410 page
    if request.method == "POST":
        user = confirm.confirm(token)
        session.pop(CONFIRM_SESSION_KEY, None)
        flash(f"邮箱 {user.email} 已验证，请登录", "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/confirm_email.html", email=link.user.email), 200, NO_STORE


@bp.post("/email/confirm/resend")
def resend_confirmation():
    """A new confirmation link for the account whose right password was just given here."""
    user_id = session.get(CONFIRM_SESSION_KEY)
    if not isinstance(user_id, int):
        flash("请先在登录页输入注册邮箱和密码，再重新发送验证邮件", "error")
        return redirect(url_for("accounts.login"))
    try:
        confirm.resend(user_id)
    except confirm.ResendLimited as err:
        flash(err.message, "error")
        return redirect(url_for("accounts.login"))
    flash(
        f"验证邮件已重新发送，请在 {confirm.confirm_hours()} 小时内打开邮件中的链接；"
        "之前发送的链接已失效",
        "info",
    )
    return redirect(url_for("accounts.login"))


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
            if current_user.is_authenticated:  # someone else was signed in in this browser
                sessions.end_session(current_session_id())
            _start_session(user)
            flash("账号已激活，欢迎使用 Revive", "success")
            return _trust_this_browser(redirect(url_for("dashboard.home")), user.id)
    status = 422 if form.errors else 200
    return render_template("accounts/accept_invite.html", form=form, invitation=invitation), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        live_tokens = tokens.live_count(current_user.id)
        try:
            ended = services.change_password(
                current_user,
                current_password=form.current_password.data,
                new_password=form.new_password.data,
                keep_session_id=current_session_id(),
            )
        except ValidationFailed as err:
            if (err.details or {}).get("field") == "password":
                err.details = {"field": "new_password"}
            _form_error(form, err)
        else:
            others = f"，其他 {ended} 处登录已退出" if ended else ""
            if live_tokens:
                others += f"，{live_tokens} 个 API 令牌已撤销（如仍需要请重新创建）"
            flash(f"密码已修改{others}", "success")
            return redirect(url_for("accounts.account"))
    status = 422 if form.errors else 200
    return render_template("accounts/change_password.html", form=form), status


def _render_account(*, token_form: ApiTokenForm | None = None, status: int = 200, **extra):
    """The account page; ``extra``: new_token / created (a token just made, shown once)."""
    form = token_form or ApiTokenForm(
        formdata=None, scope="read", expires_on=tokens.default_expiry_date()
    )
    page = render_template(
        "accounts/account.html",
        sessions=queries.live_sessions(current_user.id),
        current_session_id=current_session_id(),
        describe=devices.describe_user_agent,
        api_tokens=queries.tokens_of(current_user.id),
        token_form=form,
        token_max_date=tokens.last_expiry_date(),
        token_today=tokens.today_beijing(),
        now=utcnow(),
        **extra,
    )
    return page, status


@bp.get("/account")
@login_required
def account():
    """The user's own account: password, the browsers signed in (revocable one by one) and
    personal API tokens."""
    return _render_account()


@bp.post("/account/tokens")
@login_required
def create_api_token():
    """Make a personal API token; the answer shows it once (never stored, never cached)."""
    form = ApiTokenForm()
    if form.validate_on_submit():
        try:
            services.check_current_password(current_user, form.password.data)
            row, token = tokens.create_token(
                actor=current_user,
                name=form.name.data,
                scope=form.scope.data,
                expires_on=form.expires_on.data,
            )
        except ValidationFailed as err:
            _form_error(form, err)
        else:
            flash(f"已创建 API 令牌「{row.name}」。令牌只显示这一次，请立即复制保存", "success")
            body, status = _render_account(new_token=token, created=row)
            return body, status, NO_STORE
    return _render_account(token_form=form, status=422)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_api_token(token_id: int):
    """The owner, or a manager of the owner, revokes a token (it stops working at once)."""
    to_members = request.form.get("back") == "members" and current_user.role in MANAGER_ROLES
    back = url_for("accounts.member_tokens") if to_members else url_for("accounts.account")
    try:
        token = tokens.revoke_token(token_id, actor=current_user)
    except ValidationFailed as err:
        flash(err.message, "error")
    else:
        flash(f"已撤销 API 令牌「{token.name}」（{token.prefix}…），它已不能再使用", "info")
    return redirect(back)


@bp.post("/account/sessions/<int:session_id>/revoke")
@login_required
def revoke_session(session_id: int):
    row = sessions.revoke_session(session_id, actor=current_user)
    if row.id == current_session_id():
        _sign_out_here()
        flash("已退出本设备的登录", "info")
        return redirect(url_for("accounts.login"))
    flash("已让该设备退出登录", "success")
    return redirect(url_for("accounts.account"))


@bp.post("/account/sessions/revoke-all")
@login_required
def revoke_all_sessions():
    count = sessions.revoke_all_sessions(actor=current_user)
    _sign_out_here()
    flash(f"已退出所有设备（{count} 处登录），请重新登录", "info")
    return redirect(url_for("accounts.login"))


# --- members --------------------------------------------------------------------------------


def _managed_org_id(raw: object = None) -> int | None:
    """University admins always manage their own university; platform admins pick one (or none)."""
    if current_user.role == Role.UNIVERSITY_ADMIN and not raw:
        return current_user.organization_id
    # int_arg: digits only and within an id's range (a 20-digit org answered 500: too large
    # for the database's integer)
    return int_arg(raw)


def _render_members(org_id: int | None, *, status: int = 200, **forms):
    ctx: dict = {"org": None}
    if org_id is not None:
        org = services.check_manages_org(current_user, org_id)
        colleges = queries.colleges_of(org.id)
        members = queries.members_of(org.id)
        # Forms not being re-shown with errors start empty (formdata=None: ignore this POST).
        # A university without an admin yet (just onboarded) is offered one first.
        first = not any(m.role == Role.UNIVERSITY_ADMIN for m in members)
        invite_form = forms.get("invite_form") or InviteForm(
            formdata=None,
            organization_id=org.id,
            role=(Role.UNIVERSITY_ADMIN if first else Role.INVENTOR).value,
        )
        invite_form.college_id.choices = [NO_COLLEGE] + [
            SelectChoice(str(c.id), c.name) for c in colleges
        ]
        ctx.update(
            org=org,
            members=members,
            invitations=queries.pending_invitations(org.id),
            colleges=colleges,
            invite_form=invite_form,
            college_form=forms.get("college_form")
            or CollegeForm(formdata=None, organization_id=org.id),
            is_university=org.kind == OrgKind.UNIVERSITY,
            enterprise_form=(
                forms.get("enterprise_form")
                or EnterpriseUserForm(formdata=None, organization_id=org.id)
            )
            if org.kind == OrgKind.ENTERPRISE and current_user.role == Role.PLATFORM_ADMIN
            else None,
        )
    if current_user.role == Role.PLATFORM_ADMIN:
        ctx.update(
            organizations=queries.organizations_with_counts(),
            staff=queries.staff_users(),
            staff_form=forms.get("staff_form") or StaffUserForm(formdata=None),
        )
    ctx["invite_link"] = forms.get("invite_link")
    ctx["reset_link"] = forms.get("reset_link")
    ctx["reset_user"] = forms.get("reset_user")
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


@bp.get("/members/tokens")
@manager_required
def member_tokens():
    """Live API tokens of the members the admin manages (a platform admin: everyone's, or
    one organization's with ?org=), each revocable."""
    org_id = _managed_org_id(request.args.get("org"))
    org = services.check_manages_org(current_user, org_id) if org_id is not None else None
    return render_template(
        "accounts/member_tokens.html",
        org=org,
        api_tokens=queries.managed_tokens(current_user, org.id if org else None),
        shown=queries.MANAGED_TOKENS_SHOWN,
    )


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
            link = external_url("accounts.accept_invite", token=token)  # REVIVE_BASE_URL
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


@bp.post("/members/<int:user_id>/reset-password")
@manager_required
def admin_reset_password(user_id: int):
    """Void a member's password and sessions; show a one-time link to set a new one, once."""
    try:
        reset, token = recovery.issue_admin_reset(user_id, actor=current_user)
    except ValidationFailed as err:
        flash(err.message, "error")
        return _back_to_members(_managed_org_id(request.form.get("organization_id")))
    user = reset.user
    flash(
        f"已重置 {user.name}（{user.email}）的密码：原密码已失效，其所有登录已退出。"
        "请把下面的链接交给本人（只显示这一次）",
        "success",
    )
    org_id = user.organization_id if current_user.role == Role.PLATFORM_ADMIN else None
    body, status = _render_members(
        org_id or _managed_org_id(), reset_link=recovery.reset_link(token), reset_user=user
    )
    return body, status, NO_STORE


@bp.post("/members/enterprise-users")
@roles_required(Role.PLATFORM_ADMIN)
def create_enterprise_user():
    """Add a user to a registered enterprise and show the one-time link that sets its
    password (an imported enterprise had no way to an account)."""
    form = EnterpriseUserForm()
    org_id = _managed_org_id(form.organization_id.data)
    if org_id is None:
        raise ValidationFailed("请先选择企业")
    if form.validate_on_submit():
        try:
            user, token = recovery.add_enterprise_user(
                actor=current_user,
                organization_id=org_id,
                email=form.email.data,
                name=form.name.data,
            )
        except ValidationFailed as err:
            _form_error(form, err)
        else:
            flash(
                f"已为 {user.organization.name} 添加企业用户 {user.name}（{user.email}）。"
                "请把下面的链接交给本人设置密码（只显示这一次）",
                "success",
            )
            body, status = _render_members(
                org_id, reset_link=recovery.reset_link(token), reset_user=user
            )
            return body, status, NO_STORE
    return _render_members(org_id, status=422, enterprise_form=form)


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
