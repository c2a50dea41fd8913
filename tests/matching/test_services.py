"""Matching services called as the worker calls them (no broker: the enqueue spy + drain)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from revive import engine, signals
from revive.accounts.models import Role
from revive.db import utcnow
from revive.demands.models import Demand, DemandStatus
from revive.errors import ConflictError, InvalidTransition, PermissionDenied
from revive.extensions import db
from revive.inventory.models import EntryStatus, ImplementationStatus, PatentType, Willingness
from revive.matching import indexes, jobs, pairs
from revive.matching import runs as matching_runs
from revive.matching import tokens as matching_tokens
from revive.matching.models import (
    DemandReading,
    IndexBuild,
    Match,
    MatchRun,
    MatchState,
    MatchTier,
    ModelStatus,
    PatentTokens,
    RunScope,
    RunStatus,
    StrengthModelVersion,
)
from tests.factories import make_org, make_patent, make_user
from tests.matching.helpers import (
    BATTERY,
    BATTERY_DEMAND,
    decide_match,
    drain,
    entered,
    make_demand,
    pool,
)


def _matches(demand_id: int) -> list[tuple[int, str, float, int | None]]:
    db.session.expire_all()
    rows = db.session.scalars(
        sa.select(Match).where(Match.demand_id == demand_id).order_by(Match.patent_id)
    )
    return [(m.patent_id, m.state.value, m.score, m.rank) for m in rows]


def _ready(enqueued) -> IndexBuild:
    """Build an index over what exists now; returns the active build."""
    jobs.request_index_build()
    drain(enqueued)
    build = jobs.active_build()
    assert build is not None
    return build


# ---------------------------------------------------------------------------- tokens


def test_tokenize_stores_tokens_and_skips_unchanged(app, enqueued):
    p = entered(**BATTERY)
    assert matching_tokens.tokenize_patents([p.id]) == {"checked": 1, "tokenized": 1}
    record = db.session.get(PatentTokens, p.id)
    assert record.tokenizer_version == engine.TOKENIZER_VERSION
    assert record.text_hash == matching_tokens.text_hash(p.title, matching_tokens.patent_text(p))
    assert record.tokens.split() == engine.patent_tokens(p.title, matching_tokens.patent_text(p))

    assert matching_tokens.tokenize_patents([p.id])["tokenized"] == 0
    assert matching_tokens.tokenize_patents(None)["tokenized"] == 0  # nothing stale


def test_tokens_stored_by_a_pass_running_beside_this_one_are_no_crash(app, enqueued, monkeypatch):
    """A tokenize task and an index build's catch-up can store the same new patent's first
    tokens at once: the second insert is refused by the unique patent id. The batch is
    stored again instead of failing the build (here the other pass's row arrives, through the
    same session, between this pass's read and its write)."""
    p = entered(**BATTERY)
    real = engine.patent_tokens
    raced = {"n": 0}

    def racing(title, text):
        if not raced["n"]:
            raced["n"] += 1
            db.session.add(
                PatentTokens(
                    patent_id=p.id,
                    tokens="旧",
                    text_hash="other-pass",
                    tokenizer_version=engine.TOKENIZER_VERSION,
                    updated_at=utcnow(),
                )
            )
        return real(title, text)

    monkeypatch.setattr(matching_tokens.engine, "patent_tokens", racing)
    assert matching_tokens.tokenize_patents([p.id], follow_up=False)["tokenized"] == 1
    record = db.session.get(PatentTokens, p.id)
    assert record.text_hash == matching_tokens.text_hash(p.title, matching_tokens.patent_text(p))


def test_tokenize_none_finds_missing_changed_and_old_version(app, enqueued):
    a, b, c = entered(**BATTERY), entered(title="一种温度传感器"), entered(title="一种阀门")
    matching_tokens.tokenize_patents([a.id, b.id, c.id])
    b.abstract = "新增的摘要：提高测量精度"
    db.session.commit()
    db.session.get(PatentTokens, c.id).tokenizer_version = "old"
    db.session.commit()
    d = entered(title="一种新专利")

    assert matching_tokens.tokenize_patents(None) == {"checked": 3, "tokenized": 3}
    assert "精度" in db.session.get(PatentTokens, b.id).tokens.split()
    assert db.session.get(PatentTokens, d.id) is not None


def test_patents_changed_signal_enqueues_tokenize_only(app, enqueued):
    signals.patents_changed.send(None, patent_ids=[3, 1, 3])
    signals.patents_changed.send(None, patent_ids=None)
    assert enqueued == [("matching.tokenize", ([1, 3],)), ("matching.tokenize", (None,))]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PatentTokens)) == 0


