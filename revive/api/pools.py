"""JSON API: industry pools (read-only). Same rules as the pages (revive.pools): staff and the
regulator; errors are ``{"error", "message"}``.

GET /api/v1/pools                          the pools with their counts
GET /api/v1/pools/<pool_id>                one pool: definition, counts, latest run, funnel,
                                           tiers, universities
GET /api/v1/pools/<pool_id>/members        its patents (kind=patent, default) or demands
                                           (kind=demand), optionally by state, paginated
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from revive.accounts.permissions import roles_required
from revive.api import bp
from revive.api.common import enum_pair, iso, paginated, requested_page, requested_per_page
from revive.dashboard import funnel
from revive.inventory.models import Patent
from revive.pools import queries, services
from revive.pools.models import MemberState, Pool, PoolRun
from revive.pools.services import READ_ROLES


def _run_json(run: PoolRun | None) -> dict[str, Any] | None:
    if run is None:
        return None
    kind, kind_label = enum_pair(run.kind)
    status, status_label = enum_pair(run.status)
    return {
        "id": run.id,
        "kind": kind,
        "kind_label": kind_label,
        "status": status,
        "status_label": status_label,
        "index_version": run.index_version,
        "total": run.total,
        "patent_count": run.patent_count,
        "demand_count": run.demand_count,
        "error": run.error,
        "created_at": iso(run.created_at),
        "finished_at": iso(run.finished_at),
    }


def pool_json(s: queries.PoolSummary) -> dict[str, Any]:
    p: Pool = s.pool
    mode, mode_label = enum_pair(p.industry_mode)
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "key_terms": p.key_terms,
        "industry_codes": p.codes,
        "industry_mode": mode,
        "industry_mode_label": mode_label,
        "bar": services.bar_of(p),
        "counts": {
            "included": s.included,
            "candidates": s.candidates,
            "new_candidates": s.new_candidates,
            "excluded": s.excluded,
            "demands_included": s.demands_included,
            "demands_candidates": s.demands_candidates,
            "universities": s.universities,
        },
        "latest_run": _run_json(s.latest_run),
        "updated_at": iso(p.updated_at),
    }


@bp.get("/pools")
@roles_required(*READ_ROLES)
def list_pools():
    """Every pool. Output: {items: [pool as in the list]}."""
    return jsonify(items=[pool_json(s) for s in queries.summaries()])


@bp.get("/pools/<int:pool_id>")
@roles_required(*READ_ROLES)
def get_pool(pool_id: int):
    """One pool with the funnel of its included patents (every rate with its denominator),
    its promotion tiers and universities."""
    pool = services.get_pool(pool_id)
    counts = funnel.funnel_counts(Patent.id.in_(queries.included_patent_ids(pool.id)))
    out = pool_json(queries.summary(pool))
    out["funnel"] = counts.to_dict()["steps"]
    out["tiers"] = [
        {"tier": t.value, "label": t.label, "count": n} for t, n in queries.tiers(pool.id).items()
    ]
    out["universities"] = [
        {"id": i, "name": name, "region": region, "patents": n}
        for i, name, region, n in queries.universities(pool.id)
    ]
    return jsonify(out)


def _state() -> MemberState | None:
    raw = request.args.get("state")
    return queries.STATES.get(raw) if raw else None  # an unknown state: every state


def _member(row: Any) -> dict[str, Any]:
    m = row[0]
    state, state_label = enum_pair(m.state)
    return {
        "id": m.id,
        "state": state,
        "state_label": state_label,
        "score": round(m.score, 6),
        "rank": m.rank,
        "reasons": list(m.reasons or []),
        "decided_at": iso(m.decided_at),
        "version": m.version,
    }


def _patent_member(row: Any) -> dict[str, Any]:
    out = _member(row)
    member, patent, institution, _college, tier = row
    source, source_label = enum_pair(member.source)
    out.update(
        source=source,
        source_label=source_label,
        patent={
            "id": patent.id,
            "application_no": patent.application_no,
            "title": patent.title,
            "institution": institution,
            "industry_code": patent.industry_code,
            "status": patent.status.value,
            "tier": tier,
        },
    )
    return out


def _demand_member(row: Any) -> dict[str, Any]:
    out = _member(row)
    _m, demand, enterprise, region = row
    out["demand"] = {
        "id": demand.id,
        "title": demand.title,
        "enterprise": enterprise,
        "region": region,
        "status": demand.status.value,
    }
    return out


@bp.get("/pools/<int:pool_id>/members")
@roles_required(*READ_ROLES)
def pool_members(pool_id: int):
    """Query: kind (patent | demand; default patent), state (candidate | included | excluded;
    default every state), page, per_page (≤ 100). Output: {items, _meta}."""
    pool = services.get_pool(pool_id)
    page, per_page = requested_page(), requested_per_page()
    if request.args.get("kind") == "demand":
        rows = queries.demand_page(pool.id, _state(), page, per_page)
        return paginated(rows, _demand_member)
    rows = queries.patent_page(pool.id, _state(), page, per_page)
    return paginated(rows, _patent_member)
