"""The OpenAPI 3.0 document of /api/v1, generated from the routes' schemas.

Every resource is described once, by its marshmallow schemas (flask-smorest's
``bp.arguments`` / ``bp.response``; revive/api/schema.py and the schemas in
revive/api/<module>.py): patents, demands, notifications, deals, settings, industry pools,
matching, review, intents and manual candidates, the pool, evaluations, licensing, dashboard
figures, imports, an enterprise's overview of its demand. ``build_document`` takes their
operations from the generated spec and adds what every route shares (path ids, security,
error responses, roles); a route without schemas is missing from the document and fails
tests/api/test_openapi_document.py.

Paths and methods come from the app's own url_map (so a renamed rule cannot drift).
Served at GET /api/v1/openapi.json (public); a plain HTML list at GET /api/docs.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, jsonify, render_template

from revive.accounts.models import Role
from revive.api.blueprint import bp
from revive.api.common import MAX_INT
from revive.api.schema import spec_of
from revive.inventory import workflow as patent_workflow

# ---------------------------------------------------------------------------- schema helpers

STR: dict[str, Any] = {"type": "string"}


def obj(props: dict[str, Any], *, optional: tuple[str, ...] = (), extra: bool = True) -> dict:
    """An object whose listed keys are all required except ``optional``."""
    out: dict[str, Any] = {"type": "object", "properties": props}
    required = [k for k in props if k not in optional]
    if required:
        out["required"] = required
    if not extra:
        out["additionalProperties"] = False
    return out


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


# ---------------------------------------------------------------------------- response schemas


ERROR = obj(
    {
        "error": STR,
        "message": STR,
        "details": {
            "type": "object",
            "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "description": (
                "字段键 → 中文错误信息（校验错误时）；重复登记或发布时另含已有记录的编号"
                "（patent_id / demand_id，整数），客户端可据此改为更新；未完成的导入任务过多"
                "（too_many_imports）时为这些任务的编号 jobs、其中待确认的 awaiting_confirmation"
                "（逗号分隔）和导入记录页 jobs_url"
            ),
        },
    },
    optional=("details",),
)

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": ERROR,
}

# ---------------------------------------------------------------------------- parameters


ID_ARG = {"type": "integer", "minimum": 1, "maximum": MAX_INT}


# ---------------------------------------------------------------------------- operations

READ_ERRORS = (401, 403)
SCOPE_ARGS = {"university", "institution"}  # one outside the caller's scope: 404
WRITE_ERRORS = (400, 401, 403, 404, 409, 422)


# Routes served by this module, documented too (public, no authentication).
SELF_ENDPOINTS = {"openapi_json"}

# ---------------------------------------------------------------------------- the document

ERROR_TEXT = {
    400: "请求无效：CSRF 令牌缺失或无效、JSON 格式错误或嵌套过深、含 NUL 等无效字符",
    401: "未登录",
    403: "角色或数据范围不允许",
    404: "不存在或不在调用者的可见范围内",
    409: "状态冲突或 version 已过期",
    413: "请求体过大（JSON 上限见 REVIVE_MAX_JSON_KB）",
    422: "输入校验失败：details 为 {字段键: 中文信息}",
    503: "后台任务队列或数据库暂不可用",
}

# Schemas of the string path arguments (a route with a new one fails build_document loudly).
PATH_STRINGS: dict[str, dict[str, Any]] = {
    "action": {"type": "string", "enum": list(patent_workflow.ACTIONS)},
}

# Either a browser session (writes: plus its CSRF token) or a personal API token.
READ_SECURITY = [{"sessionCookie": []}, {"bearerToken": []}]
WRITE_SECURITY = [{"sessionCookie": [], "csrfToken": []}, {"bearerToken": []}]

_RULE_ARG = re.compile(r"<(?:(\w+):)?(\w+)>")
WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in _RULE_ARG.findall(rule):
        schema = ID_ARG if converter == "int" else PATH_STRINGS[name]
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _RULE_ARG.sub(r"{\2}", rule), params


def _response(description: str, schema: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


def _roles_of(view: Any) -> tuple[Role, ...]:
    allowed = getattr(view, "allowed_roles", None)
    return tuple(r for r in Role if r in allowed) if allowed else ()


def _inline(node: Any, schemas: dict[str, Any]) -> Any:
    """``node`` with every ``#/components/schemas/…`` reference replaced by the schema itself.

    Operations carry their schemas inline (the components stay, for readers): validators then
    never search the whole document to resolve a reference, which made each response check
    ~50 ms."""
    if isinstance(node, dict):
        target = node.get("$ref")
        if isinstance(target, str) and target.startswith("#/components/schemas/"):
            resolved = _inline(schemas[target.rsplit("/", 1)[1]], schemas)
            rest = {k: _inline(v, schemas) for k, v in node.items() if k != "$ref"}
            return {**resolved, **rest} if rest else resolved
        return {k: _inline(v, schemas) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, schemas) for v in node]
    return node


def _generated(
    method: str, endpoint: str, op: dict[str, Any], path_params: list, roles: tuple[Role, ...]
) -> dict[str, Any]:
    """An operation that flask-smorest generated from the route's schemas, completed with what
    every route shares: its path parameters, security, error responses and roles."""
    write = method in WRITE_METHODS
    query = [p for p in op.get("parameters", []) if p.get("in") == "query"]
    responses = {
        code: {**answer, "description": "成功"}
        for code, answer in op.get("responses", {}).items()
        if code.startswith("2")
    }
    errors = set(op.get("x-errors") or (WRITE_ERRORS if write else READ_ERRORS))
    if path_params or any(p["name"] in SCOPE_ARGS for p in query):
        errors.add(404)
    errors.add(400)  # NUL or a lone surrogate in any parameter; CSRF; malformed JSON
    if query:
        errors.add(422)  # a query value outside its documented schema (api.schema.Query)
    if "requestBody" in op:
        errors.add(413)
    for status in sorted(errors):
        responses[str(status)] = _response(ERROR_TEXT[status], ref("Error"))
    description = op.get("description", "")
    if roles:
        description = "角色：" + "、".join(r.label for r in roles) + "。" + description
    out: dict[str, Any] = {
        "operationId": endpoint,
        "summary": op.get("summary", ""),
        "tags": op.get("tags", []),
        "parameters": [*path_params, *query],
        "responses": responses,
        "security": WRITE_SECURITY if write else READ_SECURITY,
    }
    if description:
        out["description"] = description
    if "requestBody" in op:
        out["requestBody"] = op["requestBody"]
    return out


def build_document(app: Any) -> dict[str, Any]:
    """The OpenAPI document of every rule of the ``api`` blueprint in ``app``."""
    generated = spec_of(app)
    schemas = {**generated.get("components", {}).get("schemas", {}), **SCHEMAS}
    schemas.pop("PaginationMetadata", None)  # flask-smorest's own; pages use PageMeta
    paths: dict[str, dict[str, Any]] = {}
    tags: dict[str, None] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(f"{bp.name}."):
            continue
        name = rule.endpoint.split(".", 1)[1]
        path, path_params = _openapi_path(rule.rule)
        item = paths.setdefault(path, {})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if name in SELF_ENDPOINTS:
                item[method.lower()] = {
                    "operationId": name,
                    "summary": "本文档（OpenAPI 3.0）",
                    "tags": ["文档"],
                    "security": [],
                    "responses": {"200": _response("OpenAPI 文档", {"type": "object"})},
                }
                continue
            roles = _roles_of(app.view_functions[rule.endpoint])
            made = generated["paths"].get(path, {}).get(method.lower())
            if made is None or "responses" not in made:
                continue  # a route without documentation: the test fails on this
            operation = _generated(method, name, made, path_params, roles)
            tags.update(dict.fromkeys(operation["tags"]))
            item[method.lower()] = _inline(operation, schemas)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Revive JSON API",
            "version": "1",
            "description": (
                "高校专利盘活平台的 JSON 接口（/api/v1）。认证二选一：(1) 其他系统用个人 API "
                "令牌：请求头 Authorization: Bearer <令牌>（在网站「账号与安全」页创建，"
                "只显示一次；"
                "只读令牌只能 GET，读写令牌权限与本人账号相同），不需要 Cookie 和 CSRF 令牌；"
                "令牌无效、过期、被撤销或账号停用时 401，只读令牌写入时 403。(2) 网页登录后的会话 "
                "Cookie：写操作（POST/PATCH）须在 X-CSRFToken 请求头中带上 CSRF 令牌"
                "（取自任一页面的 "
                '<meta name="csrf-token">，与会话绑定），缺失或无效时 400。未认证时 401 JSON。'
                "批量导入：POST /api/v1/import-jobs（multipart/form-data）上传表格 → 轮询 "
                "GET /api/v1/import-jobs/{job_id} 至 validated → GET …/errors 查看错误行 → "
                "POST …/commit 确认 → 轮询至 committed。"
                "错误统一为 {error, message, details?}；枚举以英文值加 *_label 中文标签传递。"
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": t} for t in tags if t],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": app.config.get("SESSION_COOKIE_NAME") or "session",
                    "description": "POST /login 登录后得到的 Flask 会话 Cookie（HttpOnly, "
                    "SameSite=Lax），供网页及其脚本使用。",
                },
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "个人 API 令牌（rvk_ 开头），在「账号与安全」页创建：名称、"
                    "权限（read 只读：GET；write 读写）、有效期（默认 90 天，最长见 "
                    "REVIVE_API_TOKEN_MAX_DAYS）。只显示一次，平台只保存摘要；本人或其管理员"
                    "可随时撤销，账号停用时自动撤销。带此请求头的请求只按令牌认证，"
                    "不需要 CSRF 令牌。",
                },
                "csrfToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "Flask-WTF CSRF 令牌，写操作必需；取自页面的 "
                    '<meta name="csrf-token">，与会话绑定，不过期（WTF_CSRF_TIME_LIMIT=None）。',
                },
            },
        },
    }


def converted_endpoints(app: Any) -> set[str]:
    """The endpoints whose document is generated from their schemas (``bp.response``)."""
    return {
        endpoint.split(".", 1)[1]
        for endpoint, view in app.view_functions.items()
        if endpoint.startswith(f"{bp.name}.") and getattr(view, "_apidoc", {}).get("response")
    }


def documented_endpoints(app: Any) -> set[str]:
    """The endpoints the document describes: generated from their schemas, and its own."""
    return converted_endpoints(app) | SELF_ENDPOINTS


@bp.get("/openapi.json")
def openapi_json():
    """This API's OpenAPI 3.0 document (public: no data, no secrets)."""
    return jsonify(build_document(current_app))


def api_docs():
    """A server-rendered list of the API's endpoints (no script)."""
    document = build_document(current_app)
    rows = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            rows.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "tag": (op.get("tags") or [""])[0],
                    "description": op.get("description", ""),
                    "params": [f"{p['name']}（{p['in']}）" for p in op.get("parameters", [])],
                    "body": sorted(
                        prop
                        for media in op.get("requestBody", {}).get("content", {}).values()
                        for prop in media.get("schema", {}).get("properties", {})
                    ),
                    "content_type": next(iter(op.get("requestBody", {}).get("content", {})), ""),
                    "responses": sorted(op["responses"]),
                    "csrf": any("csrfToken" in s for s in op.get("security", [])),
                }
            )
    rows.sort(key=lambda r: (r["tag"], r["path"], r["method"]))
    return render_template("api/docs.html", rows=rows, info=document["info"])


def init_docs_page(state) -> None:
    state.app.add_url_rule("/api/docs", "api_docs", api_docs, methods=["GET"])