def test_text_change_requests_rebuild_status_change_requests_rematch(app, enqueued):
    patents = pool()
    _ready(enqueued)
    p = patents["water"]
    p.transfer_willingness = Willingness.NOT_NOW  # eligibility only: no rebuild
    db.session.commit()
    matching_tokens.tokenize_patents([p.id])
    assert [name for name, _ in enqueued] == ["matching.match_run"]

    enqueued.clear()
    p.abstract = "改为新的摘要：膜材料抗污染"
    db.session.commit()
    matching_tokens.tokenize_patents([p.id])
    assert [name for name, _ in enqueued] == ["matching.build_index"]


# ---------------------------------------------------------------------------- index builds


def test_index_build_writes_artifact_and_becomes_active(app, enqueued):
    pool()
    build = jobs.request_index_build()
    assert enqueued == [("matching.build_index", (build.id,))]
    assert build.status == RunStatus.QUEUED

    indexes.execute_index_build(build.id)
    db.session.refresh(build)
    assert build.status == RunStatus.SUCCEEDED
    assert build.doc_count == 3 and build.vocab_size > 0
    folder = Path(build.path)
    assert folder.name == f"v{build.id}"
    assert folder.parent == Path(app.config["REVIVE_DATA_DIR"]) / "index"
    assert (folder / "meta.json").exists()
    assert not list(folder.parent.glob(f".tmp-v{build.id}-*"))  # temp folder renamed
    assert jobs.active_build().id == build.id
    # after a build every open demand is re-matched
    assert enqueued[-1][0] == "matching.match_run"
    run = db.session.get(MatchRun, enqueued[-1][1][0])
    assert run.scope == RunScope.ALL_DEMANDS


def test_index_build_coalesces_queued_builds(app, enqueued):
    first = jobs.request_index_build()
    second = jobs.request_index_build()
    assert first.id == second.id
    assert enqueued == [("matching.build_index", (first.id,))]


def test_index_build_redelivered_after_success_does_nothing(app, enqueued):
    pool()
    build = _ready(enqueued)
    finished = build.finished_at
    indexes.execute_index_build(build.id)
    db.session.refresh(build)
    assert build.finished_at == finished
    assert enqueued == []


def test_index_build_without_patents_fails_visibly(app, enqueued):
    demand = make_demand()
    run = jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    db.session.expire_all()
    build = db.session.scalar(sa.select(IndexBuild))
    assert build.status == RunStatus.FAILED and "暂无" in build.error
    assert db.session.get(MatchRun, run.id).status == RunStatus.FAILED


def test_a_crashed_index_build_tells_users_without_the_internals(app, enqueued, monkeypatch):
    """The failure is shown on the engine page: what failed and what to do, not the SQL of
    the statement or a path (those go to the log)."""
    pool()

    def crash(build):
        raise sa.exc.IntegrityError("INSERT INTO patent_tokens (patent_id)", {}, Exception("x"))

    monkeypatch.setattr(indexes, "_full_index", crash)
    build = jobs.request_index_build(kind="full")
    with pytest.raises(sa.exc.IntegrityError):
        indexes.execute_index_build(build.id)
    db.session.expire_all()
    build = db.session.get(IndexBuild, build.id)
    assert build.status == RunStatus.FAILED
    assert build.error.startswith(indexes.BUILD_FAILED)
    assert "IntegrityError" in build.error and "INSERT" not in build.error


def test_index_loaded_once_per_version(app, enqueued, monkeypatch):
    monkeypatch.setattr(indexes, "TOKENS_MARGIN_S", 0)  # no catch-up shard in a quick test
    pool()
    _ready(enqueued)
    loads = []
    real = engine.Index.load
    monkeypatch.setattr(
        engine.Index, "load", classmethod(lambda cls, f, **kw: loads.append(f) or real(f, **kw))
    )
    monkeypatch.setattr(indexes, "_loaded", None)
    monkeypatch.setattr(indexes, "REBUILD_SHARE", 1.0)  # no follow-up full rebuild here
    _, first = indexes.load_active_index()
    indexes.load_active_index()
    assert len(loads) == 1
    new = entered(title="一种新的风力发电机叶片")
    signals.patents_changed.send(None, patent_ids=[new.id])  # as the workflow does on entry
    drain(enqueued)
    build, grown = indexes.load_active_index()
    assert len(loads) == 2
    # One new patent: a delta build on top of the active index, sharing its shard in memory.
    assert build.kind == "delta" and build.base_id is not None
    assert [s.name[0] for s in grown.shards] == ["s", "d"]
    assert grown.shards[0] is first.shards[0]
    assert new.id in grown.ids


