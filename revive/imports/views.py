"""Spreadsheet upload, dry-run preview, commit and progress (blueprint "imports")."""

from __future__ import annotations

from flask import Blueprint, render_template

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required

bp = Blueprint("imports", __name__, url_prefix="/imports")


@bp.get("/")
@roles_required(Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.PLATFORM_ADMIN)
def upload():
    return render_template("imports/upload.html")
