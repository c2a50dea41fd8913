"""Platform settings page (blueprint "settings", platform admin only)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from revive.accounts.permissions import roles_required
from revive.errors import ValidationFailed
from revive.settings import services
from revive.settings.services import ADMIN_ROLES, SETTINGS

bp = Blueprint("settings", __name__, url_prefix="/admin/settings")


@bp.get("/")
@roles_required(*ADMIN_ROLES)
def edit():
    return render_template("settings/edit.html", settings=SETTINGS, values=services.current())


@bp.post("/")
@roles_required(*ADMIN_ROLES)
def save():
    # A checkbox posts "1" after its hidden "0": the last value wins.
    posted = {k: request.form.getlist(k)[-1] for k in SETTINGS if request.form.getlist(k)}
    try:
        services.update_settings(posted, actor=current_user)
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return redirect(url_for("settings.edit"))
    flash("平台设置已保存", "success")
    return redirect(url_for("settings.edit"))