def test_deltas_are_folded_into_a_background_full_rebuild(app, enqueued, monkeypatch):
    monkeypatch.setattr(indexes, "TOKENS_MARGIN_S", 0)
    pool()
    _ready(enqueued)
    new = entered(title="一种新的风力发电机叶片", abstract="叶片采用碳纤维复合材料，减轻重量。")
    signals.patents_changed.send(None, patent_ids=[new.id])
    drain(enqueued)
    builds = list(db.session.scalars(sa.select(IndexBuild).order_by(IndexBuild.id)))
    # A delta made the patent matchable at once; with deltas over 5 % of the index a full
    # build followed in the background and, covering the latest tokens, became active.
    assert [(b.kind, b.status) for b in builds] == [
        ("full", RunStatus.SUCCEEDED),
        ("delta", RunStatus.SUCCEEDED),
        ("full", RunStatus.SUCCEEDED),
    ]
    assert jobs.active_build().id == builds[2].id
    _, index = indexes.load_active_index()
    assert [s.name for s in index.shards] == ["s000"] and new.id in index.ids


# ---------------------------------------------------------------------------- match runs


def test_demand_without_index_builds_first_then_matches(app, enqueued):
    patents = pool()
    demand = make_demand()
    signals.demand_saved.send(None, demand_id=demand.id, created=True)
    run = db.session.scalar(sa.select(MatchRun).where(MatchRun.demand_id == demand.id))
    assert run.status == RunStatus.QUEUED and run.celery_task_id is None
    assert [name for name, _ in enqueued] == ["matching.build_index"]

    drain(enqueued)
    db.session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED
    assert run.index_version == jobs.active_build().id
    top = db.session.scalar(
        sa.select(Match).where(Match.demand_id == demand.id).order_by(Match.rank).limit(1)
    )
    assert top.patent_id == patents["battery"].id
    assert top.rank == 1 and top.score > 0
    assert any("正极" in term for term, _ in top.terms)


def test_index_from_an_older_engine_format_is_rebuilt_not_fatal(app, enqueued):
    # After an upgrade the active artifact may be in an older format: the run must request a
    # fresh build and complete on it instead of failing.
    import json

    patents = pool()
    jobs.request_index_build()
    drain(enqueued)
    old = jobs.active_build()
    meta_path = Path(old.path) / "meta.json"
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["format"] = 1
    meta_path.write_text(json.dumps(meta), "utf-8")
    indexes._loaded = None  # a freshly started worker process

    demand = make_demand()
    run = jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    db.session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED
    assert run.index_version == jobs.active_build().id != old.id
    top = db.session.scalar(
        sa.select(Match).where(Match.demand_id == demand.id).order_by(Match.rank).limit(1)
    )
    assert top.patent_id == patents["battery"].id


def test_demand_saved_with_index_enqueues_match_run(app, enqueued):
    pool()
    _ready(enqueued)
    demand = make_demand()
    signals.demand_saved.send(None, demand_id=demand.id, created=True)
    run = db.session.scalar(sa.select(MatchRun).where(MatchRun.demand_id == demand.id))
    assert enqueued == [("matching.match_run", (run.id,))]
    # a second save while the first run is still queued coalesces
    signals.demand_saved.send(None, demand_id=demand.id, created=False)
    assert len(enqueued) == 1


def test_match_run_is_idempotent(app, enqueued):
    pool()
    _ready(enqueued)
    demand = make_demand()
    run = jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    first = _matches(demand.id)
    assert first

    matching_runs.execute_match_run(run.id)  # redelivered after success: no change
    assert _matches(demand.id) == first
    versions = dict(db.session.execute(sa.select(Match.id, Match.version)).all())
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)  # a fresh run on the same index gives the same matches
    assert _matches(demand.id) == first
    # ... and leaves unchanged candidates' versions alone, so an officer's open review page
    # (which posts the version it showed) can still accept them
    db.session.expire_all()
    assert dict(db.session.execute(sa.select(Match.id, Match.version)).all()) == versions


def test_a_rerun_that_only_moves_the_figures_keeps_open_review_forms_valid(app, enqueued):
    """A concurrency test: one sentence added to one patent re-ran every demand, nudged every
    score and made 262 of 300 officers' open review forms stale (their decision was refused).
    Figures (score, strength, rank) are stored without a new version; a new tier or new
    reasons still give one."""
    pool()
    _ready(enqueued)
    demand = make_demand()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    before = {
        m.id: (m.version, m.score, m.tier, list(m.reasons))
        for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id))
    }
    entered(title="一种茶园滴灌控制阀", abstract="滴灌控制阀按土壤湿度开闭，节水。")
    _ready(enqueued)  # a new index: every IDF moves, the demand is matched again
    db.session.expire_all()
    after = {
        m.id: (m.version, m.score, m.tier, list(m.reasons))
        for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id))
    }
    same = [i for i in before if i in after and before[i][2:] == after[i][2:]]
    moved = [i for i in same if before[i][1] != after[i][1]]
    assert moved, (before, after)  # the figures did move...
    assert all(after[i][0] == before[i][0] for i in same)  # ...without a new version
    changed = [i for i in before if i in after and before[i][2:] != after[i][2:]]
    assert all(after[i][0] > before[i][0] for i in changed)
    officer = make_user(Role.OFFICER)
    decided = decide_match(moved[0], "accepted", officer, expected_version=before[moved[0]][0])
    assert decided.state == MatchState.ACCEPTED


