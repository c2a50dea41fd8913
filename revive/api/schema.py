"""One contract per resource: marshmallow schemas, wired through flask-smorest.

Why flask-smorest: the API is already a Flask blueprint of plain view functions; flask-smorest's
``Blueprint`` is a drop-in subclass of Flask's, and its ``arguments`` / ``response`` decorators
make one marshmallow schema do three jobs: load (validate) the request, dump (shape) the answer,
and describe both in the OpenAPI document (apispec). APIFlask would replace the app class and
its error handling; spectree wants pydantic models beside the field tables. flask-smorest keeps
the app, the error handlers and the views as they are.

What this module adds to the library:

- ``ApiBlueprint``: the blueprint, with a request parser whose validation errors are this API's
  ``ValidationFailed`` (422 ``{"error": "validation_failed", "message", "details": {key: 中文}}``)
  instead of webargs' English 422, and a JSON body that must be an object ("请求体须为 JSON 对象");
  location ``upload`` reads a multipart/form-data body's file and form fields with one schema,
  documented as one ``multipart/form-data`` request body.
- ``init_spec``: an ``Api`` that only builds the document (flask-smorest's own error handler and
  docs routes are left out: revive.errors shapes every error, revive/api/openapi.py serves it).
- Fields with Chinese messages (``Int``, ``Str``, ``Bool``), enums as value + ``*_label``
  (``enum_fields``), and ``table_schema``: a request body built from a field table (the import
  template's ``Field`` rows: revive.inventory.fields, revive.demands.fields), each value checked
  by the table's own parser, so the API, the forms and the import refuse the same values with the
  same messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import marshmallow as ma
from flask import request
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import fields
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from revive.api.common import MAX_INT, MAX_PER_PAGE, page_meta
from revive.common.fields import FieldError
from revive.errors import DomainError, ValidationFailed
from revive.web import int_arg

NOT_AN_OBJECT = "请求体须为 JSON 对象"
BAD_JSON = "请求体不是有效的 JSON（格式错误或编码不是 UTF-8），请求未执行"
UNKNOWN = "未知字段"
REQUIRED = "必填"
# Short messages are prefixed with the key in the top-level message ("version 须为整数").
SHORT = frozenset(
    {
        "须为整数",
        "须为字符串",
        "须为布尔值",
        "超出范围",
        "格式无效",
        "须为对象",
        REQUIRED,
        "不能为空",
    }
)


# ---------------------------------------------------------------------------- errors

# marshmallow's own messages, should a field without Chinese ones be used: never English.
ENGLISH = {
    "Field may not be null.": "不能为空",
    "Missing data for required field.": REQUIRED,
    "Unknown field.": UNKNOWN,
    "Not a valid integer.": "须为整数",
    "Not a valid string.": "须为字符串",
    "Not a valid boolean.": "须为布尔值",
    "Not a valid mapping type.": "须为对象",
    "Invalid input type.": NOT_AN_OBJECT,
}


def _chinese(message: str) -> str:
    return ENGLISH.get(message, "格式无效" if message.isascii() else message)


def validation_failed(messages: dict[str, Any]) -> ValidationFailed:
    """marshmallow's ``{key: [message, …]}`` as this API's 422 (first message per key)."""
    if "_schema" in messages:
        first = messages["_schema"]
        return ValidationFailed(_chinese(first[0] if isinstance(first, list) else str(first)))
    details: dict[str, str] = {}
    for key, value in messages.items():
        while isinstance(value, list | dict):  # nested (list items, objects): the first message
            value = next(iter(value.values() if isinstance(value, dict) else value), "格式无效")
        details[str(key)] = _chinese(str(value))
    unknown = sorted(k for k, m in details.items() if m == UNKNOWN)
    parts = [f"{UNKNOWN}：{'、'.join(unknown)}"] if unknown else []
    parts += [f"{k} {m}" if m in SHORT else m for k, m in details.items() if m != UNKNOWN]
    return ValidationFailed("；".join(parts), details=details)


class Parser(FlaskParser):
    """webargs' Flask parser, failing with ValidationFailed; a JSON body must be an object
    (a schema with ``BODY_OPTIONAL`` also takes no body at all, read as ``{}``). Location
    ``upload``: a multipart/form-data body, its files and form fields read as one mapping
    (webargs' ``files`` and ``form`` are two, and flask-smorest documents one request body)."""

    __location_map__ = dict(upload="load_upload", **FlaskParser.__location_map__)

    def load_upload(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)

    def load_json(self, req, schema):
        limit = req.max_content_length
        # A chunked body has no length to refuse up front: read to the limit, then 413 (it was
        # cut there and answered as malformed JSON).
        chunked = req.is_json and req.content_length is None and limit
        if chunked and len(req.get_data(cache=True)) >= limit:
            raise RequestEntityTooLarge()
        data = req.get_json(silent=True)
        if data is None:
            # Only an empty body is "no body": a body that does not parse (a truncated
            # {"version": 1, …) must not pass as {} and skip the version check it carried.
            # (a form body may have been parsed already, leaving get_data empty)
            body = req.get_data(cache=True).strip()
            if not (body or req.form or req.files):
                if getattr(schema, "BODY_OPTIONAL", False):
                    return {}
                raise ValidationFailed(NOT_AN_OBJECT)
            if body == b"null":  # valid JSON, parsed as None: not an object, not malformed
                raise ValidationFailed(NOT_AN_OBJECT)
            if req.is_json:
                raise DomainError(BAD_JSON)  # 400, as the document's 400 says
            raise ValidationFailed(f"{NOT_AN_OBJECT}（Content-Type 须为 application/json）")
        if not isinstance(data, dict):
            raise ValidationFailed(NOT_AN_OBJECT)
        return data

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.normalized_messages()
        if len(messages) == 1 and next(iter(messages)) in self.__location_map__:
            messages = next(iter(messages.values()))  # webargs keys them by location
        raise validation_failed(messages)


class ApiBlueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **SmorestBlueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "upload": "multipart/form-data",
    }


