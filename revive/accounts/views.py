"""Login, logout, invitations, enterprise registration, member management (blueprint "accounts")."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from revive.accounts import services
from revive.accounts.forms import LoginForm
from revive.accounts.models import Role
from revive.accounts.permissions import roles_required

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and not urlsplit(target).scheme and target.startswith("/"):
        return target
    return url_for("dashboard.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            # Same message whether the e-mail exists or not (no user enumeration).
            flash("邮箱或密码错误，或账号已被暂时锁定", "error")
        else:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash("已退出登录", "info")
    return redirect(url_for("accounts.login"))


@bp.get("/members")
@roles_required(Role.UNIVERSITY_ADMIN, Role.PLATFORM_ADMIN)
def members():
    return render_template("accounts/members.html")