def test_match_run_on_closed_demand_stores_nothing(app, enqueued):
    """A run queued before its demand closed stores nothing; a new one is refused."""
    pool()
    _ready(enqueued)
    demand = make_demand()
    run = jobs.request_match_run(RunScope.DEMAND, demand.id)
    demand.status, demand.closed_at = DemandStatus.CLOSED, sa.func.now()
    db.session.commit()
    with pytest.raises(InvalidTransition, match="需求已关闭，不能重新匹配"):
        jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    db.session.refresh(run)
    assert run.status == RunStatus.SUCCEEDED and run.total == 0
    assert _matches(demand.id) == []


def test_failed_run_records_error(app, enqueued, monkeypatch):
    pool()
    _ready(enqueued)
    demand = make_demand()
    run = jobs.request_match_run(RunScope.DEMAND, demand.id)
    enqueued.clear()

    def boom(*a, **kw):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(engine, "match_demands", boom)  # what a run calls per batch
    with pytest.raises(RuntimeError):
        matching_runs.execute_match_run(run.id)
    db.session.expire_all()
    failed = db.session.get(MatchRun, run.id)
    assert failed.status == RunStatus.FAILED and "engine exploded" in failed.error


# ---------------------------------------------------------------------------- eligibility


def test_only_eligible_patents_are_proposed(app, enqueued):
    same = {"title": BATTERY["title"], "abstract": BATTERY["abstract"]}
    ok = entered(transfer_modes="license", **same)
    draft = make_patent(status=EntryStatus.DRAFT, **same)
    pending = make_patent(status=EntryStatus.PENDING_SCHOOL, **same)
    not_now = entered(transfer_willingness=Willingness.NOT_NOW, **same)
    wrong_mode = entered(transfer_modes="assignment", **same)
    no_modes = entered(transfer_modes=None, **same)
    # the right has left the university: sold, or contributed as equity
    sold = entered(implementation_status=ImplementationStatus.TRANSFERRED, **same)
    equity = entered(implementation_status=ImplementationStatus.EQUITY, **same)
    # a utility model filed in 2014: its ten years are over, whatever 法律状态 says
    expired = entered(
        patent_type=PatentType.UTILITY, filing_date=date(2014, 5, 27), legal_status="有效", **same
    )
    _ready(enqueued)

    demand = make_demand(cooperation_modes="license,joint_dev")
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    proposed = {pid for pid, *_ in _matches(demand.id)}
    assert proposed == {ok.id, no_modes.id}
    assert not proposed & {draft.id, pending.id, not_now.id, wrong_mode.id, sold.id, equity.id}
    assert expired.id not in proposed
    loaded = indexes.load_active_index()
    assert "保护期已于 2024-05-27 届满" in pairs.patent_rule(expired, loaded.index)

    open_demand = make_demand(cooperation_modes=None)  # no modes: every mode overlaps
    jobs.request_match_run(RunScope.DEMAND, open_demand.id)
    drain(enqueued)
    assert {pid for pid, *_ in _matches(open_demand.id)} == {ok.id, no_modes.id, wrong_mode.id}


def test_trl_below_expectation_is_flagged_not_excluded(app, enqueued):
    low = entered(trl=3, **BATTERY)
    high = entered(trl=7, title=BATTERY["title"] + "二", abstract=BATTERY["abstract"])
    _ready(enqueued)
    demand = make_demand(expected_trl=6)
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    flags = {
        m.patent_id: m.trl_below_expectation
        for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id))
    }
    assert flags == {low.id: True, high.id: False}


# ---------------------------------------------------------------------------- decisions


def test_decisions_survive_a_new_index_version(app, enqueued):
    patents = pool()
    extra = entered(title="一种锂离子电池负极材料", abstract="硅碳负极材料提高锂离子电池能量密度。")
    _ready(enqueued)
    demand = make_demand()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    officer = make_user(Role.OFFICER)
    by_patent = {
        m.patent_id: m
        for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id))
    }
    accepted = by_patent[patents["battery"].id]
    rejected = by_patent[extra.id]
    decide_match(accepted.id, "accepted", officer, comment="推荐对接")
    decide_match(rejected.id, MatchState.REJECTED, officer, reason_code="wrong_field")
    old_version = accepted.index_version

    entered(title="一种电池正极材料的回收方法", abstract="回收废旧锂离子电池正极材料。")
    new_build = _ready(enqueued)  # rebuild re-matches all open demands
    assert new_build.id != old_version
    db.session.expire_all()
    kept = db.session.get(Match, accepted.id)
    assert kept.state == MatchState.ACCEPTED and kept.comment == "推荐对接"
    assert kept.index_version == old_version  # decided pairs are not rewritten
    gone = db.session.get(Match, rejected.id)
    assert gone.state == MatchState.REJECTED and gone.reason_code == "wrong_field"
    candidates = db.session.scalars(
        sa.select(Match).where(Match.demand_id == demand.id, Match.state == MatchState.CANDIDATE)
    ).all()
    assert candidates and all(m.index_version == new_build.id for m in candidates)
    assert extra.id not in {m.patent_id for m in candidates}  # never re-proposed