class _Api(Api):
    """Builds the document only: revive.errors keeps handling every error."""

    def _register_error_handlers(self):
        pass


def _json_schema_attribute(self, field, **kwargs) -> dict[str, Any]:
    """``metadata={"json_schema": {...}}`` on a field: its schema, as written."""
    return dict(field.metadata.get("json_schema", {}))


# Schemas the document names although no route's schema nests them (members of ``one_of``).
COMPONENTS: dict[str, Any] = {}


def init_spec(state) -> None:
    """Build the document of ``bp`` (recorded on the blueprint: runs when the app registers it,
    after every route has been added)."""
    app = state.app
    api = _Api(spec_kwargs={"title": "Revive JSON API", "version": "1", "openapi_version": "3.0.3"})
    app.config.setdefault("OPENAPI_URL_PREFIX", None)  # no flask-smorest docs routes
    api.init_app(app)
    api.ma_plugin.converter.add_attribute_function(_json_schema_attribute)
    for name, schema in COMPONENTS.items():
        api.spec.components.schema(name, schema=schema)
    state.blueprint.register_views_in_doc(
        api, app, api.spec, name=state.blueprint.name, parameters=None
    )


def spec_of(app) -> dict[str, Any]:
    """The flask-smorest document of ``app`` (converted resources)."""
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


# ---------------------------------------------------------------------------- fields


class Schema(ma.Schema):
    """Unknown keys are a 422 naming them; messages in Chinese."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    error_messages = {"unknown": UNKNOWN, "type": NOT_AN_OBJECT}


_MESSAGES = {"required": REQUIRED, "null": "不能为空"}


class CheckedLater:
    """A member the document lists as required whose absence the service reports, after it
    has found the object in the caller's scope (a foreign object is a 403/404 whatever the
    body; the message is the service's, as on the pages)."""

    def _validate_missing(self, value):
        if value is not ma.missing:
            super()._validate_missing(value)


