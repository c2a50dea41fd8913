"""The audit log (read-only: no route edits or deletes an event) and its exports (.xlsx, .csv).

Each event reads in Chinese (audit.labels): its object by type and name, linked to the object's
page where the viewer may open it (audit.objects), the action, who acted, when (local time),
and every recorded value with its label. Both exports stream (constant memory) and neutralise
formulas (common.spreadsheets.safe_cell), like the inventory and demand exports; a large .xlsx
is built by a worker as the same user (the export kind "audit", revive.exports).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from revive import clock
from revive.accounts.models import User
from revive.accounts.permissions import roles_required
from revive.audit import labels, objects, queries
from revive.audit.models import AuditEvent
from revive.audit.queries import AUDIT_ROLES
from revive.exports import registry
from revive.exports.views import export_response

bp = Blueprint("audit", __name__, url_prefix="/audit")

EXPORT_CHUNK = 500  # events named per round of queries while streaming an export


def header() -> list[str]:
    return [
        "编号",
        f"时间（{clock.zone_label()}）",
        "对象",
        "对象编号",
        "操作",
        "操作人",
        "对象名称",
        "所属机构",
        "详情",
    ]


@dataclass
class Row:
    """One event as the page shows it."""

    event: AuditEvent
    entity_label: str
    action_label: str
    named: objects.Named
    details: list[tuple[labels.Detail, objects.Named | None]] = field(default_factory=list)


def _refs(events: Iterable[AuditEvent]) -> set[objects.Ref]:
    refs: set[objects.Ref] = set()
    for e in events:
        refs.add((e.entity, e.entity_id))
        if e.organization_id is not None:
            refs.add(("organization", e.organization_id))
        refs.update(d.ref for d in labels.details(e.entity, e.data) if d.ref)
    return refs


def _rows(viewer: User, events: list[AuditEvent]) -> list[Row]:
    named = objects.names(viewer, _refs(events))
    rows = []
    for e in events:
        shown = [d for d in labels.details(e.entity, e.data) if not d.hidden]
        rows.append(
            Row(
                event=e,
                entity_label=labels.entity_label(e.entity),
                action_label=labels.action_label(e.entity, e.action),
                named=named[(e.entity, e.entity_id)],
                details=[(d, named.get(d.ref) if d.ref else None) for d in shown],
            )
        )
    return rows


@bp.get("/")
@roles_required(*AUDIT_ROLES)
def log():
    filters = queries.parse_filters(request.args)
    per_page = int(current_app.config.get("REVIVE_PAGE_SIZE", 50))
    page = queries.page(current_user, filters, per_page)
    return render_template(
        "audit/log.html",
        page=page,
        rows=_rows(current_user, page.items),
        filters=filters,
        actions=queries.actions(current_user),
        entity_labels=labels.ENTITY_LABELS,
        any_label=labels.any_label,
        actor_name=queries.actor_name(filters.actor),
        all_people={k: v for k, v in filters.to_args().items() if k != "actor"},
    )


def _chunks(events: Iterable[AuditEvent], size: int) -> Iterator[list[AuditEvent]]:
    chunk: list[AuditEvent] = []
    for e in events:
        chunk.append(e)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def export_values(viewer: User, events: Iterable[AuditEvent]) -> Iterator[list[Any]]:
    """The export's rows: the page's columns, plus the details as one labelled text."""
    for chunk in _chunks(events, EXPORT_CHUNK):
        named = objects.names(viewer, _refs(chunk), links=False)
        texts = {ref: n.text for ref, n in named.items()}
        actors = {e.actor_id: e.actor for e in chunk if e.actor_id is not None}
        for e in chunk:
            actor = actors.get(e.actor_id)
            org = named.get(("organization", e.organization_id)) if e.organization_id else None
            yield [
                e.id,
                clock.format_dt(e.created_at, "%Y-%m-%d %H:%M:%S"),
                labels.entity_label(e.entity),
                e.entity_id,
                labels.action_label(e.entity, e.action),
                actor.name if actor else "系统",
                named[(e.entity, e.entity_id)].text,
                org.text if org else "",
                labels.plain_text(e.entity, e.data, texts),
            ]


def _export_params(_user: User, args: Mapping[str, Any]) -> dict[str, str]:
    return queries.parse_filters(args).to_args()  # the filters (the page plays no part)


def _export_names(_user: User, _params: dict[str, Any]) -> registry.Names:
    day = f"{clock.local_today():%Y%m%d}"
    return registry.Names(f"审计日志-{day}", f"revive-audit-{day}", "审计日志")


def _export_rows(user: User, params: dict[str, Any]) -> Iterator[list[Any]]:
    return export_values(user, queries.export_rows(user, queries.parse_filters(params)))


def _export_count(user: User, params: dict[str, Any], limit: int | None) -> int:
    return queries.export_count(user, queries.parse_filters(params), limit)


# The export as a kind of revive.exports: a large .xlsx is built by a worker, as the user.
EXPORT = registry.register(
    registry.ExportKind(
        name="audit",
        label="审计日志",
        roles=AUDIT_ROLES,
        endpoint="audit.export",
        params=_export_params,
        names=_export_names,
        header=header,
        rows=_export_rows,
        count=_export_count,
    )
)


@bp.get("/export.xlsx", defaults={"fmt": "xlsx"})
@bp.get("/export.csv", defaults={"fmt": "csv"})
@roles_required(*AUDIT_ROLES)
def export(fmt: str):
    """The filtered events, oldest first, as .xlsx or .csv: streamed, or — a large .xlsx —
    built in the background (revive.exports)."""
    return export_response(EXPORT.name, fmt, request.args)
