"""Inventory pages (blueprint "inventory"): list, detail, create/edit, workflow, review, export."""

from __future__ import annotations

from flask import Blueprint, render_template

from revive.inventory.permissions import INVENTORY_ROLES
from revive.accounts.models import Role
from revive.accounts.permissions import roles_required

bp = Blueprint("inventory", __name__, url_prefix="/patents")


@bp.get("/")
@roles_required(*INVENTORY_ROLES)
def list_patents():
    return render_template("inventory/list.html")


@bp.get("/review")
@roles_required(Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN)
def review_queue():
    return render_template("inventory/list.html")
