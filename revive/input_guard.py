"""Request input checked once, before any view runs: text that no database, spreadsheet or
export can hold (NUL, lone surrogates) and JSON bodies that are too big or too deep are a 400
(or 413) with a Chinese reason, never a 500 from deep inside a query or a download.

PostgreSQL refuses NUL in text, openpyxl refuses control characters, and a lone surrogate
cannot be encoded as UTF-8; catching them at the edge keeps every page, export and API call
from discovering that on its own. Python's JSON decoder recurses, so a deeply nested body
raised RecursionError (a 500) before it reached a view.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider

from revive.errors import DomainError

MAX_JSON_DEPTH = 32  # the API's deepest real body is 2 levels; no reason to walk further
_SURROGATE = re.compile("[\ud800-\udfff]")


class BadInput(DomainError):
    status_code = 400
    code = "bad_input"
    default_message = "请求中含有无法处理的内容"


def check_text(value: str, where: str) -> None:
    """BadInput when ``value`` holds a NUL byte or a lone surrogate."""
    if "\x00" in value:
        raise BadInput(f"{where}含有不允许的空字符（NUL），请删除后重试")
    if _SURROGATE.search(value):
        raise BadInput(f"{where}含有无效的 Unicode 字符（孤立代理项），请检查编码后重试")


def _check_json(data: Any) -> None:
    """Depth and text of a decoded body, walked without recursion."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            check_text(value, "JSON 内容")
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise BadInput(f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    check_text(key, "JSON 字段名")
                stack.append((item, depth + 1))


class GuardedJSONProvider(DefaultJSONProvider):
    """The app's JSON provider (Flask decodes request bodies with it): the standard decoder,
    then the depth and text checks."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise BadInput(f"JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）") from None
        except ValueError as exc:
            if "digits" in str(exc):  # Python's int limit (4,300 digits), not bad syntax
                raise BadInput("JSON 中的数字位数过多，请检查后重试") from None
            raise
        _check_json(value)
        return value


def _check_request() -> None:
    if request.is_json:  # a tighter size limit than uploads (werkzeug enforces it on read)
        request.max_content_length = current_app.config["REVIVE_MAX_JSON_BYTES"]
    for value in (request.view_args or {}).values():
        if isinstance(value, str):
            check_text(value, "网址")
    for source, label in ((request.args, "查询参数"), (request.form, "表单内容")):
        for key, values in source.lists():
            if not isinstance(key, str):  # a multipart part whose name did not decode
                raise BadInput(f"{label}含有无法识别的字段名，请检查编码后重试")
            check_text(key, label)
            for value in values:
                check_text(value, label)
    for key, storage in request.files.items():
        if not isinstance(key, str):
            raise BadInput("上传内容含有无法识别的字段名，请检查编码后重试")
        check_text(storage.filename or "", "文件名")


def init_app(app: Flask) -> None:
    app.json = GuardedJSONProvider(app)
    # First of all before-request hooks: CSRF protection reads the form too, and a field name
    # that did not decode (None) made it fail with a 500.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_request)
