"""Domain errors and the one place that maps them to HTTP responses.

Services raise these; views never call abort() for domain rules. HTML requests get a Chinese
error page (or a flash + redirect where the view chooses), /api requests get
``{"error": code, "message": "..."}`` with the matching status code.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    has_request_context,
    jsonify,
    make_response,
    render_template,
    request,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

logger = logging.getLogger(__name__)


class DomainError(Exception):
    status_code = 400
    code = "bad_request"
    default_message = "请求无效"

    def __init__(self, message: str | None = None, *, details: Any = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details


class NotFoundError(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "未找到该记录"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = "您无权执行此操作"


class InvalidTransition(DomainError):
    status_code = 409
    code = "invalid_transition"
    default_message = "当前状态下不允许此操作"


class ConflictError(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "记录已被他人修改，请刷新后重试"


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_failed"
    default_message = "输入有误，请检查后重试"


class RateLimited(DomainError):  # noqa: N818  (named like the others)
    """Too many of one action within an hour (posting demands, asking for introductions)."""

    status_code = 429
    code = "too_many_requests"
    default_message = "操作过于频繁，请稍后再试"
    retry_after: int | None = None  # seconds, sent as Retry-After when known


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "service_unavailable"
    default_message = "后台任务队列暂不可用，请稍后重试"


HTTP_MESSAGES = {
    400: "请求无效",
    401: "请先登录",
    403: "您无权访问此页面",
    404: "页面不存在",
    405: "不支持的请求方法",
    409: "操作冲突",
    413: "上传文件过大",
    422: "输入有误",
    429: "请求过于频繁，请稍后再试",
    500: "服务器内部错误，请稍后重试",
    503: "服务暂不可用，请稍后重试",
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


# The domain's messages are written for a person at a page ("请刷新页面后重试"); a program
# calling /api has no page to refresh: it reads the record again.
_PAGE_WORDING = (
    (re.compile(r"刷新页面查看最新内容后"), "重新读取最新内容后"),
    (re.compile(r"(?:稍后)?刷新页面"), "重新读取"),
    (re.compile(r"刷新(?=后|队列)"), "重新读取"),
    (re.compile(r"页面的版本号"), "版本号"),
)


def api_wording(message: str) -> str:
    """A message as the API says it: "重新读取" (GET the record again) for "刷新页面"."""
    for pattern, words in _PAGE_WORDING:
        message = pattern.sub(words, message)
    return message


def error_response(status: int, code: str, message: str, details: Any = None):
    if has_request_context() and request.path.startswith("/api/"):
        message = api_wording(message)
    if wants_json():
        body: dict[str, Any] = {"error": code, "message": message}
        if details is not None:
            body["details"] = details
        return jsonify(body), status
    return render_template(
        "errors/error.html", status=status, code=code, message=message, back=_back_link()
    ), status


def _signed_in() -> bool:
    from flask_login import current_user

    return bool(getattr(current_user, "is_authenticated", False))


def _no_token_message() -> str:
    header = request.headers.get("Authorization", "").strip()
    message = "未登录：API 请求须在请求头中携带 Authorization: Bearer <API 令牌>"
    if header:
        scheme = header.split(None, 1)[0][:20]
        message += f"（收到的是「{scheme} …」，应为 Bearer）"
    return message


def _back_link() -> str | None:
    """The page the request came from, on this site (a form refused before its view ran: an
    oversized upload), so the error page leads back to it; None when there is none."""
    if not has_request_context() or not request.referrer:
        return None
    ref = urlsplit(request.referrer)
    if ref.netloc != request.host or not ref.path.startswith("/") or ref.path.startswith("//"):
        return None
    back = ref.path + (f"?{ref.query}" if ref.query else "")
    return None if back == request.full_path.rstrip("?") and request.method == "GET" else back


def _session() -> Any:
    """The app's Flask-SQLAlchemy session, from Flask's extension registry: this module is at
    the bottom (revive.db imports it; revive.extensions is built on revive.db)."""
    return current_app.extensions["sqlalchemy"].session


def _rollback() -> None:
    try:
        _session().rollback()
    except Exception:  # the connection itself may be gone
        logger.debug("rollback failed", exc_info=True)


DATABASE_DOWN = "数据库暂时不可用，请稍后重试"

_DATABASE_DOWN_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>服务暂不可用 · Revive 存量专利盘活平台</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <main class="container">
    <h1>503 服务暂不可用</h1>
    <p>{message}。您的操作未被执行，请稍后刷新页面重试。</p>
    <p><a href="{home}">返回首页</a></p>
  </main>
</body>
</html>
"""