def test_undecided_candidates_leaving_top_k_are_removed(app, enqueued, monkeypatch):
    pool()
    _ready(enqueued)
    demand = make_demand()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    assert _matches(demand.id)
    demand.description = "完全无关：需要一台咖啡机"
    demand.title = "采购咖啡机"
    db.session.commit()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    assert _matches(demand.id) == []


def test_decide_match_rules(app, enqueued):
    pool()
    _ready(enqueued)
    demand = make_demand()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    match = db.session.scalar(sa.select(Match).where(Match.demand_id == demand.id).limit(1))
    enterprise_user = make_user(Role.ENTERPRISE, organization=demand.enterprise)
    with pytest.raises(PermissionDenied):
        decide_match(match.id, "accepted", enterprise_user)
    officer = make_user(Role.OFFICER)
    with pytest.raises(ConflictError):
        decide_match(match.id, "accepted", officer, expected_version=match.version + 1)
    decided = decide_match(match.id, "accepted", officer, expected_version=match.version)
    assert decided.decided_by_id == officer.id and decided.decided_at is not None
    with pytest.raises(InvalidTransition):
        decide_match(match.id, "rejected", officer, reason_code="vague")


def test_demand_closed_drops_undecided_candidates_keeps_decisions(app, enqueued):
    pool()
    _ready(enqueued)
    demand = make_demand()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    first = db.session.scalar(sa.select(Match).where(Match.demand_id == demand.id).limit(1))
    decide_match(first.id, "accepted", make_user(Role.OFFICER))
    signals.demand_closed.send(None, demand_id=demand.id)
    assert [(pid, state) for pid, state, *_ in _matches(demand.id)] == [
        (first.patent_id, "accepted")
    ]


# ---------------------------------------------------------------------------- recovery


def test_the_sweep_resends_lost_builds_and_runs_of_dead_workers(app, enqueued):
    from datetime import timedelta

    from revive import queue
    from revive.db import utcnow

    pool()
    _ready(enqueued)
    demand = make_demand()
    run = jobs.request_match_run(RunScope.DEMAND, demand.id)
    assert queue.claim("matching.match_run", run.id, "dead-worker")
    run.status = RunStatus.RUNNING  # its worker died mid-run
    build = IndexBuild(status=RunStatus.QUEUED, celery_task_id="lost")  # its message lost
    db.session.add(build)
    db.session.commit()
    fresh = jobs.request_match_run(RunScope.ALL_DEMANDS)
    old = utcnow() - timedelta(hours=1)
    db.session.execute(  # sent, then taken: its last sign of life an hour ago
        sa.update(MatchRun)
        .where(MatchRun.id == run.id)
        .values(task_sent_at=old - timedelta(minutes=1), task_heartbeat_at=old)
    )
    db.session.execute(
        sa.update(IndexBuild).where(IndexBuild.id == build.id).values(task_sent_at=old)
    )
    db.session.commit()
    enqueued.clear()

    sent = queue.resend_stuck()
    assert sent == {"matching.build_index": [build.id], "matching.match_run": [run.id]}
    assert ("matching.match_run", (run.id,)) in enqueued
    assert ("matching.match_run", (fresh.id,)) not in enqueued
    drain(enqueued)
    db.session.expire_all()
    assert db.session.get(MatchRun, run.id).status == RunStatus.SUCCEEDED  # retried, not lost


def test_the_sweep_matches_demands_whose_run_was_never_requested(app, enqueued):
    """An operator killed a worker in an import's loop after its commit: 391 of 399 new
    demands never had a match run, and nothing on record said they were owed one."""
    from datetime import timedelta

    from revive import queue
    from revive.db import utcnow

    pool()
    _ready(enqueued)
    matched, owed, recent, closed = (make_demand(title=f"需求{i}") for i in range(4))
    jobs.request_match_run(RunScope.DEMAND, matched.id)
    drain(enqueued)
    closed.status, closed.closed_at = DemandStatus.CLOSED, utcnow()
    hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(  # the runs so far (the index's, the matched one's) two hours ago
        sa.update(MatchRun).values(created_at=utcnow() - timedelta(hours=2))
    )
    db.session.execute(  # a run of the matched demand after its last change
        sa.update(MatchRun).where(MatchRun.demand_id == matched.id).values(created_at=utcnow())
    )
    db.session.execute(  # changed an hour ago
        sa.update(Demand)
        .where(Demand.id.in_([matched.id, owed.id, closed.id]))
        .values(updated_at=hour_ago)
    )
    db.session.commit()
    enqueued.clear()
    sent = queue.resend_stuck()
    assert sent.get("matching.owed_runs") == [owed.id]  # not the recent one: its run may come
    runs = db.session.scalars(sa.select(MatchRun).where(MatchRun.demand_id == owed.id)).all()
    assert len(runs) == 1 and ("matching.match_run", (runs[0].id,)) in enqueued
    enqueued.clear()
    assert "matching.owed_runs" not in queue.resend_stuck()  # requested now: not again


