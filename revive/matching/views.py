"""Matching pages (blueprint "matching"): engine admin (index builds, runs, the strength model
and its refits), run/build progress, a demand's matches (strength, sub-needs, weak ones folded),
one match with its reasons marked in both texts and the officer's decision (its form posts to
the one decision route, ``review.decide``, with ``back=match``).

The demand and patent pages of other blueprints include ``matching/_demand_matches.html`` and
``matching/_patent_demands.html``; their data comes from the template globals registered here
(``matching_demand_panel(demand)``, ``matching_patent_panel(patent)``), so those views need no
matching code.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from revive.accounts.models import Role
from revive.accounts.permissions import roles_required
from revive.demands.models import Demand
from revive.errors import InvalidTransition, NotFoundError, ValidationFailed
from revive.inventory.models import Patent
from revive.matching import jobs, manual, pairs, permissions, queries, tokens
from revive.matching import strength as matching_strength
from revive.matching.highlight import as_written, highlight
from revive.matching.models import RunScope
from revive.matching.permissions import STAFF_ROLES
from revive.matching.reasons import REJECT_REASONS

bp = Blueprint("matching", __name__, url_prefix="/matching")


@bp.get("/")
@roles_required(*STAFF_ROLES)
def engine():
    return render_template(
        "matching/engine.html",
        active=jobs.active_build(),
        building=queries.active_build_in_progress(),
        builds=queries.recent_builds(),
        runs=queries.recent_runs(),
        counts=queries.count_matches_by_state(),
        pending=queries.pending_counts(),
        strength=queries.strength_overview(),
        can_refit=current_user.role == Role.PLATFORM_ADMIN,
    )


@bp.post("/strength-models")
@roles_required(Role.PLATFORM_ADMIN)
def refit_strength():
    """Refit match strength from the officers' decisions now (also done daily)."""
    row = matching_strength.request_strength_refit(current_user)
    flash(f"已提交匹配强度模型的重新训练 #{row.id}（{row.status.label}）", "success")
    return redirect(url_for("matching.engine", _anchor="strength"))


@bp.post("/index-builds")
@roles_required(*STAFF_ROLES)
def rebuild():
    build = jobs.request_index_build(actor=current_user)
    flash(f"已提交索引构建 #{build.id}", "success")
    return redirect(url_for("matching.build_page", build_id=build.id))


@bp.get("/index-builds/<int:build_id>")
@roles_required(*STAFF_ROLES)
def build_page(build_id: int):
    build = queries.get_build_for(current_user, build_id)
    return render_template("matching/build.html", build=build, active=build.status in jobs.ACTIVE)


@bp.post("/runs")
@roles_required(*STAFF_ROLES)
def rematch_all():
    run = jobs.request_match_run(RunScope.ALL_DEMANDS, actor=current_user)
    flash(f"已提交全部开放需求的重新匹配 #{run.id}", "success")
    return redirect(url_for("matching.run_page", run_id=run.id))


@bp.get("/runs/<int:run_id>")
@login_required
def run_page(run_id: int):
    run = queries.get_run_for(current_user, run_id)
    return render_template("matching/run.html", run=run, active=run.status in jobs.ACTIVE)


@bp.get("/demands/<int:demand_id>")
@login_required
def demand_matches(demand_id: int):
    demand = permissions.get_demand_for_matches(current_user, demand_id)
    return render_template("matching/demand.html", demand=demand)


@bp.post("/demands/<int:demand_id>/runs")
@roles_required(*STAFF_ROLES)
def rematch_demand(demand_id: int):
    try:
        run = jobs.request_match_run(RunScope.DEMAND, demand_id, actor=current_user)
    except InvalidTransition as exc:  # closed meanwhile (a stale page)
        flash(exc.message, "error")
        return redirect(url_for("matching.demand_matches", demand_id=demand_id))
    flash(f"已提交重新匹配 #{run.id}", "success")
    return redirect(url_for("matching.demand_matches", demand_id=demand_id))


@bp.post("/demands/<int:demand_id>/ask-detail")
@roles_required(*STAFF_ROLES)
def ask_detail(demand_id: int):
    """请企业补充技术细节: notify the enterprise of a thin posting (matching.manual)."""
    back = request.form.get("back") == "review"
    try:
        demand = manual.ask_for_detail(demand_id, current_user, request.form.get("note"))
    except (InvalidTransition, ValidationFailed) as exc:
        flash(exc.message, "error")
    else:
        flash(f"已通知{demand.enterprise.name}补充需求的技术细节", "success")
    if back:
        return redirect(url_for("review.queue", _anchor=f"demand-{demand_id}"))
    return redirect(url_for("matching.demand_matches", demand_id=demand_id))


