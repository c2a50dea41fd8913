"""gunicorn's threaded worker, answering the requests it refuses itself in Chinese.

A request line over gunicorn's limit (414), headers over its limit (431, often a browser with
too many cookies) or a malformed request (400) never reach Flask: gunicorn wrote its own English
page ("Request Line is too large (8192 > 4094)"). This worker writes a short Chinese page
instead, standalone (inline style, no template, no database: nothing here may fail), with the
same status codes. Everything else is gunicorn's ``ThreadWorker``.

gunicorn builds the page in ``gunicorn.util.write_error``, which ``Worker.handle_error`` calls
after choosing the status; that one function is replaced when this module loads, i.e. only in
the web server's worker processes (``worker_class`` in revive.gunicorn_conf). Overriding
``handle_error`` instead would mean copying its 90 lines of exception mapping.
"""

from __future__ import annotations

import html
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

MESSAGES = {
    400: "请求格式不正确，服务器无法处理。请返回上一页重试。",
    403: "请求被拒绝。",
    414: "网址过长，服务器无法处理：请减少筛选条件或勾选的项目后重试。",
    417: "服务器不支持该请求的 Expect 头。",
    431: "请求头过大（通常是本站的 Cookie 过多或过大）：请清除本站的 Cookie 后重新登录。",
    500: "服务器内部错误，请稍后重试。",
    501: "服务器不支持该请求的传输编码。",
}
TITLES = {400: "请求有误", 403: "拒绝访问", 414: "网址过长", 431: "请求头过大", 500: "服务器错误"}


def error_page(status: int) -> bytes:
    message = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    title = TITLES.get(status, "请求有误" if status < 500 else "服务器错误")
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{status} {html.escape(title)} · Revive</title></head>"
        '<body style="font-family:sans-serif;max-width:40em;margin:4em auto;padding:0 1em">'
        f"<h1>{status} {html.escape(title)}</h1><p>{html.escape(message)}</p>"
        '<p><a href="/">回到首页</a></p></body></html>'
    ).encode()


def write_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error's replacement: the same response, a Chinese body (gunicorn's
    detail, which echoes the request, is logged by gunicorn and not shown)."""
    body = error_page(int(status_int))
    head = (
        f"HTTP/1.1 {int(status_int)} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


util.write_error = write_error


class ChineseErrorsWorker(ThreadWorker):
    """``gthread`` with Chinese pages for the requests gunicorn refuses (see the module)."""