def test_many_demands_never_matched_get_one_run_over_all(app, enqueued, monkeypatch):
    from datetime import timedelta

    from revive import queue
    from revive.db import utcnow

    pool()
    _ready(enqueued)
    monkeypatch.setattr(jobs, "OWED_ONE_BY_ONE", 2)
    demands = [make_demand(title=f"需求{i}") for i in range(4)]
    db.session.execute(sa.update(MatchRun).values(created_at=utcnow() - timedelta(hours=2)))
    db.session.execute(
        sa.update(Demand)
        .where(Demand.id.in_([d.id for d in demands]))
        .values(updated_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    enqueued.clear()
    sent = queue.resend_stuck()
    assert len(sent["matching.owed_runs"]) == 3, sent
    runs = db.session.scalars(sa.select(MatchRun).where(MatchRun.status == RunStatus.QUEUED)).all()
    assert [r.scope for r in runs] == [RunScope.ALL_DEMANDS]


def test_the_sweep_leaves_a_run_a_live_worker_holds(app, enqueued):
    from datetime import timedelta

    from revive import queue
    from revive.db import utcnow

    pool()
    _ready(enqueued)
    run = jobs.request_match_run(RunScope.ALL_DEMANDS)
    assert queue.claim("matching.match_run", run.id, "live-worker")
    run.status = RunStatus.RUNNING
    run.task_sent_at = utcnow() - timedelta(hours=1)  # long ago, but its worker beats
    db.session.commit()
    enqueued.clear()
    assert queue.resend_stuck() == {}
    assert enqueued == []
    assert not queue.claim("matching.match_run", run.id, "duplicate")


def test_scoring_parts_keep_a_fanned_out_run_fresh(app, enqueued):
    from datetime import timedelta

    from revive.db import as_utc, utcnow

    pool()
    make_demand(**BATTERY_DEMAND)
    build = _ready(enqueued)
    run = jobs.request_match_run(RunScope.ALL_DEMANDS)
    run.status = RunStatus.RUNNING
    db.session.commit()
    old = utcnow() - timedelta(minutes=11)
    db.session.execute(sa.update(MatchRun).where(MatchRun.id == run.id).values(updated_at=old))
    db.session.commit()
    _, index = indexes.load_active_index()
    parts = matching_runs.score_shards(run.id, build.id, [s.name for s in index.shards])
    assert parts  # the demand was scored
    db.session.expire_all()
    fresh = db.session.get(MatchRun, run.id)
    assert as_utc(fresh.updated_at) > old + timedelta(minutes=10)
    assert as_utc(fresh.task_heartbeat_at) > old + timedelta(minutes=10)


def test_requeue_jobs_command_includes_matching(app, runner, enqueued):
    import json
    from datetime import timedelta

    from revive.cli_commands import requeue_jobs_command
    from revive.db import utcnow

    build = IndexBuild(status=RunStatus.QUEUED, task_sent_at=utcnow() - timedelta(hours=1))
    db.session.add(build)
    db.session.commit()
    result = runner.invoke(requeue_jobs_command, [])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output.strip().splitlines()[-1])
    assert out == {"matching.build_index": [build.id]}


def test_old_index_artifacts_are_pruned(app, tmp_path):
    for v in (1, 2, 3, 4, 5):
        (tmp_path / f"v{v}").mkdir()
    (tmp_path / ".tmp-v9-abcd").mkdir()
    indexes._prune(tmp_path, current=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".tmp-v9-abcd", "v3", "v4", "v5"]


def test_a_fanned_out_run_stores_exactly_what_one_process_would(app, enqueued):
    """REVIVE_MATCH_FANOUT=2 over shards of 2 patents: the parts score their shards, the
    callback merges; the stored candidates equal a run scored in one process."""
    institution = make_org()
    for n in range(7):
        entered(institution, title=f"锂电池正极材料{n}", abstract=BATTERY["abstract"] * (n % 3 + 1))
    pool(institution)
    entered(institution, title="污水氨氮去除装置", abstract="养殖废水氨氮去除，膜生物反应器。")
    demands = [
        make_demand(**BATTERY_DEMAND),
        make_demand(title="农田节水灌溉", description="滴灌"),
        # several unrelated needs: each sub-need's best join the pool from any shard
        make_demand(
            title="两项技术需求",
            description="1、锂离子电池正极材料包覆改性，提高循环寿命；2、养殖污水处理，去除氨氮，"
            "出水稳定；3、农田土壤湿度传感器自动控制灌溉阀门。",
        ),
    ]
    app.config["REVIVE_INDEX_SHARD_DOCS"] = 2
    _ready(enqueued)
    _, index = indexes.load_active_index()
    assert len(index.shards) >= 5

    def stored() -> dict[int, Any]:
        db.session.expire_all()
        return {
            d.id: (
                sorted(
                    (m.patent_id, m.score, m.rank, m.strength, m.tier, m.need, m.reasons, m.chars)
                    for m in db.session.scalars(sa.select(Match).where(Match.demand_id == d.id))
                ),
                _reading(d.id),
            )
            for d in demands
        }

    def _reading(demand_id: int) -> tuple:
        r = db.session.get(DemandReading, demand_id)
        return (r.needs, r.removed, r.is_thin, r.is_abstaining, r.best_strength, r.proposal_count)

    jobs.request_match_run(RunScope.ALL_DEMANDS)
    drain(enqueued)
    single = stored()
    assert all(rows for rows, _ in single.values())

    app.config["REVIVE_MATCH_FANOUT"] = 2
    try:
        run = jobs.request_match_run(RunScope.ALL_DEMANDS)
        assert drain(enqueued) == ["matching.match_run", "matching.fan_out"]
    finally:
        app.config["REVIVE_MATCH_FANOUT"] = 1
        app.config["REVIVE_INDEX_SHARD_DOCS"] = 65_536
    db.session.expire_all()
    run = db.session.get(MatchRun, run.id)
    assert run.status == RunStatus.SUCCEEDED and run.processed == run.total == 3
    assert len(single[demands[2].id][1][0]) == 3  # the posting was read as three needs
    assert stored() == single


# ---------------------------------------------------------------------------- strength


def test_index_builds_save_a_character_profile_and_deltas_reuse_it(app, enqueued, monkeypatch):
    monkeypatch.setattr(indexes, "TOKENS_MARGIN_S", 0)
    monkeypatch.setattr(indexes, "REBUILD_SHARE", 1.0)  # no follow-up full rebuild here
    pool()
    full = _ready(enqueued)
    profile = Path(full.path) / engine.CharProfile.FILE
    assert profile.exists()
    chars = indexes.load_chars(full)
    assert chars is not None and chars.idf[ord("锂")] > 1.0  # in the sampled patents' texts

    new = entered(title="一种新的风力发电机叶片")
    signals.patents_changed.send(None, patent_ids=[new.id])
    drain(enqueued)
    delta = jobs.active_build()
    assert delta.kind == "delta"
    reused = (Path(delta.path) / engine.CharProfile.FILE).read_bytes()
    assert reused == profile.read_bytes()  # carried over, not resampled


def test_character_profile_sample_is_capped(app, enqueued, monkeypatch):
    for n in range(5):
        entered(title=f"锂电池{n}", abstract="正极材料")
    matching_tokens.tokenize_patents(None, follow_up=False)
    app.config["REVIVE_CHARS_SAMPLE"] = 2
    seen = []
    real = engine.CharProfile.build

    def spy(texts):
        texts = list(texts)
        seen.append(len(texts))
        return real(texts)

    monkeypatch.setattr(engine.CharProfile, "build", staticmethod(spy))
    try:
        indexes._sampled_chars()
    finally:
        app.config["REVIVE_CHARS_SAMPLE"] = 20_000
    assert seen == [2]


def test_an_index_without_a_character_profile_gets_one_when_loaded(app, enqueued):
    pool()
    build = _ready(enqueued)
    profile = Path(build.path) / engine.CharProfile.FILE
    profile.unlink()  # an artifact from before profiles existed
    indexes._loaded_chars = None
    assert indexes.load_chars(build) is not None
    assert profile.exists()


def test_a_run_stores_strength_tier_reasons_features_and_the_reading(app, enqueued):
    patents = pool()
    _ready(enqueued)
    demand = make_demand()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    rows = db.session.scalars(
        sa.select(Match).where(Match.demand_id == demand.id).order_by(Match.rank)
    ).all()
    top = rows[0]
    assert top.patent_id == patents["battery"].id
    assert 0 < top.strength <= 1 and top.tier is not None
    assert top.chars > 0 and 0 < top.coverage <= 1 and top.score > 0
    assert top.model_version == engine.shipped_model().version
    assert top.reasons and all(len(r) >= 2 for r in top.reasons)
    assert all(r in BATTERY["title"] + BATTERY["abstract"] for r in top.reasons)
    assert top.need == 0
    # the shared specific words, which decisions teach the word rates with
    assert top.matched == sorted(top.matched) and top.matched
    assert all(w in BATTERY["title"] + BATTERY["abstract"] for w in top.matched)
    # rank follows strength
    assert [m.strength for m in rows] == sorted((m.strength for m in rows), reverse=True)
    assert [m.rank for m in rows] == list(range(1, len(rows) + 1))

    reading = db.session.get(DemandReading, demand.id)
    assert reading.needs == [{"label": reading.needs[0]["label"], "text": reading.needs[0]["text"]}]
    assert not reading.is_thin and not reading.is_abstaining
    assert reading.best_strength == top.strength and reading.proposal_count == len(rows)
    assert reading.demand_version == demand.version
    assert reading.model_version == engine.shipped_model().version


def test_a_multi_need_posting_is_read_into_sub_needs_and_each_proposal_has_one(app, enqueued):
    institution = make_org()
    magnet = entered(
        institution,
        title="钕铁硼永磁体防锈涂层",
        abstract="一种钕铁硼永磁材料表面防腐蚀涂层的制备方法，耐盐雾，防止生锈。",
    )
    mould = entered(
        institution,
        title="橡胶件注塑模具",
        abstract="一种橡胶件注塑成型模具，代替压机压制，外观好。",
    )
    wax = entered(
        institution,
        title="可机加工蜡状材料",
        abstract="一种可机械加工的类蜡材料，不粘胶，具有一定硬度。",
    )
    pool(institution)
    _ready(enqueued)
    demand = make_demand(
        title="咖啡机配件难题",
        description="1、钕铁硼永磁材料容易生锈，影响产品使用；2、咖啡机的橡胶件原来用压机压制，想改为注塑开模具；"
        "3、寻找一种可以机加工的材料，不粘胶，类似固体蜡但有一定硬度。",
    )
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    reading = db.session.get(DemandReading, demand.id)
    assert len(reading.needs) == 3 and reading.is_multi
    assert all(n["label"] for n in reading.needs)
    need = {
        m.patent_id: m.need
        for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id))
    }
    assert len({need[magnet.id], need[mould.id], need[wax.id]}) == 3


