"""Review queue pages (blueprint "review"): the officers' queue over machine matches (accept →
push to both sides, reject with a reason; one by one or in bulk) and the rejection statistics.

``decide`` is the one route for a match decision (the match page posts to it too, with
``back=match``); decisions go through ``revive.review.services`` (the one decision service:
validation, audit, push, commit). The patent page includes ``review/_patent_panel.html``; its
data comes from the template global ``review_patent_panel(patent)`` registered at the end of
this module.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from revive.accounts.permissions import roles_required
from revive.clock import local_today
from revive.common.downloads import send_xlsx
from revive.errors import (
    ConflictError,
    DomainError,
    InvalidTransition,
    NotFoundError,
    ValidationFailed,
)
from revive.inventory.models import Patent
from revive.inventory.public import public_clause
from revive.matching import manual, search, strength
from revive.matching.models import Match, MatchState
from revive.matching.reasons import REJECT_REASONS, reason_label
from revive.review import charts, export, permissions, queries, services
from revive.review.permissions import QUEUE_ROLES, STATS_ROLES
from revive.web import int_arg, version_arg

bp = Blueprint("review", __name__, url_prefix="/review")

DEMANDS_PER_PAGE = 10  # each demand brings up to matching.runs.TOP_K candidates
MAX_LISTED_SKIPS = 10


def _back(filters: queries.QueueFilters, demand_id: int | None = None):
    """Back to the queue at the demand's candidates; ``at`` has the page show the message
    there, where the officer lands, not at the top of a long page (UX review o-push-after-d:
    after 采纳 the success message was off-screen)."""
    anchor = f"demand-{demand_id}" if demand_id else None
    at = {"at": demand_id} if demand_id else {}
    return redirect(url_for("review.queue", _anchor=anchor, **filters.to_args(), **at))


def _explain(exc: DomainError) -> str:
    """The reason a decision did not happen, in words an officer can act on."""
    if isinstance(exc, NotFoundError):
        return services.GONE
    return exc.message


# ---------------------------------------------------------------------------- queue


@bp.get("/")
@roles_required(*QUEUE_ROLES)
def queue():
    filters = queries.parse_queue_filters(request.args)
    page = queries.queue_page(filters, DEMANDS_PER_PAGE)
    at = int_arg(request.args.get("at"), minimum=1)
    return render_template(
        "review/queue.html",
        page=page,
        # the group the last decision came back to: its messages show there (when on this page)
        flash_group=at if any(g.demand.id == at for g in page.items) else None,
        totals=queries.queue_totals(filters),
        filters=filters,
        sorts=queries.SORTS,
        industries=queries.queue_industries(),
        universities=queries.queue_universities(),
        reasons=REJECT_REASONS,
        days_since=queries.days_since,
        trl_below=queries.trl_below,
        thresholds=strength.thresholds(),
    )


@bp.post("/matches/<int:match_id>/decision")
@roles_required(*QUEUE_ROLES)
def decide(match_id: int):
    """One candidate: accept (push) or reject with a reason — the one decision route.

    The form's ``back`` says where the officer returns. Default, the queue (its filters in the
    query string): a refusal is flashed with the pair's name. ``match`` (the match page) or
    ``demand`` (the demand's matches): back there; a refused input (e.g. a rejection without a
    reason) is flashed at the page's form, and a conflict (decided by someone else) is the
    error page (409)."""
    back = request.form.get("back")
    if back in ("match", "demand"):
        return _decide_on_match_page(match_id, back)
    filters = queries.parse_queue_filters(request.args)
    label = queries.describe_matches([match_id]).get(match_id, f"匹配 #{match_id}")
    try:
        match = _decide(match_id)
    except DomainError as exc:
        flash(f"未能处理 {label}：{_explain(exc)}", "error")
        # back at the demand's candidates, not the top of the queue (a tester lost their place)
        return _back(filters, queries.demand_of(match_id))
    if match.state == MatchState.ACCEPTED:
        flash(f"已采纳并推送给企业和高校：{label}", "success")
    else:
        flash(f"已否决（{reason_label(match.reason_code)}）：{label}", "success")
    return _back(filters, match.demand_id)


def _decide(match_id: int) -> Match:
    return services.decide(
        match_id,
        request.form.get("decision", ""),
        current_user,
        reason_code=request.form.get("reason_code"),
        comment=request.form.get("comment"),
        expected_version=version_arg(request.form.get("version")),
    )


def _decide_on_match_page(match_id: int, back: str):
    try:
        match = _decide(match_id)
    except ValidationFailed as exc:  # e.g. a rejection without a reason: say so on the page
        flash(exc.message, "error")
        return redirect(url_for("matching.match_page", match_id=match_id, _anchor="decision"))
    flash(f"{match.state.label}该匹配", "success")  # 已采纳 / 已否决
    if back == "demand":
        return redirect(url_for("matching.demand_matches", demand_id=match.demand_id))
    return redirect(url_for("matching.match_page", match_id=match.id))


@bp.post("/decisions")
@roles_required(*QUEUE_ROLES)
def decide_bulk():
    """The ticked candidates: one bulk accept or bulk reject (with one reason)."""
    filters = queries.parse_queue_filters(request.args)
    decision = request.form.get("decision", "")
    try:
        result = services.decide_selected(
            request.form.getlist("match_ids"),
            decision,
            current_user,
            reason_code=request.form.get("reason_code"),
            comment=request.form.get("comment"),
        )
    except DomainError as exc:
        flash(f"批量处理未执行：{exc.message}", "error")
        return _back(filters)
    _flash_result(result, decision)
    return _back(filters)


def _flash_result(result: dict[str, list], decision: str) -> None:
    verb = "采纳并推送" if decision in ("accept", MatchState.ACCEPTED.value) else "否决"
    done, skipped = result["done"], result["skipped"]
    if done:
        flash(f"已{verb} {len(done)} 条候选匹配。", "success")
    if skipped:
        labels = queries.describe_matches([i for i, _ in skipped[:MAX_LISTED_SKIPS]])
        listed = "；".join(
            f"{labels.get(i, f'匹配 #{i}')}：{m}" for i, m in skipped[:MAX_LISTED_SKIPS]
        )
        hidden = len(skipped) - MAX_LISTED_SKIPS
        more = f"；另有 {hidden} 条未列出" if hidden > 0 else ""
        flash(f"跳过 {len(skipped)} 条：{listed}{more}", "warning")


# ---------------------------------------------------------------------------- by hand


ADD_PER_PAGE = 10


def _add_page(demand_id: int, *, error: str | None = None):
    demand = queries.open_demand(demand_id)
    q = search.clean_query(request.args.get("q")) if "q" in request.args else demand.title
    found = search.search(
        q, [public_clause()], int_arg(request.args.get("page"), 1, minimum=1), ADD_PER_PAGE
    )
    return render_template(
        "review/add.html",
        demand=demand,
        q=q,
        found=found,
        pairs=queries.pairs_of(demand.id, [p.id for p in found.items]),
        note_max=manual.NOTE_MAX,
        error=error,
    )


@bp.get("/demands/<int:demand_id>/candidates")
@roles_required(*QUEUE_ROLES)
def add_candidate(demand_id: int):
    """Search entered patents (the pool's engine search) to add one to the demand by hand."""
    return _add_page(demand_id)


@bp.post("/demands/<int:demand_id>/candidates")
@roles_required(*QUEUE_ROLES)
def add_candidate_post(demand_id: int):
    """Add the chosen patent as a candidate (source 人工添加) with a note for the enterprise."""
    patent_id = int_arg(request.form.get("patent_id"))
    try:
        match = manual.add_candidate(current_user, demand_id, patent_id, request.form.get("note"))
    except ValidationFailed as exc:
        return _add_page(demand_id, error=exc.message), 422
    except (InvalidTransition, ConflictError) as exc:
        flash(exc.message, "error")
        return redirect(url_for("review.add_candidate", demand_id=demand_id))
    flash(f"已把《{match.patent.title}》添加为候选，可在审核队列中采纳并推送", "success")
    return redirect(url_for("matching.demand_matches", demand_id=demand_id))


# ---------------------------------------------------------------------------- rejections


def _stats(filters: queries.StatsFilters, limit: int | None = queries.TOP_PATENTS):
    return (
        queries.rejections_by_university(current_user, filters),
        queries.rejections_by_patent(current_user, filters, limit),
    )


@bp.get("/rejections")
@roles_required(*STATS_ROLES)
def rejections():
    filters = queries.parse_stats_filters(request.args, current_user)
    universities, patents = _stats(filters)
    all_universities = permissions.sees_all_universities(current_user)
    choices = (
        universities
        if not filters.university
        else queries.rejections_by_university(current_user, queries.StatsFilters(days=filters.days))
    )
    return render_template(
        "review/rejections.html",
        filters=filters,
        universities=universities,
        patents=patents,
        total=queries.reason_totals(universities),
        reasons=REJECT_REASONS,
        chart=charts.reasons_by_university(universities),
        chart_height=charts.chart_height(universities),
        scope=permissions.scope_label(current_user),
        university_choices=[(r.id, r.name) for r in choices] if all_universities else [],
        top_n=queries.TOP_PATENTS,
    )


@bp.get("/rejections.xlsx")
@roles_required(*STATS_ROLES)
def export_rejections():
    """The page's figures in two sheets; every patent with a rejection, not only the top."""
    filters = queries.parse_stats_filters(request.args, current_user)
    universities, patents = _stats(filters, limit=None)
    return send_xlsx(
        partial(export.write_rejections, universities=universities, patents=patents),
        f"匹配否决原因统计-{local_today():%Y%m%d}.xlsx",
    )


# ---------------------------------------------------------------------------- panel


def patent_panel(patent: Patent) -> dict[str, Any] | None:
    """Data of ``_patent_panel.html``; None when the viewer may not see it."""
    if not permissions.can_see_patent_feedback(current_user, patent):
        return None
    row = queries.patent_feedback(patent.id)
    return {
        "row": row,
        "reasons": row.top_reasons(),
        "stats_link": current_user.role in STATS_ROLES,
    }


@bp.app_context_processor
def _panels() -> dict[str, Any]:
    return {"review_patent_panel": patent_panel}
