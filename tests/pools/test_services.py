"""Pools: define, rank in a worker (the run row is the record), curate, propose new patents."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.errors import ConflictError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.pools import services
from revive.pools.models import (
    IndustryMode,
    MemberSource,
    MemberState,
    PoolDemand,
    PoolPatent,
    PoolRun,
    PoolRunKind,
    PoolRunStatus,
)
from tests.factories import make_user
from tests.matching.helpers import drain, entered
from tests.pools.helpers import COW, build_index, make_pool, ranked_pool, world


def _members(pool_id, model=PoolPatent):
    return list(db.session.scalars(sa.select(model).where(model.pool_id == pool_id)))


def test_ranking_runs_in_the_worker_and_proposes_candidates_with_reasons(app, enqueued):
    w = world()
    build_index(enqueued)
    pool = make_pool(w["officer"])
    run = services.request_ranking(pool.id, actor=w["officer"])
    assert run.status == PoolRunStatus.QUEUED
    assert ("pools.run", (run.id,)) in enqueued
    drain(enqueued)
    db.session.refresh(run)
    assert run.status == PoolRunStatus.SUCCEEDED and run.index_version
    rows = sorted(_members(pool.id), key=lambda m: m.rank)
    ids = [m.patent_id for m in rows]
    assert set(ids[:2]) == {w["patents"]["dairy"].id, w["patents"]["cow"].id}
    assert all(m.state == MemberState.CANDIDATE for m in rows)
    assert rows[0].reasons and all(isinstance(r, str) for r in rows[0].reasons)
    demands = sorted(_members(pool.id, PoolDemand), key=lambda m: m.rank)
    assert demands and demands[0].demand_id == w["dairy_demand"].id
    assert run.patent_count == len(rows) and run.demand_count == len(demands)


def test_ranking_is_the_measured_query(app, enqueued):
    """index.query([demand_tokens(name, description + " " + key_terms)]) — eval/pools."""
    from revive import engine
    from revive.matching import indexes

    w = world()
    build_index(enqueued)
    pool = ranked_pool(w["officer"], enqueued)
    _, index = indexes.load_active_index()
    tokens = engine.demand_tokens(pool.name, pool.description + " " + pool.key_terms)
    expected = [int(c.right_id) for c in index.query([tokens], top_k=100, min_score=0.0)[0]]
    entered_ids = {p.id for p in w["patents"].values()}
    rows = sorted(_members(pool.id), key=lambda m: m.rank)
    assert [m.patent_id for m in rows] == [i for i in expected if i in entered_ids]


def test_restrict_keeps_only_patents_of_the_industry_codes(app, enqueued):
    w = world()
    build_index(enqueued)
    pool = ranked_pool(
        w["officer"], enqueued, industry_codes="C144", industry_mode=IndustryMode.RESTRICT
    )
    assert [m.patent_id for m in _members(pool.id)] == [w["patents"]["dairy"].id]


def test_curation_includes_and_excludes_with_audit(app, enqueued):
    w = world()
    build_index(enqueued)
    pool = ranked_pool(w["officer"], enqueued)
    rows = {m.patent_id: m for m in _members(pool.id)}
    keep, drop = rows[w["patents"]["dairy"].id], rows[w["patents"]["cow"].id]
    services.decide_members(pool.id, "patent", [keep.id], "include", actor=w["officer"])
    services.decide_members(
        pool.id, "patent", [drop.id], "exclude", actor=w["officer"], comment="只要乳品加工"
    )
    db.session.expire_all()
    assert keep.state == MemberState.INCLUDED and keep.decided_by_id == w["officer"].id
    assert drop.state == MemberState.EXCLUDED and drop.comment == "只要乳品加工"
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity == "pool", AuditEvent.entity_id == pool.id)
    ).all()
    assert {e.action for e in events} >= {"create", "rank", "include_patent", "exclude_patent"}
    # Re-ranking keeps the decisions.
    services.request_ranking(pool.id, actor=w["officer"])
    drain(enqueued)
    db.session.expire_all()
    assert keep.state == MemberState.INCLUDED and drop.state == MemberState.EXCLUDED


def test_stale_version_is_a_conflict_and_roles_are_checked(app, enqueued):
    w = world()
    build_index(enqueued)
    pool = ranked_pool(w["officer"], enqueued)
    row = _members(pool.id)[0]
    with pytest.raises(ConflictError):
        services.decide_members(
            pool.id, "patent", [row.id], "include", actor=w["officer"], expected_version=99
        )
    with pytest.raises(PermissionDenied):
        services.decide_members(
            pool.id, "patent", [row.id], "include", actor=make_user(Role.REGULATOR)
        )
    with pytest.raises(ValidationFailed):
        services.decide_members(
            pool.id, "patent", list(range(1, 1200)), "include", actor=w["officer"]
        )


def test_newly_entered_patents_above_the_bar_are_proposed_after_an_index_build(app, enqueued):
    w = world()
    build_index(enqueued)
    pool = ranked_pool(w["officer"], enqueued)
    before = {m.patent_id for m in _members(pool.id)}
    newcomer = entered(w["uni"], title="一种低乳糖奶粉的制备方法", abstract=COW["abstract"])
    weak = entered(w["uni"], title="一种桥梁结构健康监测方法", abstract="监测桥梁应变。")
    build_index(enqueued)  # the build's signal queues a proposal run per ranked pool
    runs = db.session.scalars(sa.select(PoolRun).where(PoolRun.kind == PoolRunKind.PROPOSE)).all()
    assert runs and all(r.status == PoolRunStatus.SUCCEEDED for r in runs)
    proposed = {m.patent_id: m for m in _members(pool.id) if m.patent_id not in before}
    assert newcomer.id in proposed and weak.id not in proposed
    assert proposed[newcomer.id].source == MemberSource.NEW
    assert proposed[newcomer.id].state == MemberState.CANDIDATE  # never added silently


def test_no_index_fails_the_run_with_a_chinese_message(app, enqueued):
    w = world()
    pool = make_pool(w["officer"])
    run = services.request_ranking(pool.id, actor=w["officer"])
    drain(enqueued)
    db.session.refresh(run)
    assert run.status == PoolRunStatus.FAILED and "匹配索引" in run.error


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "请填写名称"),
        ({"industry_codes": "乳业"}, "行业代码"),
        ({"industry_codes": "Z99"}, "行业代码"),
        ({"bar": "2"}, "推荐阈值"),
        ({"industry_mode": "restrict"}, "请先填写行业代码"),
    ],
)
def test_pool_definition_is_validated(app, data, message):
    officer = make_user(Role.OFFICER)
    with pytest.raises(ValidationFailed, match=message):
        make_pool(officer, **data)


def test_codes_accept_names_and_separators(app):
    assert services.parse_codes("C144 乳制品制造，A0311；C3841") == ["C144", "A0311", "C3841"]