def test_a_thin_posting_is_flagged(app, enqueued):
    pool()
    _ready(enqueued)
    demand = make_demand(title="电池", description="")
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    assert db.session.get(DemandReading, demand.id).is_thin


def test_bar_and_strong_settings_decide_tiers_and_abstention(app, enqueued):
    pool()
    _ready(enqueued)
    demand = make_demand(title="污水处理", description="希望去除污水中的氨氮")
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    best = db.session.scalar(sa.select(sa.func.max(Match.strength)))
    assert best < 1.0
    app.config["REVIVE_MATCH_BAR"] = (best + 1.0) / 2  # nothing reaches it
    try:
        jobs.request_match_run(RunScope.DEMAND, demand.id)
        drain(enqueued)
    finally:
        app.config["REVIVE_MATCH_BAR"] = None
    db.session.expire_all()
    assert db.session.get(DemandReading, demand.id).is_abstaining
    tiers = set(db.session.scalars(sa.select(Match.tier).where(Match.demand_id == demand.id)))
    assert tiers == {MatchTier.WEAK}  # still stored: shown on request (显示较弱候选)

    app.config["REVIVE_MATCH_STRONG"] = 0.0
    try:
        jobs.request_match_run(RunScope.DEMAND, demand.id)
        drain(enqueued)
    finally:
        app.config["REVIVE_MATCH_STRONG"] = None
    db.session.expire_all()
    assert not db.session.get(DemandReading, demand.id).is_abstaining
    tiers = set(db.session.scalars(sa.select(Match.tier).where(Match.demand_id == demand.id)))
    assert tiers == {MatchTier.STRONG}