class Int(fields.Integer):
    """A JSON integer (booleans and numeric strings are not), within the integer columns."""

    default_error_messages = {**_MESSAGES, "invalid": "须为整数", "too_large": "超出范围"}

    def __init__(self, *, minimum: int = -MAX_INT, maximum: int = MAX_INT, **kwargs: Any):
        validate = ma.validate.Range(minimum, maximum, error="超出范围")
        super().__init__(strict=True, validate=validate, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class Str(fields.String):
    default_error_messages = {**_MESSAGES, "invalid": "须为字符串"}

    def __init__(self, *, max_length: int | None = None, **kwargs: Any):
        if max_length is not None:
            kwargs["validate"] = ma.validate.Length(max=max_length, error="超出长度上限")
        super().__init__(**kwargs)


class Bool(fields.Boolean):
    """A JSON boolean (no "yes"/1 spellings)."""

    default_error_messages = {**_MESSAGES, "invalid": "须为布尔值"}
    truthy = {True}
    falsy = {False}


class LaterStr(CheckedLater, Str):
    """A required string whose absence the service reports (CheckedLater)."""


class LaterRaw(CheckedLater, fields.Raw):
    """A required member of any type, checked by the service (CheckedLater)."""


DATETIME = {"type": "string", "format": "date-time"}


class IsoDateTime(fields.Field):
    """A date/datetime as ISO 8601 (null as null), as the API always sent them."""

    def __init__(self, fmt: str = "date-time", **kwargs: Any):
        kwargs.setdefault("allow_none", True)
        kwargs.setdefault("metadata", {"json_schema": {"type": "string", "format": fmt}})
        super().__init__(dump_only=True, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return value.isoformat() if value is not None else None


class EnumValue(fields.Field):
    """A LabeledEnum as its value."""

    def __init__(self, enum_cls: Any, **kwargs: Any):
        schema = {"type": "string", "enum": [m.value for m in enum_cls]}
        super().__init__(dump_only=True, metadata={"json_schema": schema}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return value.value if value is not None else None


class EnumLabel(fields.Field):
    """A LabeledEnum as its Chinese label."""

    def __init__(self, **kwargs: Any):
        super().__init__(dump_only=True, metadata={"json_schema": {"type": "string"}}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return value.label if value is not None else None


def enum_fields(key: str, enum_cls: Any, *, nullable: bool = False) -> dict[str, fields.Field]:
    """``key`` (enum value) and ``key_label`` (its Chinese label), read from attribute ``key``."""
    return {
        key: EnumValue(enum_cls, attribute=key, allow_none=nullable, required=True),
        f"{key}_label": EnumLabel(attribute=key, allow_none=nullable, required=True),
    }


class Ref(Schema):
    """``{id, name}`` of an organization or a user."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)


_META_KEYS = ("page", "per_page", "total_pages", "total_items")


def page_fields(name: str, item: Any, **extra_meta: fields.Field) -> dict[str, fields.Field]:
    """The members ``items`` and ``meta`` (sent as ``_meta``) of a page, for an answer that
    has other members beside them (the page's meta schema is ``{name}Meta``)."""
    meta = Schema.from_dict(
        {**{k: fields.Integer(required=True) for k in _META_KEYS}, **extra_meta},
        name=f"{name}Meta",
    )
    return {
        "items": fields.List(
            item if isinstance(item, fields.Field) else fields.Nested(item), required=True
        ),
        "meta": fields.Nested(meta, required=True, data_key="_meta"),
    }


def page_schema(name: str, item: Any, **extra_meta: fields.Field) -> type[ma.Schema]:
    """``{items: [item], _meta: {page, per_page, total_pages, total_items, …extra_meta}}``,
    dumped from ``paged(page, **extra)``."""
    return Schema.from_dict(page_fields(name, item, **extra_meta), name=name)


def paged(page: Any, **extra: Any) -> dict[str, Any]:
    """A page (and extra ``_meta`` members) for a ``page_schema``. A page past the last one is
    empty and keeps its number: the web's lists show the last page instead, but a client
    paging ``while items`` would then never stop."""
    requested = int_arg(request.args.get("page"))
    if requested is not None and requested > page.pages:
        return {"items": [], "meta": {**page_meta(page, **extra), "page": requested}}
    return {"items": page.items, "meta": page_meta(page, **extra)}


ORG: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}  # {id, name} of an organization or a user


def computed(func: Any, json_schema: dict[str, Any], *, nullable: bool = False) -> fields.Field:
    """An answer member computed from the object by ``func`` (its JSON schema given)."""
    schema = {**json_schema, "nullable": True} if nullable else json_schema
    return fields.Function(func, required=True, metadata={"json_schema": schema})


class NestedOf(fields.Nested):
    """A nested schema dumped from ``func(obj)`` (e.g. a query's rows) rather than an
    attribute."""

    def __init__(self, func: Any, nested: Any, **kwargs: Any):
        self.func = func
        kwargs.setdefault("required", True)
        super().__init__(nested, **kwargs)

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return self._serialize(self.func(obj), attr, obj, **kwargs)


class OneOf(fields.Field):
    """One of several schemas, chosen per object by ``pick(obj) -> name`` (each registered as
    a component of that name)."""

    def __init__(self, pick: Any, schemas: dict[str, Any], **kwargs: Any):
        COMPONENTS.update(schemas)
        self.pick = pick
        self.schemas = {name: cls() for name, cls in schemas.items()}
        refs = [{"$ref": f"#/components/schemas/{name}"} for name in schemas]
        super().__init__(dump_only=True, metadata={"json_schema": {"oneOf": refs}}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return self.schemas[self.pick(value)].dump(value)


def labeled(func: Any, enum_cls: Any, key: str, *, nullable: bool = False) -> dict[str, Any]:
    """``key`` (enum value) and ``key_label`` of the LabeledEnum ``func(obj)``."""

    def value(obj):
        member = func(obj)
        return member.value if member is not None else None

    def label(obj):
        member = func(obj)
        return member.label if member is not None else None

    return {
        key: computed(value, enum_of(enum_cls), nullable=nullable),
        f"{key}_label": computed(label, {"type": "string"}, nullable=nullable),
    }


def ref_of(obj: Any) -> dict[str, Any] | None:
    """``{id, name}`` of an organization or a user (None as None)."""
    return {"id": obj.id, "name": obj.name} if obj is not None else None


# ---------------------------------------------------------------------------- query strings


class Lenient(Schema):
    """A body whose other members are ignored (as they always were)."""

    class Meta:
        unknown = ma.EXCLUDE


class Query(Schema):
    """A query string. Each parameter's documented JSON schema (``q``) is checked here, and a
    value outside it is a 422 naming the parameter: an API client with a typo in a filter
    must not be handed the whole list as if it matched. (The web pages' filters stay lenient:
    a hand-edited URL there falls back to the default.) The fields then pass the strings
    through to the domain's parse_filters. Unknown parameters are left out (ignored)."""

    class Meta:
        unknown = ma.EXCLUDE

    @ma.pre_load
    def _check_documented(self, data: Any, **_: Any) -> Any:
        problems: dict[str, str] = {}
        for name, field in self.fields.items():
            schema = field.metadata.get("json_schema")
            raw = data.get(name) if schema is not None else None
            if raw is None or raw is ma.missing or not str(raw).strip():
                continue  # absent, or left empty (a form's 全部 option): no filter
            problem = query_problem(str(raw), schema)
            if problem:
                problems[name] = problem
        if problems:
            shown = "；".join(f"{k}：{m}" for k, m in problems.items())
            raise ValidationFailed(f"查询参数无效（{shown}）", details=problems)
        return data


def query_problem(raw: str, schema: dict[str, Any]) -> str | None:
    """Why a query-string value is outside ``schema`` (the subset of JSON Schema the ``q``
    fields use: type integer / number / string, minimum, maximum, maxLength, enum, pattern,
    format date, oneOf), in Chinese; None when it fits."""
    if "oneOf" in schema:
        answers = [query_problem(raw, option) for option in schema["oneOf"]]
        return None if None in answers else "；或".join(dict.fromkeys(a for a in answers if a))
    kind = schema.get("type", "string")
    value: Any = raw
    if kind == "integer":
        if not (raw.isascii() and raw.lstrip("-").isdigit()) or len(raw) > 20:
            return f"须为整数：{raw[:40]}"
        value = int(raw)
    elif kind == "number":
        try:
            value = float(raw)
        except ValueError:
            return f"须为数字：{raw[:40]}"
        if not math.isfinite(value):
            return f"须为数字：{raw[:40]}"
    if "minimum" in schema and value < schema["minimum"]:
        return f"不能小于 {schema['minimum']}"
    if "maximum" in schema and value > schema["maximum"]:
        return f"不能大于 {schema['maximum']}"
    if "enum" in schema and value not in schema["enum"]:
        return f"须为 {'、'.join(map(str, schema['enum']))} 之一：{raw[:40]}"
    if "maxLength" in schema and len(raw) > schema["maxLength"]:
        return f"不能超过 {schema['maxLength']} 个字符"
    if "pattern" in schema and not re.search(schema["pattern"], raw):
        return f"格式无效：{raw[:40]}"
    if schema.get("format") == "date":
        try:
            date.fromisoformat(raw)
        except ValueError:
            return f"须为日期（YYYY-MM-DD）：{raw[:40]}"
    return None


def q(schema: dict[str, Any], description: str = "") -> fields.Field:
    meta: dict[str, Any] = {"json_schema": dict(schema)}
    if description:
        meta["json_schema"]["description"] = description
    return fields.Raw(metadata=meta)


ID_ARG = {"type": "integer", "minimum": 1, "maximum": MAX_INT}
PAGING = {
    "page": q({"type": "integer", "minimum": 1, "maximum": 999_999_999}, "页码（默认 1）"),
    "per_page": q({"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "每页条数"),
}


def id_or_none(description: str, maximum: int = MAX_INT) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": maximum},
            {"type": "string", "enum": ["none"]},
        ],
    }


def enum_of(enum_cls: Any, *extra: str) -> dict[str, Any]:
    return {"type": "string", "enum": [*(m.value for m in enum_cls), *extra]}


# ---------------------------------------------------------------------------- field tables

DECIMAL_STR: dict[str, Any] = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
_PARSER_SCHEMAS: dict[str, dict[str, Any]] = {
    "_parse_int": {"type": "integer"},
    "_parse_decimal": {"oneOf": [{"type": "number"}, DECIMAL_STR]},
    # an amount, or a word for "no price asked" (inventory.fields._NO_PRICE)
    "_parse_asking_price": {
        "oneOf": [{"type": "number"}, DECIMAL_STR, {"type": "string", "enum": ["面议"]}]
    },
    "_parse_date": {"type": "string", "format": "date"},
    "_parse_deadline": {"type": "string", "format": "date"},
    "_parse_bool": {"type": "boolean"},
}


def field_json_schema(f: Any, modes_enum: Any) -> dict[str, Any]:
    """The JSON type of one row of a field table (revive.inventory.fields.Field)."""
    name = getattr(f.parse, "__name__", "")
    if name == "_parse_modes":
        items = {"type": "string", "enum": [m.value for m in (f.enum or modes_enum)]}
        schema: dict[str, Any] = {"oneOf": [{"type": "array", "items": items}, {"type": "string"}]}
    elif f.enum is not None:
        schema = {"type": "string", "enum": [m.value for m in f.enum]}
    elif name in _PARSER_SCHEMAS:
        schema = dict(_PARSER_SCHEMAS[name])
        if name == "_parse_int" and f.max_value:
            schema.update(minimum=f.min_value, maximum=f.max_value)
        if name == "_parse_decimal" and f.max_value:  # an amount refused from max_value on
            number = {"type": "number", "maximum": f.max_value, "exclusiveMaximum": True}
            schema = {"oneOf": [number, DECIMAL_STR]}
    else:
        schema = {"type": "string"}
        if f.max_len:
            schema["maxLength"] = f.max_len
    description = f"{f.label}。{f.help}".rstrip("。") if f.help else f.label
    if f.enum is not None and name != "_parse_modes":
        description += "（值或中文标签均可）"
    return {**schema, "description": description}


def display_json_schema(f: Any) -> dict[str, Any]:
    """The JSON type of a stored field as the API returns it (``DisplayValue``): TRL and value
    grade as integers, yes/no as booleans, everything else (dates, amounts, lists) as its
    display text; null when empty. An integrator's generated client had 25 untyped fields."""
    name = getattr(f.parse, "__name__", "")
    if name == "_parse_bool":
        schema: dict[str, Any] = {"type": "boolean"}
    elif name == "_parse_int":
        schema = {"type": "integer"}
    elif name in ("_parse_date", "_parse_deadline"):
        schema = {"type": "string", "format": "date"}
    elif name in ("_parse_decimal", "_parse_asking_price"):
        schema = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$|^面议$"}
    else:
        schema = {"type": "string"}
    return {**schema, "nullable": True, "description": f.label}


_JSON_KINDS = {
    "string": "文本",
    "number": "数字",
    "integer": "整数",
    "boolean": "true 或 false",
    "array": "列表",
}


def _json_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a field's schema admits (its ``type``, or its ``oneOf`` options')."""
    if "oneOf" in schema:
        return {t for option in schema["oneOf"] for t in _json_types(option)}
    kind = schema.get("type", "string")
    return {"number", "integer"} if kind in ("number", "integer") else {kind}


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "object"


class TableField(fields.Field):
    """One row of a field table as a request body member: text, or the JSON type its schema
    says (a list only where the row takes several values, joined with commas as a template
    cell would hold them: a security review stored ``"title": true`` as "True", a list as
    "一种,装置", and an empty list cleared a deadline), checked by the row's own parser (its Chinese
    message on failure). The raw value goes on to the service, which parses the whole record
    with the same table (and checks the rules between fields)."""

    default_error_messages = {"invalid": "格式无效", "required": REQUIRED}

    def __init__(self, row: Any, *, modes_enum: Any, is_marker: Any, **kwargs: Any):
        self.row = row
        self.is_marker = is_marker
        message = f"缺少必填项：{row.label}"
        super().__init__(
            allow_none=True,
            metadata={"json_schema": field_json_schema(row, modes_enum)},
            error_messages={"required": message},
            **kwargs,
        )

    def _deserialize(self, value, attr, data, **kwargs):
        # text is always read by the row's parser ("5" for a TRL, "是" for a yes/no, as a
        # template cell holds them); other JSON types only where the schema names them
        allowed = _json_types(self.metadata["json_schema"]) | {"string"}
        if _json_type(value) not in allowed:
            order = ["integer", "number", "boolean", "array", "string"]
            if "integer" in allowed:
                allowed.discard("number")
            kinds = "或".join(_JSON_KINDS[t] for t in order if t in allowed)
            raise ma.ValidationError(f"{self.row.label}须为{kinds}")
        if isinstance(value, list):
            if not all(isinstance(v, str) for v in value):
                raise ma.ValidationError(f"{self.row.label}的列表只能含文本")
            value = ",".join(value)
        if not self.is_marker(value):  # the import's clear marker: the service explains it
            try:
                parsed = self.row.parse_value(value)
            except FieldError as exc:
                raise ma.ValidationError(str(exc)) from exc
            if parsed is None and self.required:
                raise self.make_error("required")
        return value


def table_schema(
    name: str,
    rows: Iterable[Any],
    *,
    required: bool,
    extra: dict[str, fields.Field],
    modes_enum: Any,
    is_marker: Any = lambda value: False,
) -> type[Schema]:
    """A request body of the table's ``rows`` (``required``: the table's required rows must be
    given, as on create) plus ``extra`` members; unknown keys are a 422."""
    members: dict[str, fields.Field] = {
        row.key: TableField(
            row, modes_enum=modes_enum, is_marker=is_marker, required=required and row.required
        )
        for row in rows
    }
    members.update(extra)
    return Schema.from_dict(members, name=name)


def version_field() -> Int:
    return Int(
        allow_none=True, metadata={"description": "GET 得到的 version；不一致时 409 conflict"}
    )


def current_request_json() -> dict[str, Any]:
    """The request's JSON object (after ``arguments`` has checked it)."""
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}
