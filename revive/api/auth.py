"""How the API authenticates: the browser's session cookie (pages and their scripts), or a
personal API token in ``Authorization: Bearer <token>`` (other systems; revive/accounts/tokens.py).

- Anonymous requests: 401 JSON for the API, the login redirect for pages. Flask-Login has one
  ``unauthorized`` callback per LoginManager; it is registered when the ``api`` blueprint is
  (``bp.record_once`` in revive/api/__init__.py), so create_app needs no extra line.
- Bearer requests (revive.bearer): ``load_token_user`` runs in the app's first before_request
  instead of the session loader — the token alone decides who is calling (a cookie the request
  may carry is not read), CSRF does not apply (revive.extensions), a bad token is a 401 and a
  write with a read-only token a 403, before any view runs.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, request
from flask_login.utils import login_url

from revive.accounts import tokens
from revive.bearer import API_PREFIX, bearer_token
from revive.errors import error_response
from revive.extensions import login_manager


def unauthorized():
    """401 {"error": "unauthorized"} under /api/; otherwise Flask-Login's usual redirect."""
    if request.path.startswith(API_PREFIX):
        return error_response(401, "unauthorized", "请先登录")
    if request.method == "POST":
        # A form sent after the session ended (expired, signed out in another tab): what was
        # typed is not saved and the login page must say so; after login the user goes back
        # to the form's page (its own address, which a GET shows again), and the browser's
        # Back button still holds the text (an SME tester lost a demand to a bare 请先登录).
        flash(EXPIRED_FORM_MESSAGE, "warning")
        back = request.referrer  # the page the form was on (an action URL may be POST-only)
        page = back if back and urlsplit(back).netloc == request.host else request.url
        return redirect(login_url(login_manager.login_view, next_url=page))
    if login_manager.login_message:
        flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(login_url(login_manager.login_view, next_url=request.url))


EXPIRED_FORM_MESSAGE = (
    "登录已失效（超时或已在其他页面退出），刚才提交的内容没有保存。"
    "请重新登录；登录后可用浏览器的“返回”找回刚才填写的内容，再提交一次。"
)


# Public answers that hold no data: a token sent with them (a client that sends one on every
# call) is not read, so a stale one does not turn the API's own description into a 401.
OPEN_ENDPOINTS = frozenset({"api.openapi_json", "api_docs", "health.healthz"})


def load_token_user() -> bool:
    """A bearer request: authenticate its token (TokenRejected 401, TokenScopeDenied 403) and
    make the token's user the current user; True. Any other request: False, nothing done."""
    token = bearer_token()
    if token is None or request.endpoint in OPEN_ENDPOINTS:
        return False
    row = tokens.authenticate(token, method=request.method, ip=request.remote_addr)
    g.api_token_id = row.id
    # Flask-Login keeps the request's user in g; this is its own setter (no session written).
    login_manager._update_request_context_with_user(row.user)
    return True


# RFC 6750: a 401 names the scheme that would be accepted (and, for a bearer token that was
# sent and refused, says so), so HTTP clients know to send an API token.
CHALLENGE = 'Bearer realm="Revive API"'


def challenge(response):
    """The API's 401s carry WWW-Authenticate (an after_request hook of the api blueprint)."""
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        sent = bearer_token() is not None
        response.headers["WWW-Authenticate"] = CHALLENGE + (
            ', error="invalid_token"' if sent else ""
        )
    return response


def init_api_auth(state) -> None:
    login_manager.unauthorized_handler(unauthorized)