def _database_down_page() -> str:
    """A page that needs nothing from the database (no user, no navigation counts)."""
    from flask import url_for
    from markupsafe import escape

    try:
        css, home = url_for("static", filename="css/app.css"), url_for("dashboard.home")
    except Exception:  # e.g. no such endpoint in a trimmed app
        css, home = "/static/css/app.css", "/"
    return _DATABASE_DOWN_PAGE.format(css=escape(css), home=escape(home), message=DATABASE_DOWN)


def too_large_message() -> str:
    """Why a request was refused as too large (Werkzeug raises the same 413 for both): more
    form fields than MAX_FORM_PARTS in a small body (a security review's 5,000 fields were told
    the file was over 50 MB), or a body over the upload limit."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if length is not None and limit is not None and length <= limit:
        parts = current_app.config.get("MAX_FORM_PARTS") or 1000
        return f"表单的字段过多（最多 {parts} 项），请减少一次提交的内容"
    mb = current_app.config.get("REVIVE_MAX_UPLOAD_MB")
    return f"上传文件过大：单个文件不能超过 {mb} MB"


def register_error_handlers(app: Flask) -> None:
    @app.teardown_appcontext
    def _drop_session_quietly(exc: BaseException | None) -> None:
        # Registered after Flask-SQLAlchemy's teardown, so it runs first. When the database
        # went away during the request (a restart), the closing ROLLBACK fails; raised from a
        # teardown that would replace the finished response (even a 200) by a bare 500.
        session = _session()
        try:
            session.remove()
        except Exception as err:
            logger.warning("Discarding a database session whose connection is gone: %s", err)
            session.registry.clear()

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        response = make_response(
            error_response(err.status_code, err.code, err.message, err.details)
        )
        retry = getattr(err, "retry_after", None)
        if retry:
            response.headers["Retry-After"] = str(int(retry))
        return response

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(err: RequestEntityTooLarge):
        if request.is_json:
            kb = app.config["REVIVE_MAX_JSON_BYTES"] // 1024
            return error_response(413, "too_large", f"请求体过大：JSON 不能超过 {kb} KB")
        return error_response(413, "too_large", too_large_message())

    @app.after_request
    def _close_after_413(response: Response) -> Response:
        """A 413 leaves the body unread: the connection cannot carry another request, so the
        client is told to open a new one (a security review's next request on it failed)."""
        if response.status_code == 413:
            response.headers["Connection"] = "close"
        return response

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        message = HTTP_MESSAGES.get(status, err.description or "请求失败")
        if status == 400 and err.description and "CSRF" in err.description:
            if request.path.startswith("/api/") and not _signed_in():
                # An API client without a token (or with another scheme than Bearer) read
                # 「页面已过期或表单令牌无效」, which points at a web form.
                return error_response(401, "unauthorized", _no_token_message())
            message = "页面已过期或表单令牌无效，请刷新页面后重试"
        response = make_response(
            error_response(status, (err.name or "error").lower().replace(" ", "_"), message)
        )
        # The headers the exception carries: Allow on a 405 (RFC 9110 requires it),
        # Retry-After on a 429 or 503, WWW-Authenticate on a 401.
        for name, value in err.get_headers():
            if name.lower() not in {"content-type", "content-length"}:
                response.headers[name] = value
        return response

    @app.errorhandler(StaleDataError)
    def _stale(err: StaleDataError):
        _rollback()
        return error_response(409, ConflictError.code, ConflictError.default_message)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    def _database_down(err: Exception):
        # Connection lost (e.g. PostgreSQL restarting): fail this request cleanly; the pool
        # (pool_pre_ping) reconnects on the next one, no app restart needed.
        logger.warning("Database unavailable on %s %s: %s", request.method, request.path, err)
        _rollback()
        if wants_json():
            response = error_response(503, "database_unavailable", DATABASE_DOWN)[0]
        else:
            # Not errors/error.html: base.html reads the user and the unread count from the
            # database that is down, which would turn this page into a bare 500.
            response = app.response_class(_database_down_page(), mimetype="text/html")
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        _rollback()
        return error_response(500, "internal_error", HTTP_MESSAGES[500])
