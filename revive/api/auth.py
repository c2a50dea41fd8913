"""Anonymous requests: 401 JSON for the API, the login redirect for pages.

Flask-Login has one ``unauthorized`` callback per LoginManager. Registered when the ``api``
blueprint is registered (``bp.record_once`` in revive/api/__init__.py), so create_app needs no
extra line.
"""

from __future__ import annotations

from flask import flash, redirect, request
from flask_login.utils import login_url

from revive.errors import error_response
from revive.extensions import login_manager

API_PREFIX = "/api/"


def unauthorized():
    """401 {"error": "unauthorized"} under /api/; otherwise Flask-Login's usual redirect."""
    if request.path.startswith(API_PREFIX):
        return error_response(401, "unauthorized", "请先登录")
    if login_manager.login_message:
        flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))


def init_api_auth(state) -> None:
    login_manager.unauthorized_handler(unauthorized)
