"""Import-job JSON routes: upload a spreadsheet, follow its job, read its row errors, confirm.

The same pipeline as the upload pages (revive.imports): a POST stores the file and queues its
dry run; the job is polled until ``validated`` (preview counts, per-row errors) or ``failed``
(a file-level error); a commit queues the write; the job is polled until ``committed``.
The job page's progress bar polls ``GET /import-jobs/<id>`` too. The contract of each route
is its schemas below (flask-smorest, revive/api/schema.py); the upload is a multipart/form-data
body (location ``upload``: its file and form fields, one schema).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for
from flask_login import current_user, login_required
from flask_smorest.fields import Upload
from marshmallow import fields, post_load
from werkzeug.datastructures import FileStorage

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.api.blueprint import bp
from revive.api.common import requested_page, requested_per_page
from revive.api.schema import (
    ID_ARG,
    PAGING,
    CheckedLater,
    Lenient,
    Query,
    Schema,
    computed,
    enum_fields,
    enum_of,
    page_schema,
    paged,
    q,
)
from revive.demands.importers import create_demand_import
from revive.errors import PermissionDenied, ValidationFailed
from revive.imports import registry, services
from revive.imports.models import ImportJob, ImportStatus
from revive.onboarding.importers import create_institution_import
from revive.web import int_arg

TAG = "批量导入"

# kind → how a file of that kind is registered (each checks who may import what).
CREATORS: dict[str, Callable[..., ImportJob]] = {
    services.PATENTS: services.create_patent_import,
    "demands": create_demand_import,
    "institutions": create_institution_import,
}
IMPORTER_ROLES = frozenset(
    {Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.PLATFORM_ADMIN, Role.OFFICER}
)
_TRUE, _FALSE = frozenset({"1", "true", "on", "yes"}), frozenset({"", "0", "false", "off", "no"})
MODES = ("valid_only", "all_or_nothing")
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}, "nullable": True}
PREVIEW_COUNTS = {
    **COUNTS,
    "properties": {
        "stripped": {
            "type": "integer",
            "description": "含控制字符（如 NUL）的行数：读取时已删除这些字符",
        },
        "stripped_lines": {
            "type": "array",
            "items": {"type": "integer"},
            "description": "其中前 10 行的行号",
        },
        "changed_entered": {
            "type": "integer",
            "description": "专利导入：变更的行中已入库的专利数（导入后专利库中的信息随之更新）",
        },
        "changed_rows": {
            "type": "array",
            "description": "专利导入：前 200 个变更行各自修改的字段",
            "items": {
                "type": "object",
                "properties": {
                    "line": {"type": "integer"},
                    "application_no": {"type": "string"},
                    "entered": {"type": "boolean", "description": "该专利已入库"},
                    "fields": {
                        "type": "array",
                        "description": "[字段, 原值, 新值]（值的前 30 个字符）",
                        "items": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
}

# ---------------------------------------------------------------------------- answers

ImportJobSchema = Schema.from_dict(
    {
        "id": fields.Integer(required=True),
        "kind": fields.String(
            required=True, metadata={"json_schema": {"type": "string", "enum": list(CREATORS)}}
        ),
        "filename": fields.String(required=True),
        **enum_fields("status", ImportStatus),
        "is_active": computed(lambda j: j.status in services.ACTIVE, {"type": "boolean"}),
        "progress": computed(lambda j: round(j.progress, 4), {"type": "number"}),
        "total_rows": fields.Integer(
            required=True,
            allow_none=True,
            metadata={"description": "文件的数据行数（不含表头；读完文件之前为 0）"},
        ),
        "processed_rows": fields.Integer(
            required=True,
            allow_none=True,
            metadata={"description": "当前阶段（预检或写入）已处理的数据行数，用于显示进度"},
        ),
        "committed_rows": fields.Integer(
            required=True,
            allow_none=True,
            metadata={
                "description": (
                    "写入阶段已处理到的数据行数：新建、更新、无变化和跳过的无效行都计入；"
                    "各有多少行见 result_counts。任务中断后从这一行之后继续"
                )
            },
        ),
        "all_or_nothing": computed(lambda j: bool(j.all_or_nothing), {"type": "boolean"}),
        # {new, changed, unchanged, invalid, rows[, stripped, stripped_lines]} after the dry run
        "preview_counts": fields.Raw(
            required=True, allow_none=True, metadata={"json_schema": PREVIEW_COUNTS}
        ),
        # {created, updated, unchanged, skipped_invalid} after the commit
        "result_counts": fields.Raw(
            required=True, allow_none=True, metadata={"json_schema": COUNTS}
        ),
        "error": fields.String(required=True, allow_none=True),
        # set while the job stands still because its worker died (revive.queue.stall_notice)
        "notice": computed(services.stall_notice, {"type": "string"}, nullable=True),
    },
    name="ImportJob",
)
ImportJobPage = page_schema("ImportJobPage", ImportJobSchema)
ImportJobQuery = Query.from_dict(
    {
        "kind": q({"type": "string", "enum": list(CREATORS)}, "导入类型"),
        "status": q(enum_of(ImportStatus), "任务状态"),
        **PAGING,
    },
    name="ImportJobQuery",
)
RowError = Schema.from_dict(
    {
        "line": fields.Integer(required=True),
        "sheet": fields.String(
            load_default=None,
            dump_default=None,
            allow_none=True,
            metadata={"description": "行所在的工作表（文件有多个数据工作表时；否则为 null）"},
        ),
        "column": fields.String(required=True, allow_none=True),
        "value": fields.String(required=True, allow_none=True),
        "message": fields.String(required=True),
    },
    name="ImportRowError",
)
RowErrorPage = page_schema("ImportRowErrorPage", RowError)

# ---------------------------------------------------------------------------- requests


class FormValue(fields.Field):
    """A text value of the upload's form (or the commit's body), refused with a 422 naming it,
    as the upload always answered: ``message`` (``{key}`` is the field's key) and ``detail``.
    ``parse(text)`` gives the value or raises ValueError."""

    def __init__(self, parse: Callable[[str], Any], message: str, detail: str, **kwargs: Any):
        self.parse, self.message, self.detail = parse, message, detail
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return self.parse(value)
        except ValueError:
            raise ValidationFailed(
                self.message.format(key=self.name), details={self.name: self.detail}
            ) from None


def _kind(text: str) -> str:
    kind = (text or services.PATENTS).strip()
    if kind not in CREATORS:
        raise ValueError(kind)
    return kind


def _flag(text: str) -> bool:
    text = text.strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(text)


def _positive_id(raw: str | None) -> int | None:
    value = int_arg(raw, minimum=1)
    if raw not in (None, "") and value is None:
        raise ValidationFailed(
            "institution_id 须为正整数", details={"institution_id": "须为正整数"}
        )
    return value


def _mode(text: str) -> str:
    if text not in MODES:
        raise ValueError(text)
    return text


class LaterUpload(CheckedLater, Upload):
    """The required file, whose absence the route reports after the caller's role has been
    checked against the kind (as the pages do); a form field of that name is no file."""

    def _deserialize(self, value, attr, data, **kwargs):
        return value if isinstance(value, FileStorage) else None


_KINDS = "、".join(CREATORS)


class UploadForm(Lenient):
    file = LaterUpload(
        required=True,
        metadata={
            "description": ".xlsx、旧版 .xls（不超过 20 MB）或 CSV（UTF-8、带 BOM 的 UTF-8、"
            "GBK/GB18030），上限见 "
            "REVIVE_MAX_UPLOAD_MB；模板可在对应的网页导入页下载"
        },
    )
    kind = FormValue(
        _kind,
        f"{{key}} 须为 {_KINDS} 之一",
        f"可选：{_KINDS}",
        load_default=services.PATENTS,
        metadata={"json_schema": {"type": "string", "enum": list(CREATORS), "default": "patents"}},
    )
    institution_id = fields.String(  # read for patents only (post_load)
        metadata={
            "json_schema": {
                **ID_ARG,
                "description": "专利导入的目标单位：平台管理员必填；学校/学院管理员省略（本单位）",
            }
        },
    )
    all_or_nothing = FormValue(
        _flag,
        "{key} 须为 true 或 false",
        "须为 true 或 false",
        metadata={
            "json_schema": {
                "type": "string",
                "enum": ["true", "false", "1", "0"],
                "description": "全部有效才导入（默认 false：只导入有效行）",
            }
        },
    )

    @post_load
    def _institution(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        raw = data.pop("institution_id", None)
        if data["kind"] == services.PATENTS:
            data["institution_id"] = _positive_id(raw)
        return data


class CommitBody(Lenient):
    BODY_OPTIONAL = True  # no body: the mode chosen at upload

    mode = FormValue(
        _mode,
        "{key} 须为 valid_only 或 all_or_nothing",
        "可选：valid_only、all_or_nothing",
        allow_none=True,
        metadata={"json_schema": {"type": "string", "enum": list(MODES)}},
    )


# ---------------------------------------------------------------------------- routes


@bp.get("/import-jobs")
@roles_required(*IMPORTER_ROLES)
@bp.arguments(ImportJobQuery, location="query", as_kwargs=True)
@bp.response(200, ImportJobPage)
@bp.doc(
    summary="可见的导入任务列表",
    tags=[TAG],
    description=(
        "最新的在前：高校和学院管理员看到本单位的专利导入，技术经理人看到需求导入，"
        "平台管理员看到全部。可按 kind（导入类型）和 status（任务状态）筛选。"
    ),
)
def import_jobs(**query):
    """The jobs the caller may see (the web's 导入记录), newest first. The filters as the
    schema read them (stripped): the raw ?status=%20 passed the schema and then failed
    ImportStatus(" ") with a 500."""
    status = (query.get("status") or "").strip() or None
    return paged(
        services.jobs_page(
            current_user,
            requested_page(),
            requested_per_page(),
            kind=(query.get("kind") or "").strip() or None,
            status=ImportStatus(status) if status else None,
        )
    )


@bp.get("/import-jobs/<int:job_id>")
@login_required
@bp.response(200, ImportJobSchema)
@bp.doc(
    summary="导入任务进度",
    tags=[TAG],
    description=(
        "轮询本接口（如每 2 秒一次）直到 is_active 为 false：validated（预检完成，待确认）、"
        "committed（已写入，result_counts 为新建、更新、无变化、跳过的行数）、failed "
        "（error 为原因）或 cancelled。"
    ),
)
def import_job(job_id: int):
    """One import job's progress (404 when it belongs to another institution)."""
    return services.get_job_for(current_user, job_id)


@bp.post("/import-jobs")
@roles_required(*IMPORTER_ROLES)
@bp.arguments(UploadForm, location="upload")
@bp.response(201, ImportJobSchema)
@bp.doc(
    summary="上传表格，开始预检",
    tags=[TAG],
    description=(
        "上传 .xlsx、.xls 或 CSV 文件（multipart/form-data），登记导入任务并排队预检（不写入）。"
        "kind 选择导入类型：patents（专利盘点，学校/学院管理员导入本单位，平台管理员须给出 "
        "institution_id）、demands（企业需求，技术经理人）、institutions（高校/科研院所，"
        "平台管理员）。返回 201 与任务（status=queued），Location 为任务地址。之后轮询 "
        "GET /api/v1/import-jobs/{job_id}：status 变为 validated 时 preview_counts 给出新增、"
        "变更、无变化和无效行数，GET …/errors 列出每个无效行的行号、列和原因；"
        "status=failed 时 error 说明文件级错误。确认导入用 POST …/commit。"
    ),
)
def create_import_job(form: dict[str, Any]):
    """Upload a spreadsheet (.xlsx / CSV) and queue its dry run; 403 when the caller's role may
    not import this kind; 422 for a missing or refused file."""
    kind = form["kind"]
    if current_user.role not in registry.get(kind).roles:
        raise PermissionDenied(f"您的角色不能导入{registry.get(kind).label}")
    options: dict[str, Any] = {"all_or_nothing": form.get("all_or_nothing", False)}
    if kind == services.PATENTS:
        options["institution_id"] = form.get("institution_id")
    file = form.get("file")
    if file is None or not file.filename:
        raise ValidationFailed(
            "请上传文件：multipart/form-data 的 file 字段", details={"file": "缺少文件"}
        )
    job = CREATORS[kind](file, actor=current_user, **options)
    return job, 201, {"Location": url_for("api.import_job", job_id=job.id)}


@bp.post("/import-jobs/<int:job_id>/commit")
@roles_required(*IMPORTER_ROLES)
@bp.arguments(CommitBody, required=False)
@bp.response(200, ImportJobSchema)
@bp.doc(
    summary="确认导入（写入有效行）",
    tags=[TAG],
    description=(
        "只能在 status=validated 时调用（否则 409）。导入方式在上传时选定；mode 可省略，"
        "若给出须与上传时一致（否则 422）。all_or_nothing 且有任何无效行则拒绝（422），"
        "不写入任何数据。成功后 status=commit_queued，继续轮询任务直到 committed。"
    ),
)
def commit_import_job(data: dict[str, Any], job_id: int):
    """Confirm a validated job: queue the write in the mode chosen at upload (a mode other than
    the upload's is a 422: upload again to change it)."""
    mode = data.get("mode")
    job = services.get_job_for(current_user, job_id)
    if mode is not None and (mode == "all_or_nothing") != bool(job.all_or_nothing):
        chosen = "all_or_nothing" if job.all_or_nothing else "valid_only"
        raise ValidationFailed(
            f"导入方式已在上传时选定（{chosen}），确认时不能更改；如需更改请重新上传",
            details={"mode": f"上传时选定：{chosen}"},
        )
    return services.request_commit(job_id, actor=current_user)


@bp.get("/import-jobs/<int:job_id>/errors")
@login_required
@bp.arguments(
    Query.from_dict(dict(PAGING), name="ImportRowErrorQuery"), location="query", as_kwargs=True
)
@bp.response(200, RowErrorPage)
@bp.doc(
    summary="导入任务的错误行",
    tags=[TAG],
    description=(
        "按行号排列；line 为 Excel/WPS 中看到的行号（表头为第 1 行）；工作簿有多个数据工作表时，"
        "sheet 为该行所在的工作表，line 为该工作表中的行号。"
    ),
)
def import_job_errors(job_id: int, **_query):
    """The job's row errors, by line."""
    job = services.get_job_for(current_user, job_id)
    page = services.errors_page(job, requested_page(), requested_per_page())
    lines = services.Lines.of(job)
    page.items = [
        {
            "line": lines.row(e.line),
            "sheet": lines.sheet(e.line),
            "column": e.column,
            "value": e.value,
            "message": e.message,
        }
        for e in page.items
    ]
    return paged(page)
