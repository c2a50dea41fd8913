"""Match runs: demands matched against the active index, their candidates stored.

    execute_match_run       (worker) eligible patents in SQL once, match the demands
                            (engine.match_demands: pool, strength, sub-needs, reasons, with the
                            index's character profile and the active strength model), upsert
                            undecided candidates, keep decided ones, record each demand's
                            reading (DemandReading); an all-demand run may fan out over the
                            shards (score_shards → merge_scores)
    drop_candidates         (receiver of demand_closed) remove undecided candidates
    Eligibility, Assessor   what a run filters with and assesses candidates with

Re-running the matching of a demand against the same index gives the same matches; a
finished run is left alone when its task is delivered again (the MatchRun row is its outbox).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import sqlalchemy as sa

from revive import engine, queue, signals
from revive.db import retried, utcnow
from revive.demands.models import Demand, DemandStatus
from revive.errors import NotFoundError
from revive.extensions import db
from revive.inventory import fees
from revive.inventory.models import Patent, Willingness
from revive.inventory.public import public_clause
from revive.matching import holds, indexes, jobs, strength, tokens
from revive.matching.models import (
    DemandReading,
    IndexBuild,
    Match,
    MatchRun,
    MatchSource,
    MatchState,
    MatchTier,
    PatentTokens,
    RunScope,
    RunStatus,
)

logger = logging.getLogger(__name__)


TOP_K = 20  # proposals stored per demand (the best by strength of its pool)
# The pool (engine.POOL per demand) is taken as measured by ``revive eval``: any shared word
# counts; the strength model, not a score floor, decides what is shown (weak: on request).
POOL_MIN_SCORE = 0.0
DEMAND_BATCH = 50


def eligible_groups() -> dict[frozenset[str], set[int]]:
    """Ids of patents that may be proposed, grouped by their acceptable modes (one query).

    Only patents of the public pool (已入库, the right still the university's: not 已转让 or
    作价入股) whose 转化意愿 is not 暂不, whose term has not ended (fees.in_term_clause), that
    no sole or exclusive licence in force keeps from others (holds.exclusive_holds) and
    that have tokens (are indexable).
    """
    licensed = holds.exclusive_holds()
    rows = db.session.execute(
        sa.select(Patent.id, Patent.transfer_modes)
        .join(PatentTokens, PatentTokens.patent_id == Patent.id)
        .where(
            public_clause(),
            fees.in_term_clause(),
            sa.or_(
                Patent.transfer_willingness.is_(None),
                Patent.transfer_willingness != Willingness.NOT_NOW,
            ),
        )
    )
    groups: dict[frozenset[str], set[int]] = {}
    for pid, modes in rows:
        if pid in licensed:
            continue
        groups.setdefault(modes_of(modes), set()).add(pid)
    return groups


def modes_of(raw: str | None) -> frozenset[str]:
    return frozenset(m.strip() for m in (raw or "").split(",") if m.strip())


def allowed_for(demand_modes: frozenset[str], groups: dict[frozenset[str], set[int]]) -> set[int]:
    """Eligible patents whose modes overlap the demand's.

    A side that lists no modes has not restricted itself ("any way to cooperate is open to
    discussion"), so it overlaps everything: excluding it would hide most imported patents,
    whose modes are often blank, and demands whose owner left 期望合作方式 empty.
    """
    out: set[int] = set()
    for modes, ids in groups.items():
        if modes_overlap(demand_modes, modes):
            out |= ids
    return out


class Eligibility:
    """Eligible patents of one run as bool masks over the index, one per combination of
    demand modes (few), computed once: the engine filters with them at no per-demand cost."""

    def __init__(self, groups: dict[frozenset[str], set[int]], index: engine.Index) -> None:
        self.groups = groups
        self.index = index
        self._masks: dict[frozenset[str], np.ndarray] = {}

    def mask(self, demand_modes: frozenset[str]) -> np.ndarray:
        found = self._masks.get(demand_modes)
        if found is None:
            found = self._masks[demand_modes] = self.index.mask(
                allowed_for(demand_modes, self.groups)
            )
        return found


@dataclass(frozen=True)
class Assessor:
    """What a run assesses candidates with: the index's lexicon (IDF, for the reasons) and
    character profile, the strength model and the thresholds."""

    lexicon: engine.Lexicon  # the index, or a fan-out callback's Vocabulary
    chars: engine.CharProfile | None
    model: engine.StrengthModel
    bar: float
    strong: float

    @property
    def model_version(self) -> str:
        return str(self.model.version)[:40]


def assessor_for(build: IndexBuild, lexicon: engine.Lexicon) -> Assessor:
    model = strength.active_strength_model()
    return Assessor(lexicon, indexes.load_chars(build), model, *strength.thresholds(model))


def execute_match_run(run_id: int) -> MatchRun | None:
    """(worker) Match the run's demand(s) against the active index and store candidates."""
    run = db.session.get(MatchRun, run_id)
    if run is None or run.status not in jobs.ACTIVE:
        return run  # finished already: a redelivered task does nothing
    loaded = indexes.load_active_index()
    if loaded is None:
        # No index yet (sent early): wait for the build, which sends it. Unsent and unclaimed
        # again; the attempts stay, so a run that can never find its index is given up.
        run.celery_task_id = run.task_sent_at = None
        run.task_claimed_by = run.task_heartbeat_at = None
        db.session.commit()
        jobs.request_index_build()
        return run
    build, index = loaded
    try:
        run.status, run.error, run.started_at = RunStatus.RUNNING, None, utcnow()
        run.index_version, run.processed, run.match_count = build.id, 0, 0
        open_ids = sa.select(Demand.id).where(Demand.status == DemandStatus.OPEN)
        if run.scope == RunScope.DEMAND:
            open_ids = open_ids.where(Demand.id == run.demand_id)
        ids = list(db.session.scalars(open_ids.order_by(Demand.id)))
        run.total = len(ids)
        db.session.commit()
        parts = _shard_parts(index)
        if run.scope == RunScope.ALL_DEMANDS and ids and len(parts) > 1:
            # Fan out: one task per share of the shards, searched in parallel by the workers;
            # merge_scores (the chord's callback) merges the pools, assesses, stores, finishes.
            queue.fan_out(
                [("matching.score_shards", run.id, build.id, part) for part in parts],
                ("matching.merge_scores", run.id, build.id),
            )
            # The parts are sent: the sweep re-sends the run only when none of them has shown
            # life (queue.touch) for REVIVE_MESSAGE_LOST_SECONDS.
            run.task_sent_at = utcnow()
            db.session.commit()
            logger.info("Match run %s fanned out over %d parts", run.id, len(parts))
            return run
        eligible = Eligibility(eligible_groups(), index)
        assessor = assessor_for(build, index)
        _store_in_batches(
            run,
            ids,
            lambda batch: _match_batch(
                run_id, batch, build.id, assessor, index=index, eligible=eligible
            ),
        )
    except Exception as exc:
        _fail_run(run_id, exc)
        raise
    logger.info("Match run %s: %d demand(s), %d candidate(s)", run.id, run.total, run.match_count)
    _finished(run)
    return run


def _store_in_batches(run: MatchRun, ids: list[int], store: Any) -> None:
    """Score/store the demands batch by batch (progress committed after each), then succeed."""
    for start in range(0, len(ids), DEMAND_BATCH):
        batch = ids[start : start + DEMAND_BATCH]
        run.match_count += store(batch)
        run.processed += len(batch)
        queue.touch(jobs.MATCH_RUN_TASK, run.id)  # merge_scores holds no claim: its sign of life
        db.session.commit()
    run.status, run.finished_at = RunStatus.SUCCEEDED, utcnow()
    db.session.commit()


def _fail_run(run_id: int, exc: Exception) -> None:
    logger.exception("Match run %s failed", run_id)
    queue.mark_failed(MatchRun, run_id, RunStatus.FAILED, f"匹配失败，请稍后重试（{exc}）")


def _shard_parts(index: engine.Index) -> list[list[str]]:
    """Shard names per fan-out task (REVIVE_MATCH_FANOUT tasks; 1 = score in this process)."""
    n = jobs.setting("REVIVE_MATCH_FANOUT", 1)
    names = [s.name for s in index.shards]
    if n <= 1 or len(names) <= 1:
        return [names]
    return [part for part in (names[i::n] for i in range(n)) if part]


# One loaded part per worker process: (artifact path, shard names) → index over those shards.
_parts: dict[tuple[str, tuple[str, ...]], engine.Index] = {}


def score_shards(run_id: int, build_id: int, shard_names: Sequence[str]) -> dict[str, list]:
    """(worker, fan-out) What these shards of the build contribute to the pool of every open
    demand of the run (engine.pool_part): {demand id: {reading, pool, needs, rescored}},
    JSON-able; merge_scores assesses the merged pools."""
    run, build = db.session.get(MatchRun, run_id), db.session.get(IndexBuild, build_id)
    if run is None or run.status not in jobs.ACTIVE or build is None or build.path is None:
        return {}
    key = (build.path, tuple(shard_names))
    index = _parts.get(key)
    if index is None:
        _parts.clear()  # one part per process: a newer build replaces the older one
        index = _parts[key] = engine.Index.load(build.path, shards=set(shard_names))
        index.threads = jobs.setting("REVIVE_SEARCH_THREADS", 1)
    first: dict[str, int] = {}
    offset = 0
    for shard in engine.read_meta(build.path)["shards"]:
        first[shard["name"]], offset = offset, offset + shard["docs"]
    ids = list(
        db.session.scalars(
            sa.select(Demand.id).where(Demand.status == DemandStatus.OPEN).order_by(Demand.id)
        )
    )
    eligible = Eligibility(eligible_groups(), index)
    out: dict[str, Any] = {}
    for start in range(0, len(ids), DEMAND_BATCH):
        demands, _, excluded = _load_batch(ids[start : start + DEMAND_BATCH])
        answers = engine.pool_part(
            index,
            [(d.id, d.title, tokens.demand_text(d)) for d in demands],
            global_position=lambda pos: _global_position(index, pos, first),
            min_score=POOL_MIN_SCORE,
            allowed=[eligible.mask(modes_of(d.cooperation_modes)) for d in demands],
            exclude=excluded,
        )
        for d, answer in zip(demands, answers, strict=True):
            out[str(d.id)] = answer
        # A fanned-out run stays alive while its parts score: the sweep re-sends it only when
        # every part has died.
        queue.touch(jobs.MATCH_RUN_TASK, run_id)
        db.session.commit()
    return out


def _global_position(index: engine.Index, position: int, first: dict[str, int]) -> int:
    for shard in index.shards:
        if position < shard.offset + shard.n_docs:
            return first[shard.name] + position - shard.offset
    raise IndexError(position)


def merge_scores(parts: Sequence[dict[str, Any]], run_id: int, build_id: int) -> MatchRun | None:
    """(worker, the fan-out's callback) Merge the parts' pools per demand into the pool one
    process would have gathered (engine.merge_pools), then assess and store them like a run:
    texts from the database, the build's vocabulary and character profile, the active
    strength model."""
    run = db.session.get(MatchRun, run_id)
    if run is None or run.status not in jobs.ACTIVE:
        return run
    answers: dict[int, list[Any]] = {}
    for part in parts:
        for demand_id, answer in part.items():
            answers.setdefault(int(demand_id), []).append(answer)
    try:
        pooled = {d: engine.merge_pools(d, rows) for d, rows in answers.items()}
        build = db.session.get(IndexBuild, build_id)
        if build is None or build.path is None:
            raise NotFoundError(f"索引 v{build_id} 不存在")
        assessor = assessor_for(build, indexes.build_vocabulary(build))
        ids = sorted(pooled)
        run.total, run.processed, run.match_count = len(ids), 0, 0
        _store_in_batches(
            run,
            ids,
            lambda batch: _match_batch(run_id, batch, build_id, assessor, pooled=pooled),
        )
    except Exception as exc:
        _fail_run(run_id, exc)
        raise
    logger.info(
        "Match run %s merged: %d demand(s), %d candidate(s)", run.id, run.total, run.match_count
    )
    _finished(run)
    return run


def _finished(run: MatchRun) -> None:
    """Tell the receivers (the standing alerts) that a run stored its candidates."""
    if run.status == RunStatus.SUCCEEDED:
        signals.match_run_finished.send(None, run_id=run.id, scope=run.scope.value)


def _load_batch(demand_ids: Sequence[int]) -> tuple[list[Demand], dict, list[set[int]]]:
    """(demands, their matches by demand and patent, ids of the patents not to propose to
    each demand: its decided pairs, and the patents its enterprise holds a contract in force
    on — holds.enterprise_holds; a licensee is not offered what it has)."""
    demands = list(
        db.session.scalars(sa.select(Demand).where(Demand.id.in_(demand_ids)).order_by(Demand.id))
    )
    existing: dict[int, dict[int, Match]] = {d.id: {} for d in demands}
    for m in db.session.scalars(sa.select(Match).where(Match.demand_id.in_(demand_ids))):
        existing[m.demand_id][m.patent_id] = m
    held = holds.held_by({d.enterprise_id for d in demands})
    excluded = [
        {pid for pid, m in existing[d.id].items() if m.state != MatchState.CANDIDATE}
        | held[d.enterprise_id]
        for d in demands
    ]
    return demands, existing, excluded


def _match_batch(
    run_id: int,
    demand_ids: list[int],
    version: int,
    assessor: Assessor,
    **source: Any,
) -> int:
    """Match and persist one batch of demands; tried up to three times when a concurrent run
    or a decision touched the same pairs (unique (demand, patent), Match.version, one reading
    per demand). The caller rolls back when the last try fails."""
    return retried(lambda: _match_batch_once(run_id, demand_ids, version, assessor, **source), 3)


def _match_batch_once(
    run_id: int,
    demand_ids: list[int],
    version: int,
    assessor: Assessor,
    *,
    index: engine.Index | None = None,
    eligible: Eligibility | None = None,
    pooled: dict[int, engine.Pooled] | None = None,
) -> int:
    """Match one batch of demands — searching ``index`` (eligible patents only, decided pairs
    excluded), or from the fan-out's merged ``pooled`` — and persist the proposals and each
    demand's reading."""
    demands, existing, excluded = _load_batch(demand_ids)
    common = {
        "chars": assessor.chars,
        "model": assessor.model,
        "texts_of": tokens.texts_of,
        "top_k": TOP_K,
        "bar": assessor.bar,
        "strong": assessor.strong,
    }
    if pooled is not None:
        # A pair decided (or a contract signed) while the parts were searching is never
        # proposed.
        pools = [
            replace(
                pooled[d.id],
                candidates=tuple(c for c in pooled[d.id].candidates if int(c.right_id) not in done),
            )
            for d, done in zip(demands, excluded, strict=True)
        ]
        results = engine.propose(pools, lexicon=assessor.lexicon, **common)
    else:
        assert eligible is not None
        results = engine.match_demands(
            index,
            demands=[(d.id, d.title, tokens.demand_text(d)) for d in demands],
            min_score=POOL_MIN_SCORE,
            allowed=[eligible.mask(modes_of(d.cooperation_modes)) for d in demands],
            exclude=excluded,
            **common,
        )
    return _store_results(run_id, version, assessor, demands, existing, results)


def _store_results(
    run_id: int,
    version: int,
    assessor: Assessor,
    demands: Sequence[Demand],
    existing: dict[int, dict[int, Match]],
    results: Sequence[engine.DemandMatch],
) -> int:
    """Upsert each demand's proposals worth storing (rank = order by strength among them:
    1…n, unique in the run — decided pairs were excluded from it and keep the rank they had
    when decided), drop undecided candidates that left the list, and record how the demand
    was read (DemandReading)."""
    proposed = {int(p.doc_id) for r in results for p in r.proposals}
    trl = dict(
        db.session.execute(sa.select(Patent.id, Patent.trl).where(Patent.id.in_(proposed))).all()
    )
    readings = {
        r.demand_id: r
        for r in db.session.scalars(
            sa.select(DemandReading).where(DemandReading.demand_id.in_([d.id for d in demands]))
        )
    }
    count = 0
    drifted: list[dict[str, Any]] = []
    for d, result in zip(demands, results, strict=True):
        kept: set[int] = set()
        stored = [p for p in result.proposals if worth_storing(p)]
        for rank, proposal in enumerate(stored, start=1):
            pid = int(proposal.doc_id)
            kept.add(pid)
            values = proposal_values(proposal, rank, assessor)
            p_trl = trl.get(pid)
            values["trl_below_expectation"] = bool(
                d.expected_trl and p_trl is not None and p_trl < d.expected_trl
            )
            m = existing[d.id].get(pid)
            if m is None:
                m = Match(demand_id=d.id, patent_id=pid, state=MatchState.CANDIDATE)
                db.session.add(m)
            elif m.state != MatchState.CANDIDATE:  # defensive: never touch a decision
                continue
            elif all(getattr(m, k) == v for k, v in values.items()):
                # Unchanged: leave the row (and its version) alone, so a review page an officer
                # opened before this re-run can still decide it.
                count += 1
                continue
            elif all(getattr(m, k) == values[k] for k in MATERIAL):
                # Only the figures moved (an edit elsewhere nudges every score): stored without
                # a new version, so the officers' open review forms stay valid (one sentence
                # added to one patent had made 262 of 300 open forms stale).
                drifted.append({"_id": m.id, **values, "index_version": version, "run_id": run_id})
                count += 1
                continue
            for k, v in values.items():
                setattr(m, k, v)
            m.index_version, m.run_id = version, run_id
            count += 1
        for pid, m in existing[d.id].items():
            # People's additions (an enterprise's intent, an officer's pick) stay until decided.
            if m.state == MatchState.CANDIDATE and pid not in kept and _machine_only(m):
                db.session.delete(m)
        _record_reading(readings.get(d.id), d, result, len(stored), run_id, version, assessor)
    if drifted:
        table = Match.__table__
        db.session.execute(
            table.update()
            .where(table.c.id == sa.bindparam("_id"), table.c.state == MatchState.CANDIDATE.value)
            .values({k: sa.bindparam(k) for k in drifted[0] if k != "_id"}),
            drifted,
        )
    db.session.flush()
    return count


def worth_storing(p: engine.Proposal) -> bool:
    """A proposal is stored unless it is weak (below the bar) and its text similarity is
    below the engine's own minimum (engine.DEFAULT_MIN_SCORE, what a search and the reverse
    direction keep): the pool takes any shared word, so once the decided pairs are excluded
    a re-run of a demand whose 19 candidates were all rejected had filled the list with 20
    new weak ones down to a similarity of 0.006. A pair the model rates 中 or 强 stays,
    whatever its similarity."""
    a = p.assessed
    return float(a.score) >= engine.DEFAULT_MIN_SCORE or MatchTier(a.tier) != MatchTier.WEAK


def _machine_only(m: Match) -> bool:
    """A candidate only the engine asked for (no intent, not added by an officer)."""
    return m.source == MatchSource.MACHINE and m.intent_at is None and m.added_by_id is None


# What an officer decides on: a change of these gives the candidate a new version (an open
# review form of it is then stale); the rest (score, strength, rank, …) are figures that a
# re-run moves a little and that are stored without one.
MATERIAL = ("tier", "reasons", "need", "trl_below_expectation", "model_version")


def proposal_values(p: engine.Proposal, rank: int, assessor: Assessor) -> dict[str, Any]:
    a = p.assessed
    return {
        "score": round(float(a.score), 6),
        "chars": round(float(a.chars), 6),
        "coverage": round(float(a.coverage), 6),
        "demand_mass": round(float(a.demand_mass), 6),
        "matched": sorted(a.matched),
        "strength": round(float(a.strength), 6),
        "tier": MatchTier(a.tier),
        "model_version": assessor.model_version,
        "need": int(p.need),
        "reasons": [r.text for r in p.reasons],
        "terms": [[t, round(float(w), 6)] for t, w in a.terms],
        "rank": rank,
    }


def _record_reading(
    row: DemandReading | None,
    demand: Demand,
    result: engine.DemandMatch,
    stored: int,
    run_id: int,
    version: int,
    assessor: Assessor,
) -> None:
    if row is None:
        row = DemandReading(demand_id=demand.id)
        db.session.add(row)
    reading = result.reading
    row.needs = [{"label": n.label, "text": n.text} for n in reading.needs]
    row.removed = list(reading.removed)
    row.is_thin = bool(reading.thin)
    row.content_words = int(reading.content_words)
    row.is_abstaining = bool(result.abstain)
    row.best_strength = max((p.assessed.strength for p in result.proposals), default=None)
    row.proposal_count = stored
    row.demand_version = demand.version
    row.index_version, row.model_version, row.run_id = version, assessor.model_version, run_id


# The engine's own undecided candidates: decisions stay on record, and so do the enterprise's
# intents and officers' additions (the enterprise's own record of what it asked for).
_UNDECIDED_MACHINE = (
    Match.state == MatchState.CANDIDATE,
    Match.source == MatchSource.MACHINE,
    Match.intent_at.is_(None),
    Match.added_by_id.is_(None),
)


def _delete_closing_gaps(*where: sa.ColumnElement[bool]) -> int:
    """Delete the matches ``where`` picks and move the undecided candidates ranked below each
    one up a place, so the demand's list keeps ranks 1…n (a patent assigned after the run had
    left "rank 6" missing from a tester's list). Decided pairs keep the rank they were
    decided at. No commit."""
    gone = db.session.execute(
        sa.select(Match.demand_id, Match.rank).where(*where, Match.rank.is_not(None))
    ).all()
    result = db.session.execute(sa.delete(Match).where(*where))
    for demand_id, rank in sorted(gone, key=lambda row: -row[1]):
        db.session.execute(
            sa.update(Match)
            .where(
                Match.demand_id == demand_id,
                Match.state == MatchState.CANDIDATE,
                Match.rank > rank,
            )
            .values(rank=Match.rank - 1)
        )
    return result.rowcount or 0


def drop_candidates(demand_id: int) -> int:
    """Remove the engine's undecided candidates of a (closed) demand (the review queue lists
    open demands only). Commits."""
    result = db.session.execute(
        sa.delete(Match).where(Match.demand_id == demand_id, *_UNDECIDED_MACHINE)
    )
    db.session.commit()
    return result.rowcount or 0


def drop_patent_candidates(patent_id: int) -> int:
    """Remove the engine's undecided candidates of a patent whose right left the university
    (a 转让 / 作价入股): it can no longer be recommended; intents and officers' additions stay
    for an officer to decide (adopting them is refused). Inside the caller's transaction
    (revive.signals.patent_rights_gone): no commit."""
    return _delete_closing_gaps(Match.patent_id == patent_id, *_UNDECIDED_MACHINE)


def drop_held_candidates(patent_id: int, enterprise_id: int | None) -> int:
    """Remove the engine's undecided candidates of a patent a signed contract now holds (the
    runs no longer propose them: holds): those of the enterprise's demands, or of every demand
    (``enterprise_id`` None: a sole or exclusive licence in force). Intents and officers'
    additions stay for an officer to decide (a push is refused with the contract). Inside the
    caller's transaction: no commit."""
    where = [Match.patent_id == patent_id, *_UNDECIDED_MACHINE]
    if enterprise_id is not None:
        own = sa.select(Demand.id).where(Demand.enterprise_id == enterprise_id)
        where.append(Match.demand_id.in_(own))
    return _delete_closing_gaps(*where)


def _give_up_run(run_id: int) -> None:
    queue.mark_failed(MatchRun, run_id, RunStatus.FAILED, queue.GAVE_UP)


def _index_exists() -> sa.ColumnElement[bool]:
    """A queued run waits for a first index (the build sends it): the sweep leaves it."""
    return sa.or_(
        MatchRun.status != RunStatus.QUEUED,
        sa.exists().where(IndexBuild.status == RunStatus.SUCCEEDED),
    )


queue.register(
    queue.Kind(
        jobs.MATCH_RUN_TASK,
        MatchRun,
        active=lambda: MatchRun.status.in_(jobs.ACTIVE),
        give_up=_give_up_run,
        ready=_index_exists,
    )
)


def modes_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """The cooperation modes of a demand and a patent admit each other (a side that lists none
    has not restricted itself: see ``allowed_for``)."""
    return not a or not b or bool(a & b)