def test_runs_use_the_active_strength_model(app, enqueued):
    pool()
    _ready(enqueued)
    shipped = engine.shipped_model()
    # A one-stage refit that rates every pair alike (all weight on the intercept, no second
    # stage): strength 0.5 each.
    flat = {
        **shipped.to_json(),
        "coef": [0.0] * len(shipped.coef),
        "intercept": 0.0,
        "calibration": None,
    }
    row = StrengthModelVersion(status=ModelStatus.ACTIVE, model=flat, activated_at=utcnow())
    db.session.add(row)
    db.session.flush()
    row.model = {**flat, "version": row.version}
    db.session.commit()
    demand = make_demand()
    jobs.request_match_run(RunScope.DEMAND, demand.id)
    drain(enqueued)
    rows = db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id)).all()
    assert rows and {m.strength for m in rows} == {0.5}
    assert {m.model_version for m in rows} == {row.version}


def test_a_build_never_reports_more_patents_processed_than_it_has(app, enqueued):
    """With tokens stored during the build (here: all of them, within the read margin), the
    catch-up re-reads them; the page had read 已处理 8251 / 4776 件专利."""
    pool()
    build = _ready(enqueued)
    db.session.expire_all()
    build = db.session.get(IndexBuild, build.id)
    assert build.processed == build.total == build.doc_count
