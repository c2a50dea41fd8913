"""Matching JSON routes: a demand's matches, run and index-build progress, re-match / rebuild,
and the officer's decision. Errors: ``{"error", "message"}`` (revive.errors); writes need the
``X-CSRFToken`` header like every API write.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user, login_required

from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import iso, optional_int, optional_json_body, optional_text
from revive.matching import jobs, permissions, queries
from revive.matching.models import IndexBuild, Match, MatchRun, RunScope, RunStatus
from revive.matching.permissions import STAFF_ROLES
from revive.review import services as review_services


def _job_json(job: MatchRun | IndexBuild) -> dict[str, Any]:
    """Status and progress (0–1) of a match run or an index build."""
    done = job.status == RunStatus.SUCCEEDED
    return {
        "id": job.id,
        "status": job.status.value,
        "status_label": job.status.label,
        "is_active": job.status in jobs.ACTIVE,
        "progress": 1.0 if done else _fraction(job.processed, job.total),
        "total": job.total,
        "processed": job.processed,
        "error": job.error,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
    }


def _fraction(processed: int, total: int) -> float:
    return round(min(processed / total, 1.0), 4) if total else 0.0


def run_json(run: MatchRun) -> dict[str, Any]:
    return {
        **_job_json(run),
        "scope": run.scope.value,
        "scope_label": run.scope.label,
        "demand_id": run.demand_id,
        "match_count": run.match_count,
        "index_version": run.index_version,
    }


def build_json(build: IndexBuild) -> dict[str, Any]:
    return {
        **_job_json(build),
        "version": build.id,
        "doc_count": build.doc_count,
        "vocab_size": build.vocab_size,
    }


def match_json(m: Match, *, staff: bool) -> dict[str, Any]:
    p = m.patent
    out: dict[str, Any] = {
        "id": m.id,
        "demand_id": m.demand_id,
        "patent": {
            "id": p.id,
            "application_no": p.application_no,
            "title": p.title,
            "institution": p.institution.name,
            "college": p.college.name if p.college else None,
            "inventors": p.inventors,
            "value_grade": p.value_grade,
            "trl": p.trl,
            "transfer_willingness": p.transfer_willingness.value
            if p.transfer_willingness
            else None,
            "transfer_willingness_label": p.transfer_willingness.label
            if p.transfer_willingness
            else None,
        },
        "score": m.score,
        "rank": m.rank,
        # Match strength: P(relevant) and its tier (强/中/弱) when proposed; null on rows
        # from before strength. ``need``: the sub-need it answers (index into the demand's
        # reading); ``reasons``: spans both texts share (what people are shown).
        "strength": m.strength,
        "tier": m.tier.value if m.tier else None,
        "tier_label": m.tier.label if m.tier else None,
        "need": m.need,
        "reasons": list(m.reasons or []),
        # The index's top contributing terms (fragments; kept for API clients).
        "terms": m.terms,
        "trl_below_expectation": m.trl_below_expectation,
        "state": m.state.value,
        "state_label": m.state.label,
        # who brought the pair: the engine, an enterprise's intent (申请对接), an officer
        "source": m.source.value,
        "source_label": m.source.label,
        "has_intent": m.intent_at is not None,
        "index_version": m.index_version,
        "version": m.version,
    }
    if staff:
        out.update(
            run_id=m.run_id,
            note=m.note,
            intent_message=m.intent_message,
            intent_at=iso(m.intent_at),
            comment=m.comment,
            reason_code=m.reason_code,
            decided_at=iso(m.decided_at),
            # the features at proposal time and the model that assessed them
            chars=m.chars,
            coverage=m.coverage,
            demand_mass=m.demand_mass,
            model_version=m.model_version,
        )
    return out


def reading_json(dp: queries.DemandProposals) -> dict[str, Any] | None:
    """How matching read the demand (staff): sub-needs, thin, abstaining, thresholds."""
    r = dp.reading
    if r is None:
        return None
    return {
        "needs": [{"index": i, "label": n.get("label", "")} for i, n in enumerate(r.needs or [])],
        "removed": list(r.removed or []),
        "is_thin": r.is_thin,
        "is_abstaining": dp.abstains,
        "best_strength": r.best_strength,
        "bar": dp.bar,
        "strong": dp.strong,
        "demand_version": r.demand_version,
        "matched_at": iso(r.updated_at),
    }


@bp.get("/demands/<int:demand_id>/matches")
@login_required
def demand_matches(demand_id: int):
    """Matches of a demand. Staff: all (accepted, candidates by strength, rejected) and how
    the demand was read; the owning enterprise: accepted ones. Output: {demand_id, items:
    [match…], latest_run: run | null, reading (staff): {needs, removed, is_thin,
    is_abstaining, best_strength, bar, strong, …} | null}."""
    demand = permissions.get_demand_for_matches(current_user, demand_id)
    staff = permissions.is_staff(current_user)
    run = queries.latest_run_for_demand(demand.id)
    proposals = queries.proposals_for_demand(current_user, demand)
    out: dict[str, Any] = {
        "demand_id": demand.id,
        "items": [match_json(m, staff=staff) for m in proposals.matches],
        "latest_run": run_json(run) if run else None,
    }
    if staff:
        out["reading"] = reading_json(proposals)
    return jsonify(out)


@bp.post("/demands/<int:demand_id>/match-runs")
@roles_required(*STAFF_ROLES)
def create_match_run(demand_id: int):
    """Re-match one demand now (officer, platform admin). 202 with the (possibly coalesced)
    queued run."""
    run = jobs.request_match_run(RunScope.DEMAND, demand_id, actor=current_user)
    return jsonify(run_json(run)), 202


@bp.get("/match-runs/<int:run_id>")
@login_required
def match_run(run_id: int):
    """A run's progress: {id, scope, demand_id, status, is_active, progress (0–1), total,
    processed, match_count, index_version, error, …}. Staff, or the demand's enterprise."""
    return jsonify(run_json(queries.get_run_for(current_user, run_id)))


@bp.post("/index-builds")
@roles_required(*STAFF_ROLES)
def create_index_build():
    """Rebuild the index (officer, platform admin). 202 with the queued build."""
    return jsonify(build_json(jobs.request_index_build(actor=current_user))), 202


@bp.get("/index-builds/<int:build_id>")
@roles_required(*STAFF_ROLES)
def index_build(build_id: int):
    """A build's progress: {id, version, status, is_active, progress, doc_count, vocab_size,
    error, …}."""
    return jsonify(build_json(queries.get_build_for(current_user, build_id)))


@bp.post("/matches/<int:match_id>/decision")
@roles_required(*STAFF_ROLES)
def decide_match(match_id: int):
    """Accept or reject a candidate. Input JSON: {decision: "accepted"|"rejected", comment?
    (on accept: the recommendation note pushed with the deal), reason_code?, version?}.
    Output: the match. 409 when already decided or stale."""
    data = optional_json_body()
    match = review_services.decide(
        match_id,
        optional_text(data, "decision") or "",
        current_user,
        reason_code=optional_text(data, "reason_code"),
        comment=optional_text(data, "comment"),
        expected_version=optional_int(data, "version"),
    )
    return jsonify(match_json(match, staff=True))