@bp.get("/matches/<int:match_id>")
@login_required
def match_page(match_id: int):
    match = queries.get_match_for(current_user, match_id)
    shown = pairs.reasons_of(match)
    bar, strong = matching_strength.thresholds()
    is_staff = permissions.is_staff(current_user)
    return render_template(
        "matching/match.html",
        match=match,
        # engine internals (similarity, rank, index and model versions): staff only
        rank_total=queries.ranked_count(match.demand_id) if is_staff and match.rank else None,
        shown_reasons=shown,
        need_label=queries.need_label_of(match),
        demand_html=highlight(match.demand.text, shown),
        patent_html=highlight(patent_full_text(match.patent), shown),
        is_staff=is_staff,
        model_label=matching_strength.model_label(match.model_version) if is_staff else None,
        reasons=REJECT_REASONS,
        bar=bar,
        strong=strong,
        is_short=match.demand_id in queries.short_demands([match.demand_id]),
    )


# ---------------------------------------------------------------------------- panels


def demand_panel(demand: Demand) -> dict[str, Any] | None:
    """Data of ``_demand_matches.html`` (staff: every proposal, the reading, re-match); None
    for everyone else — the owning enterprise's view of its demand is the pool's panel
    (``pool/_demand_panel.html``: suggestions, status, pushed with notes, intents)."""
    if not permissions.is_staff(current_user):
        return None
    run = queries.latest_run_for_demand(demand.id)
    proposals = queries.proposals_for_demand(current_user, demand)
    return {
        "proposals": proposals,
        "matches": proposals.matches,
        "run": run,
        "run_active": run is not None and run.status in jobs.ACTIVE,
        "is_staff": permissions.is_staff(current_user),
    }


def patent_panel(patent: Patent) -> dict[str, Any] | None:
    """Data of ``_patent_demands.html``; None when the viewer may not see it."""
    if not current_user.is_authenticated:
        return None
    try:
        found = pairs.demands_for_patent(current_user, patent)
    except NotFoundError:
        return None
    matches = pairs.candidate_rows(patent, [d.id for d, _, _ in found.listed])
    weak = {d for d, m in matches.items() if queries.is_weak(m)}
    return {
        # as the demand side shows them: weak candidates folded (显示较弱候选)
        "demands": [row for row in found.listed if row[0].id not in weak],
        "weak": [row for row in found.listed if row[0].id in weak],
        # the pair's candidate row in the demand's own list (its strength)
        "matches": matches,
        "short": queries.short_demands(list(matches)),
        "thresholds": matching_strength.thresholds(),
        "left_out": found.left_out,
        "patent_rule": found.patent_rule,
        "accepted": found.accepted,
        # read only when nothing was found
        "has_index": bool(found.listed or found.left_out) or jobs.active_build() is not None,
        "is_staff": permissions.is_staff(current_user),
    }


def patent_full_text(patent: Patent) -> str:
    """The patent as the matcher read it (title, field, abstract, problem, advantages …)."""
    return "\n".join(p for p in (patent.title, tokens.patent_text(patent)) if p)


_SENTENCE_END = re.compile(r"(?<=[。；！？!?;\n])")
EXCERPT_SENTENCES = 3


def patent_excerpt(patent: Patent, reasons: list[str] | None) -> str:
    """The sentences of the patent's text that hold a reason (at most EXCERPT_SENTENCES, in
    order, "…" between them), else its first sentence: what the review queue shows of each
    candidate. The whole text of every candidate made a queue of 10 demands 818 KB (a
    tester); the match page keeps the whole text."""
    text = patent_full_text(patent)
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    marked = [s.strip() for s in sentences if any(r and r in s for r in reasons or ())]
    chosen = marked[:EXCERPT_SENTENCES] or [s.strip() for s in sentences[:1]]
    return " … ".join(chosen) + (" …" if len(chosen) < len(sentences) else "")


# Strength and thresholds in percent, as every page shows them (macros of matching/_trust.html
# and pool/_macros.html, imported without context).
bp.add_app_template_global(matching_strength.strength_text, "strength_pct")
bp.add_app_template_global(matching_strength.seen_share, "seen_share")
bp.add_app_template_global(matching_strength.share_basis, "share_basis")
bp.add_app_template_global(matching_strength.model_label, "model_label")
bp.add_app_template_global(matching_strength.threshold_text, "threshold_pct")
bp.add_app_template_global(jobs.notice, "job_notice")
bp.add_app_template_global(as_written, "reason_as_written")  # reason chips: COD, not cod
bp.add_app_template_global(REJECT_REASONS, "reject_reasons")  # the demand list's 否决 forms


@bp.app_context_processor
def _panels() -> dict[str, Any]:
    return {
        "matching_demand_panel": demand_panel,
        "patent_excerpt": patent_excerpt,
        "matching_patent_panel": patent_panel,
        "highlight_reasons": highlight,
        "patent_full_text": patent_full_text,
    }
