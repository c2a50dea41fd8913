"""Matching lifecycle: tokens → index builds → match runs → decisions.

    request_tokenize        (receiver of patents_changed) enqueue "matching.tokenize"
    tokenize_patents        (worker) store tokens of the given / stale patents; a text change
                            requests an index build, an eligibility-only change a re-match
    request_index_build     IndexBuild QUEUED (committed) → enqueue "matching.build_index"
    execute_index_build     (worker) tokenize stale patents, build, write the artifact to a
                            temp folder and rename it to REVIVE_DATA_DIR/index/v<id>; then
                            re-match every open demand
    request_match_run       MatchRun QUEUED (committed) → enqueue "matching.match_run"
    execute_match_run       (worker) eligible patents in SQL once, match the demands
                            (engine.match_demands: pool, strength, sub-needs, reasons, with the
                            index's character profile and the active strength model), upsert
                            undecided candidates, keep decided ones, record each demand's
                            reading (DemandReading); an all-demand run may fan out over the
                            shards (score_shards → merge_scores)
    apply_decision          officer accepts / rejects a candidate in the caller's transaction
                            (revive.deals.services.decide commits it and pushes an acceptance)
    drop_candidates         (receiver of demand_closed) remove undecided candidates
    request_strength_refit  (platform admin) StrengthModelVersion QUEUED → "matching.refit_strength"
    refit_strength          (worker; daily by beat) refit strength from decisions (learning.py),
                            activate when not worse on the latest decisions, re-match
    demands_for_patent      patent → open demands, the same eligibility as the other direction
    (manual.py)             candidates people add: an enterprise's intent, an officer's pick
    (search.py)             plain-word search of entered patents over the loaded index
    resend_stale_tokens     (the recovery sweep) queue tokenization when a patent's tokens
                            stayed stale: its message was lost

Worker steps are idempotent: a finished row is left alone when its task is delivered again,
and re-running the matching of a demand against the same index gives the same matches. The
IndexBuild, MatchRun and StrengthModelVersion rows are their tasks' outbox (revive.queue: each
delivery claims its row; the recovery sweep sends what the broker never got or lost and
re-sends what a dead worker left).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import secrets
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from revive import engine, queue, signals
from revive.accounts.models import Role, User
from revive.audit import services as audit
from revive.db import as_utc, utcnow
from revive.demands.models import Demand, DemandStatus, Visibility
from revive.engine import matcher as engine_matcher
from revive.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, TransferMode, Willingness
from revive.matching import learning
from revive.matching.models import (
    DemandReading,
    IndexBuild,
    Match,
    MatchRun,
    MatchSource,
    MatchState,
    MatchTier,
    ModelStatus,
    PatentTokens,
    RunScope,
    RunStatus,
    StrengthModelVersion,
)
from revive.matching.permissions import STAFF_ROLES, can_see_patent_demands, is_staff
from revive.matching.reasons import REJECT_REASONS, reason_label

logger = logging.getLogger(__name__)

TOP_K = 20  # proposals stored per demand (the best by strength of its pool)
MIN_SCORE = engine.DEFAULT_MIN_SCORE  # patent → demands (the reverse direction)
# The pool (engine.POOL per demand) is taken as measured by ``revive eval``: any shared word
# counts; the strength model, not a score floor, decides what is shown (weak: on request).
POOL_MIN_SCORE = 0.0
TOKENIZE_BATCH = 500
DEMAND_BATCH = 50
# The recovery sweep looks for stale tokens among patents changed this recently (an index
# range on patents.updated_at); ``revive requeue-jobs`` and full index builds look at all.
TOKENS_LOOKBACK = timedelta(days=1)
MATCH_RUN_TASK = "matching.match_run"
REFIT_TASK = "matching.refit_strength"
REFIT_MIN_DECISIONS = 100  # REVIVE_REFIT_MIN_DECISIONS
SHARD_DOCS = 65_536  # documents per index shard, the most (REVIVE_INDEX_SHARD_DOCS)
CHARS_SAMPLE = 20_000  # patents sampled for the character profile (REVIVE_CHARS_SAMPLE)
TEXT_BATCH = 500  # patent texts read per query
DELTA_MAX_DOCS = 20_000  # more changed patents than this: a full build (REVIVE_DELTA_MAX_DOCS)
MAX_DELTA_SHARDS = 8
REBUILD_SHARE = 0.05
TOKENS_MARGIN_S = 30  # > the longest token-storing transaction (one batch)
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)
NO_PATENTS = "暂无可建立索引的专利（没有任何专利文本）"
BUILD_FAILED = "匹配索引构建失败，请稍后重试或联系平台管理员"


# ---------------------------------------------------------------------------- texts


def patent_text(p: Any) -> str:
    """What the matcher reads of a patent besides its title (row or model)."""
    parts = (p.tech_field, p.abstract, p.problem_solved, p.advantages, p.prospects)
    return "\n".join(x for x in parts if x)


def text_hash(title: str, text: str) -> str:
    return hashlib.sha1(f"{title}\n{text}".encode()).hexdigest()


# ---------------------------------------------------------------------------- tokens


def request_tokenize(patent_ids: Sequence[int] | None) -> str | None:
    """Queue tokenization of these patents (None: find the stale ones). Nothing is stored:
    the task is idempotent and a lost message is repaired by ``tokenize_patents(None)``,
    which every full index build runs and the recovery sweep queues (resend_stale_tokens)."""
    ids = sorted({int(i) for i in patent_ids}) if patent_ids is not None else None
    return queue.enqueue("matching.tokenize", ids)


def _stale_clause() -> sa.ColumnElement[bool]:
    # Cheap SQL pre-filter; the text hash (computed in Python) decides.
    return sa.or_(
        PatentTokens.patent_id.is_(None),
        PatentTokens.tokenizer_version != engine.TOKENIZER_VERSION,
        PatentTokens.updated_at < Patent.updated_at,
    )


def tokenize_patents(
    patent_ids: Sequence[int] | None = None, *, follow_up: bool = True
) -> dict[str, int]:
    """Store tokens of the given patents (None: every patent whose tokens are missing or stale).

    Returns {"checked", "tokenized"}. With ``follow_up``: new or changed tokens request an
    index build (which re-matches every open demand); an explicit list whose texts did not
    change (a status or willingness edit) requests a re-match, since eligibility is applied at
    query time and needs no rebuild.
    """
    cols = (
        Patent.id,
        Patent.title,
        Patent.tech_field,
        Patent.abstract,
        Patent.problem_solved,
        Patent.advantages,
        Patent.prospects,
        PatentTokens.text_hash,
        PatentTokens.tokenizer_version,
    )
    stmt = sa.select(*cols).outerjoin(PatentTokens, PatentTokens.patent_id == Patent.id)
    stmt = stmt.where(_stale_clause()) if patent_ids is None else stmt
    checked = tokenized = 0
    ids = sorted(set(patent_ids or ()))
    id_chunks: Iterable[Sequence[int] | None] = (
        [None] if patent_ids is None else [ids[i : i + 1000] for i in range(0, len(ids), 1000)]
    )
    for chunk in id_chunks:
        chunk_stmt = stmt if chunk is None else stmt.where(Patent.id.in_(chunk))
        rows = db.session.execute(chunk_stmt.order_by(Patent.id)).all()
        for start in range(0, len(rows), TOKENIZE_BATCH):
            batch = rows[start : start + TOKENIZE_BATCH]
            tokenized += _store_tokens(batch)
            checked += len(batch)
            db.session.commit()
    if follow_up and active_build() is not None:
        if tokenized:
            small = tokenized <= _config("REVIVE_DELTA_MAX_DOCS", DELTA_MAX_DOCS)
            request_index_build(kind="delta" if small else "full")
        elif patent_ids:
            request_match_run(RunScope.ALL_DEMANDS)
    logger.info("Tokenized %d of %d checked patent(s)", tokenized, checked)
    return {"checked": checked, "tokenized": tokenized}


def _store_tokens(rows: Sequence[Any]) -> int:
    now, changed = utcnow(), 0
    records = {
        r.patent_id: r
        for r in db.session.scalars(
            sa.select(PatentTokens).where(PatentTokens.patent_id.in_([row.id for row in rows]))
        )
    }
    for row in rows:
        text = patent_text(row)
        digest = text_hash(row.title, text)
        record = records.get(row.id)  # read now: a pass running beside this one may have stored it
        current = (
            record is not None
            and record.text_hash == digest
            and record.tokenizer_version == engine.TOKENIZER_VERSION
        )
        if current and record is not None:
            record.updated_at = now  # checked: no longer looks stale
            continue
        tokens = " ".join(engine.patent_tokens(row.title, text))
        if record is None:
            record = PatentTokens(patent_id=row.id)
            db.session.add(record)
        record.tokens, record.text_hash = tokens, digest
        record.tokenizer_version, record.updated_at = engine.TOKENIZER_VERSION, now
        changed += 1
    db.session.flush()
    return changed


# ---------------------------------------------------------------------------- index


def index_root() -> Path:
    path = Path(current_app.config["REVIVE_DATA_DIR"]) / "index"
    path.mkdir(parents=True, exist_ok=True)
    return path


def active_build() -> IndexBuild | None:
    """The active index: the succeeded build that covers the most recent tokens."""
    return db.session.scalar(
        sa.select(IndexBuild)
        .where(IndexBuild.status == RunStatus.SUCCEEDED)
        .order_by(
            IndexBuild.covered_at.is_(None), IndexBuild.covered_at.desc(), IndexBuild.id.desc()
        )
        .limit(1)
    )


# One loaded index per worker (and web) process, keyed by version; replaced when a newer
# build becomes active. Reads are lock-free: a swap assigns a new tuple. The key includes the
# finish time because a test database (SQLite, emptied between tests) may reuse build ids.
_loaded: tuple[tuple[int, Any], Any] | None = None
# The character profile (strength's ``chars`` feature) of the loaded index, same key.
_loaded_chars: tuple[tuple[int, Any, Any], Any] | None = None


def _index_key(build: IndexBuild) -> tuple[int, Any, Any]:
    return (build.id, build.finished_at, build.path)


def load_active_index() -> tuple[IndexBuild, Any] | None:
    """(active build, loaded engine Index), loading it once per process and version."""
    global _loaded
    build = active_build()
    if build is None:
        return None
    if _loaded is None or _loaded[0] != _index_key(build):
        try:
            # Shards shared with the index in memory (a delta on top of it) are reused.
            index = engine.Index.load(build.path, reuse=_loaded[1] if _loaded else None)
        except (OSError, ValueError, KeyError) as exc:
            # Missing artifact or one from an older engine format (after an upgrade): behave as
            # if there were no index; match runs then request a fresh build and wait for it.
            logger.warning("Index v%s unusable (%s); a rebuild is needed", build.id, exc)
            return None
        index.threads = _config("REVIVE_SEARCH_THREADS", 1)
        _loaded = (_index_key(build), index)
        logger.info("Loaded matching index v%s (%d docs)", build.id, build.doc_count)
    return build, _loaded[1]


def load_chars(build: IndexBuild) -> engine.CharProfile | None:
    """The character profile saved beside the build's index, loaded once per process and
    version. An artifact built before profiles existed gets one now (sampled from the
    patents, saved into its folder), so an upgrade needs no full rebuild."""
    global _loaded_chars
    key = _index_key(build)
    if _loaded_chars is not None and _loaded_chars[0] == key:
        return _loaded_chars[1]
    chars = None
    if build.path is not None:
        try:
            chars = engine.CharProfile.load(build.path)
            if chars is None:
                chars = _sampled_chars()
                _save_chars(chars, Path(build.path))
        except OSError as exc:  # a read-only or vanished folder: keep the profile in memory
            logger.warning("Character profile of index v%s not saved (%s)", build.id, exc)
    _loaded_chars = (key, chars)
    return chars


def request_index_build(actor: User | None = None, *, kind: str = "full") -> IndexBuild:
    """A queued build (an already queued one of the same kind is reused), committed, then
    enqueued. ``kind="delta"``: add the patents whose tokens changed since the active index to
    it as one more shard (seconds, whatever the index size); without an active index it runs
    as a full build."""
    if actor is not None and actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以重建匹配索引")
    # Coalesce with a build that has not started: it will read the newest tokens. A running
    # build may have read its tokens already, so a new request queues one more build.
    build = db.session.scalar(
        sa.select(IndexBuild)
        .where(IndexBuild.status == RunStatus.QUEUED, IndexBuild.kind == kind)
        .limit(1)
    )
    if build is not None:
        return build
    build = IndexBuild(status=RunStatus.QUEUED, kind=kind, total=0, processed=0)
    db.session.add(build)
    db.session.commit()
    _send(build, "matching.build_index")
    return build


def _send(row: IndexBuild | MatchRun, task: str) -> None:
    # The row is committed; with the broker down it stays unsent and the sweep sends it.
    queue.send(task, row.id)


def _publish(tmp: Path, target: Path) -> None:
    """Rename a finished artifact folder into place (atomic on one filesystem)."""
    if target.exists():  # left by a worker that died after the rename, before the commit
        shutil.rmtree(target)
    os.replace(tmp, target)


def _prune(root: Path, current: int, keep: int = 3) -> None:
    """Delete artifacts older than the ``keep`` newest versions (a process still on an older
    version has it in memory: Index.load reads everything at once)."""
    for path in root.glob("v*"):
        if path.is_dir() and path.name[1:].isdigit() and int(path.name[1:]) <= current - keep:
            shutil.rmtree(path, ignore_errors=True)


def _config(key: str, default: int) -> int:
    return int(current_app.config.get(key, default))


def _token_rows(since: Any = None) -> list[Any]:
    stmt = sa.select(PatentTokens.patent_id, PatentTokens.tokens).where(
        PatentTokens.tokenizer_version == engine.TOKENIZER_VERSION
    )
    if since is not None:
        stmt = stmt.where(PatentTokens.updated_at > since)
    return db.session.execute(stmt.order_by(PatentTokens.patent_id)).all()


def _read_mark() -> Any:
    """The time tokens are read "as of": a little in the past, so tokens whose transaction
    was still open while reading are picked up by the next delta (re-adding a document is
    harmless: the later entry supersedes the earlier one)."""
    return utcnow() - timedelta(seconds=TOKENS_MARGIN_S)


def _add_delta(index: Any, rows: Sequence[Any], name: str) -> Any:
    return index.add_documents(
        [r.tokens.split() for r in rows], [r.patent_id for r in rows], name=name
    )


def execute_index_build(build_id: int) -> IndexBuild | None:
    """(worker) Build and publish the index, then re-match all open demands. A full build
    tokenizes stale patents, reads every patent's tokens and builds sharded postings, then
    catches up with tokens stored meanwhile; a delta build adds the changed patents to the
    active index as one more shard. Either way the new artifact is renamed into place and
    becomes active in one commit: matching never sees a half-built index."""
    build = db.session.get(IndexBuild, build_id)
    if build is None or build.status not in ACTIVE:
        return build  # finished already: a redelivered task does nothing
    try:
        build.status, build.error = RunStatus.RUNNING, None
        build.started_at, build.processed = utcnow(), 0
        db.session.commit()
        base = load_active_index() if build.kind == "delta" else None
        if base is None or base[0].covered_at is None:
            build.kind = "full"
            index, covered, docs = _full_index(build)
        else:
            index, covered, docs = _delta_index(build, *base)
        index.version = build.id
        root = index_root()
        tmp = root / f".tmp-v{build.id}-{secrets.token_hex(4)}"
        target = root / f"v{build.id}"
        index.save(tmp)
        # The character profile of strength's ``chars`` feature: sampled anew by a full
        # build, carried over by a delta (a few changed patents barely move character IDF).
        chars = load_chars(base[0]) if base is not None and build.kind == "delta" else None
        _save_chars(chars or _sampled_chars(), tmp)
        _publish(tmp, target)

        build.path, build.doc_count = str(target), len(index)
        build.vocab_size, build.shard_count = len(index.vocabulary), len(index.shards)
        build.processed, build.covered_at = docs, covered
        build.status, build.finished_at = RunStatus.SUCCEEDED, utcnow()
        db.session.commit()
    except Exception as exc:
        _fail_build(build_id, exc)
        if isinstance(exc, _NothingToIndex):
            return db.session.get(IndexBuild, build_id)
        raise
    logger.info("Index v%s (%s) built: %d docs", build.id, build.kind, build.doc_count)
    _prune(index_root(), build.id)
    if build.kind == "delta" and _needs_rebuild(index):
        request_index_build(kind="full")  # in the background; this delta serves meanwhile
    _after_build()
    signals.index_built.send(current_app._get_current_object(), build_id=build.id)
    return build


def _sampled_chars() -> engine.CharProfile:
    """Character IDF over up to REVIVE_CHARS_SAMPLE indexed patents (title + text), taken
    evenly by id: IDF of characters settles long before a million documents."""
    ids = list(
        db.session.scalars(
            sa.select(PatentTokens.patent_id)
            .where(PatentTokens.tokenizer_version == engine.TOKENIZER_VERSION)
            .order_by(PatentTokens.patent_id)
        )
    )
    limit = max(1, _config("REVIVE_CHARS_SAMPLE", CHARS_SAMPLE))
    if len(ids) > limit:
        step = len(ids) / limit
        ids = [ids[int(i * step)] for i in range(limit)]
    return engine.CharProfile.build(
        t for chunk in _chunks(ids) for t in patent_texts(chunk).values()
    )


def _save_chars(chars: engine.CharProfile, folder: Path) -> None:
    """Write the profile into an artifact folder (via a temporary name: a process loading the
    folder meanwhile never reads half a file)."""
    part = folder / f".{engine.CharProfile.FILE}.{secrets.token_hex(4)}"
    part.mkdir()
    try:
        chars.save(part)
        os.replace(part / engine.CharProfile.FILE, folder / engine.CharProfile.FILE)
    finally:
        shutil.rmtree(part, ignore_errors=True)


def _chunks(ids: Sequence[Any], size: int = TEXT_BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def patent_texts(patent_ids: Iterable[Any]) -> dict[int, str]:
    """{patent id: title + text} as the strength model and the reasons read them (one query;
    callers pass at most TEXT_BATCH ids, or use ``_chunks``)."""
    ids = sorted({int(i) for i in patent_ids})
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(
            Patent.id,
            Patent.title,
            Patent.tech_field,
            Patent.abstract,
            Patent.problem_solved,
            Patent.advantages,
            Patent.prospects,
        ).where(Patent.id.in_(ids))
    )
    return {r.id: f"{r.title}。{patent_text(r)}" for r in rows}


def _texts_of(patent_ids: Sequence[Any]) -> dict[int, str]:
    """engine ``texts_of``: the texts of any number of patents, a batch per query."""
    out: dict[int, str] = {}
    for chunk in _chunks(list(patent_ids)):
        out.update(patent_texts(chunk))
    return out


def _full_index(build: IndexBuild) -> tuple[Any, Any, int]:
    tokenize_patents(None, follow_up=False)
    covered = _read_mark()
    rows = _token_rows()
    build.total = len(rows)
    db.session.commit()
    if not rows:
        raise _NothingToIndex(NO_PATENTS)
    index = engine.build_index(
        [r.tokens.split() for r in rows],
        [r.patent_id for r in rows],
        version=build.id,
        shard_docs=_config("REVIVE_INDEX_SHARD_DOCS", SHARD_DOCS),
    )
    docs = len(rows)
    del rows
    # Catch up with tokens stored while this build ran (a delta may have been published
    # meanwhile; this build must not become active without those patents).
    late_mark = _read_mark()
    late = _token_rows(covered)
    if late:
        index = _add_delta(index, late, f"c{build.id:06d}")
        docs += len(late)
    return index, late_mark, docs


def _delta_index(build: IndexBuild, base_build: IndexBuild, base: Any) -> tuple[Any, Any, int]:
    covered = _read_mark()
    rows = _token_rows(base_build.covered_at)
    build.base_id, build.total = base_build.id, len(rows)
    db.session.commit()
    if not rows:  # nothing changed: the same shards under a new version
        return copy.copy(base), max(covered, as_utc(base_build.covered_at)), 0
    return _add_delta(base, rows, f"d{build.id:06d}"), covered, len(rows)


def _needs_rebuild(index: Any) -> bool:
    """Deltas pile up: rebuild when they hold more than REBUILD_SHARE of the documents or
    there are more than MAX_DELTA_SHARDS of them (IDF and lengths drift, shards fragment)."""
    deltas = [s for s in index.shards if s.name[0] in "dc"]
    delta_docs = sum(s.n_docs for s in deltas)
    return len(deltas) > MAX_DELTA_SHARDS or delta_docs > REBUILD_SHARE * max(index.n_docs, 1)


class _NothingToIndex(Exception):
    pass


class _GaveUp(_NothingToIndex):
    """The build was given up (queue.GAVE_UP): its message is shown as it is."""


def _fail_build(build_id: int, exc: Exception) -> None:
    db.session.rollback()
    if isinstance(exc, _GaveUp):
        logger.error("Index build %s given up", build_id)
    else:
        logger.exception("Index build %s failed", build_id)
    message = str(exc) if isinstance(exc, _NothingToIndex) else f"{BUILD_FAILED}（{exc}）"[:2000]
    build = db.session.get(IndexBuild, build_id)
    if build is not None:
        build.status, build.error, build.finished_at = RunStatus.FAILED, message, utcnow()
    # Runs waiting for a first index cannot proceed: fail them visibly instead of hanging.
    if active_build() is None:
        for run in _waiting_runs():
            run.status, run.error, run.finished_at = RunStatus.FAILED, message, utcnow()
    db.session.commit()


def _waiting_runs() -> list[MatchRun]:
    """Runs committed while there was no index (not sent; the build sends them)."""
    return list(
        db.session.scalars(
            sa.select(MatchRun)
            .where(MatchRun.status == RunStatus.QUEUED, MatchRun.celery_task_id.is_(None))
            .order_by(MatchRun.id)
        )
    )


def _after_build() -> None:
    for run in _waiting_runs():
        _send(run, "matching.match_run")
    request_match_run(RunScope.ALL_DEMANDS)


# ---------------------------------------------------------------------------- match runs


def request_match_run(
    scope: RunScope, demand_id: int | None = None, *, actor: User | None = None
) -> MatchRun:
    """A queued run (an already queued one of the same scope is reused), committed, then
    enqueued. With no index yet, the run waits and an index build is requested first."""
    if actor is not None and actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以发起匹配")
    if scope == RunScope.DEMAND:
        if demand_id is None or db.session.get(Demand, demand_id) is None:
            raise NotFoundError("需求不存在")
    else:
        demand_id = None
    # Coalesce with a run that has not started yet: it will read the demand's latest text. A
    # running run may have read the old text already, so an edit then queues one more run.
    existing = db.session.scalar(
        sa.select(MatchRun)
        .where(
            MatchRun.scope == scope,
            MatchRun.demand_id.is_(None) if demand_id is None else MatchRun.demand_id == demand_id,
            MatchRun.status == RunStatus.QUEUED,
        )
        .order_by(MatchRun.id)
        .limit(1)
    )
    if existing is not None:
        return existing
    run = MatchRun(
        scope=scope,
        demand_id=demand_id,
        status=RunStatus.QUEUED,
        requested_by_id=actor.id if actor else None,
        total=0,
        processed=0,
        match_count=0,
    )
    db.session.add(run)
    db.session.commit()
    if active_build() is None:
        request_index_build()  # its success sends this run
    else:
        _send(run, "matching.match_run")
    return run


def eligible_groups() -> dict[frozenset[str], set[int]]:
    """Ids of patents that may be proposed, grouped by their acceptable modes (one query).

    Only 已入库 patents whose 转化意愿 is not 暂不 and that have tokens (are indexable).
    """
    rows = db.session.execute(
        sa.select(Patent.id, Patent.transfer_modes)
        .join(PatentTokens, PatentTokens.patent_id == Patent.id)
        .where(
            Patent.status == EntryStatus.ENTERED,
            sa.or_(
                Patent.transfer_willingness.is_(None),
                Patent.transfer_willingness != Willingness.NOT_NOW,
            ),
        )
    )
    groups: dict[frozenset[str], set[int]] = {}
    for pid, modes in rows:
        groups.setdefault(_modes(modes), set()).add(pid)
    return groups


def _modes(raw: str | None) -> frozenset[str]:
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

    def __init__(self, groups: dict[frozenset[str], set[int]], index: Any) -> None:
        self.groups = groups
        self.index = index
        self._masks: dict[frozenset[str], Any] = {}

    def mask(self, demand_modes: frozenset[str]) -> Any:
        found = self._masks.get(demand_modes)
        if found is None:
            found = self._masks[demand_modes] = self.index.mask(
                allowed_for(demand_modes, self.groups)
            )
        return found


# ---------------------------------------------------------------------------- strength


# The active strength model per process, keyed by (row id, activation time); the shipped
# judged-set model when no refit is active.
_strength: tuple[tuple[int, Any], engine.StrengthModel] | None = None


def active_strength_row() -> StrengthModelVersion | None:
    return db.session.scalar(
        sa.select(StrengthModelVersion).where(StrengthModelVersion.status == ModelStatus.ACTIVE)
    )


def active_strength_model() -> engine.StrengthModel:
    """The strength model matching uses: the active refit, else the shipped judged-set model
    (loaded once per process and version, like the index)."""
    global _strength
    row = active_strength_row()
    if row is None or not row.model:
        return engine.shipped_model()
    key = (row.id, row.activated_at)
    if _strength is None or _strength[0] != key:
        _strength = (key, engine.StrengthModel.from_json(row.model))
        logger.info("Loaded strength model %s", _strength[1].version)
    return _strength[1]


def thresholds(model: engine.StrengthModel | None = None) -> tuple[float, float]:
    """(bar, strong): REVIVE_MATCH_BAR / REVIVE_MATCH_STRONG, else the model's own. Below
    the bar a candidate is 弱 and a demand whose best candidate is below it abstains
    (暂无合适专利); from ``strong`` it is 强."""
    model = model or active_strength_model()
    bar = current_app.config.get("REVIVE_MATCH_BAR")
    strong = current_app.config.get("REVIVE_MATCH_STRONG")
    return (
        model.bar if bar is None else float(bar),
        model.strong if strong is None else float(strong),
    )


@dataclass(frozen=True)
class Assessor:
    """What a run assesses candidates with: the index's lexicon (IDF, for the reasons) and
    character profile, the strength model and the thresholds."""

    lexicon: Any
    chars: engine.CharProfile | None
    model: engine.StrengthModel
    bar: float
    strong: float

    @property
    def model_version(self) -> str:
        return str(self.model.version)[:40]


def _assessor(build: IndexBuild, lexicon: Any) -> Assessor:
    model = active_strength_model()
    return Assessor(lexicon, load_chars(build), model, *thresholds(model))


# One vocabulary per process for the fan-out's callback (it holds no shards).
_vocabulary: tuple[tuple[int, Any, Any], Any] | None = None


def _build_vocabulary(build: IndexBuild) -> Any:
    global _vocabulary
    key = _index_key(build)
    if _vocabulary is None or _vocabulary[0] != key:
        _vocabulary = (key, engine.read_vocabulary(build.path, n_docs=build.doc_count))
    return _vocabulary[1]


# ---------------------------------------------------------------------------- match runs (2)


def execute_match_run(run_id: int) -> MatchRun | None:
    """(worker) Match the run's demand(s) against the active index and store candidates."""
    run = db.session.get(MatchRun, run_id)
    if run is None or run.status not in ACTIVE:
        return run  # finished already: a redelivered task does nothing
    loaded = load_active_index()
    if loaded is None:
        # No index yet (sent early): wait for the build, which sends it. Unsent and unclaimed
        # again; the attempts stay, so a run that can never find its index is given up.
        run.celery_task_id = run.task_sent_at = None
        run.task_claimed_by = run.task_heartbeat_at = None
        db.session.commit()
        request_index_build()
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
        assessor = _assessor(build, index)
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
        queue.touch(MATCH_RUN_TASK, run.id)  # merge_scores holds no claim: its sign of life
        db.session.commit()
    run.status, run.finished_at = RunStatus.SUCCEEDED, utcnow()
    db.session.commit()


def _fail_run(run_id: int, exc: Exception) -> None:
    db.session.rollback()
    logger.exception("Match run %s failed", run_id)
    failed = db.session.get(MatchRun, run_id)
    if failed is not None:
        failed.status, failed.finished_at = RunStatus.FAILED, utcnow()
        failed.error = f"匹配失败，请稍后重试（{exc}）"[:2000]
        db.session.commit()


def _shard_parts(index: Any) -> list[list[str]]:
    """Shard names per fan-out task (REVIVE_MATCH_FANOUT tasks; 1 = score in this process)."""
    n = _config("REVIVE_MATCH_FANOUT", 1)
    names = [s.name for s in index.shards]
    if n <= 1 or len(names) <= 1:
        return [names]
    return [part for part in (names[i::n] for i in range(n)) if part]


# One loaded part per worker process: (artifact path, shard names) → index over those shards.
_parts: dict[tuple[str, tuple[str, ...]], Any] = {}


def score_shards(run_id: int, build_id: int, shard_names: Sequence[str]) -> dict[str, list]:
    """(worker, fan-out) What these shards of the build contribute to the pool of every open
    demand of the run (engine.pool_part): {demand id: {reading, pool, needs, rescored}},
    JSON-able; merge_scores assesses the merged pools."""
    run, build = db.session.get(MatchRun, run_id), db.session.get(IndexBuild, build_id)
    if run is None or run.status not in ACTIVE or build is None or build.path is None:
        return {}
    key = (build.path, tuple(shard_names))
    index = _parts.get(key)
    if index is None:
        _parts.clear()  # one part per process: a newer build replaces the older one
        index = _parts[key] = engine.Index.load(build.path, shards=set(shard_names))
        index.threads = _config("REVIVE_SEARCH_THREADS", 1)
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
        demands, _, decided = _load_batch(ids[start : start + DEMAND_BATCH])
        answers = engine.pool_part(
            index,
            [(d.id, d.title, _demand_text(d)) for d in demands],
            global_position=lambda pos: _global_position(index, pos, first),
            min_score=POOL_MIN_SCORE,
            allowed=[eligible.mask(_modes(d.cooperation_modes)) for d in demands],
            exclude=decided,
        )
        for d, answer in zip(demands, answers, strict=True):
            out[str(d.id)] = answer
        # A fanned-out run stays alive while its parts score: the sweep re-sends it only when
        # every part has died.
        queue.touch(MATCH_RUN_TASK, run_id)
        db.session.commit()
    return out


def _global_position(index: Any, position: int, first: dict[str, int]) -> int:
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
    if run is None or run.status not in ACTIVE:
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
        assessor = _assessor(build, _build_vocabulary(build))
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
    """(demands, their matches by demand and patent, decided patent ids per demand)."""
    demands = list(
        db.session.scalars(sa.select(Demand).where(Demand.id.in_(demand_ids)).order_by(Demand.id))
    )
    existing: dict[int, dict[int, Match]] = {d.id: {} for d in demands}
    for m in db.session.scalars(sa.select(Match).where(Match.demand_id.in_(demand_ids))):
        existing[m.demand_id][m.patent_id] = m
    decided = [
        {pid for pid, m in existing[d.id].items() if m.state != MatchState.CANDIDATE}
        for d in demands
    ]
    return demands, existing, decided


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
    for _ in range(2):
        try:
            return _match_batch_once(run_id, demand_ids, version, assessor, **source)
        except (IntegrityError, StaleDataError):
            db.session.rollback()
    return _match_batch_once(run_id, demand_ids, version, assessor, **source)


def _match_batch_once(
    run_id: int,
    demand_ids: list[int],
    version: int,
    assessor: Assessor,
    *,
    index: Any = None,
    eligible: Eligibility | None = None,
    pooled: dict[int, engine.Pooled] | None = None,
) -> int:
    """Match one batch of demands — searching ``index`` (eligible patents only, decided pairs
    excluded), or from the fan-out's merged ``pooled`` — and persist the proposals and each
    demand's reading."""
    demands, existing, decided = _load_batch(demand_ids)
    common = {
        "chars": assessor.chars,
        "model": assessor.model,
        "texts_of": _texts_of,
        "top_k": TOP_K,
        "bar": assessor.bar,
        "strong": assessor.strong,
    }
    if pooled is not None:
        # A pair decided while the parts were searching is never re-proposed.
        pools = [
            replace(
                pooled[d.id],
                candidates=tuple(c for c in pooled[d.id].candidates if int(c.right_id) not in done),
            )
            for d, done in zip(demands, decided, strict=True)
        ]
        results = engine.propose(pools, lexicon=assessor.lexicon, **common)
    else:
        assert eligible is not None
        results = engine.match_demands(
            index,
            demands=[(d.id, d.title, _demand_text(d)) for d in demands],
            min_score=POOL_MIN_SCORE,
            allowed=[eligible.mask(_modes(d.cooperation_modes)) for d in demands],
            exclude=decided,
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
    """Upsert each demand's proposals (rank = order by strength), drop undecided candidates
    that left the list, and record how the demand was read (DemandReading)."""
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
    for d, result in zip(demands, results, strict=True):
        kept: set[int] = set()
        for rank, proposal in enumerate(result.proposals, start=1):
            pid = int(proposal.doc_id)
            kept.add(pid)
            values = _proposal_values(proposal, rank, assessor)
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
            for k, v in values.items():
                setattr(m, k, v)
            m.index_version, m.run_id = version, run_id
            count += 1
        for pid, m in existing[d.id].items():
            # People's additions (an enterprise's intent, an officer's pick) stay until decided.
            if m.state == MatchState.CANDIDATE and pid not in kept and _machine_only(m):
                db.session.delete(m)
        _record_reading(readings.get(d.id), d, result, run_id, version, assessor)
    db.session.flush()
    return count


def _machine_only(m: Match) -> bool:
    """A candidate only the engine asked for (no intent, not added by an officer)."""
    return m.source == MatchSource.MACHINE and m.intent_at is None and m.added_by_id is None


def _proposal_values(p: engine.Proposal, rank: int, assessor: Assessor) -> dict[str, Any]:
    a = p.assessed
    return {
        "score": round(float(a.score), 6),
        "chars": round(float(a.chars), 6),
        "coverage": round(float(a.coverage), 6),
        "demand_mass": round(float(a.demand_mass), 6),
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
    row.proposal_count = len(result.proposals)
    row.demand_version = demand.version
    row.index_version, row.model_version, row.run_id = version, assessor.model_version, run_id


def _demand_text(d: Demand) -> str:
    return "\n".join(p for p in (d.description, d.target_specs) if p)


def reasons_of(match: Match) -> list[str]:
    """The reasons shown for a match: those stored with the proposal, or — a row proposed
    before reasons existed — the spans the two texts share, worked out now (not stored: a
    page view writes nothing)."""
    if match.reasons:
        return list(match.reasons)
    loaded = load_active_index()
    if loaded is None:
        return []
    reading = engine.read_demand(match.demand.title, _demand_text(match.demand))
    text = patent_texts([match.patent_id]).get(match.patent_id, "")
    found = engine_matcher.reasons_for(loaded[1], engine_matcher.demand_query_text(reading), text)
    return [r.text for r in found]


def drop_candidates(demand_id: int) -> int:
    """Remove the engine's undecided candidates of a (closed) demand; decisions stay on record,
    and so do the enterprise's intents and officers' additions (the enterprise's own record of
    what it asked for; the review queue lists open demands only)."""
    result = db.session.execute(
        sa.delete(Match).where(
            Match.demand_id == demand_id,
            Match.state == MatchState.CANDIDATE,
            Match.source == MatchSource.MACHINE,
            Match.intent_at.is_(None),
            Match.added_by_id.is_(None),
        )
    )
    db.session.commit()
    return result.rowcount or 0


# ---------------------------------------------------------------------------- decisions

DECISIONS = {"accept": MatchState.ACCEPTED, "reject": MatchState.REJECTED}
DECIDED_ELSEWHERE = "该匹配结果已被他人处理，请刷新后查看"


def apply_decision(
    match_id: int,
    decision: MatchState | str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Match:
    """Validate and apply a decision in the current transaction (the caller commits)."""
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以审核匹配结果")
    match = db.session.get(Match, match_id)
    if match is None:
        raise NotFoundError("匹配结果不存在")
    state = DECISIONS.get(str(decision)) or _state(decision)
    if state not in (MatchState.ACCEPTED, MatchState.REJECTED):
        raise ValidationFailed("请选择“采纳”或“否决”")
    if expected_version is not None and expected_version != match.version:
        raise ConflictError(DECIDED_ELSEWHERE)
    if match.state != MatchState.CANDIDATE:
        raise InvalidTransition(f"该匹配结果{match.state.label}，不能重复审核")
    comment = (comment or "").strip() or None
    if comment and len(comment) > 2000:
        raise ValidationFailed("备注不能超过 2000 字")
    reason_code = (reason_code or "").strip() or None
    if state == MatchState.REJECTED:
        if reason_code not in REJECT_REASONS:
            raise ValidationFailed("否决时请选择原因")
        if reason_code == "other" and not comment:
            raise ValidationFailed("选择“其他”原因时请填写说明")
    else:
        reason_code = None
    match.state, match.decided_by_id, match.decided_at = state, actor.id, utcnow()
    match.reason_code = reason_code
    match.comment = comment
    audit.record(
        "match",
        match.id,
        state.value,
        actor,
        demand_id=match.demand_id,
        patent_id=match.patent_id,
        reason=reason_code,
        comment=comment,
    )
    return match


def _state(value: MatchState | str) -> MatchState | None:
    try:
        return MatchState(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------- learning

REFIT_ACTIVE = (ModelStatus.QUEUED, ModelStatus.RUNNING)


def request_strength_refit(actor: User) -> StrengthModelVersion:
    """(platform admin) Queue a refit of the strength model from the decisions: a row
    (committed, audited), then the task. A refit already queued or running is reused."""
    if actor.role != Role.PLATFORM_ADMIN:
        raise PermissionDenied("只有平台管理员可以重新训练匹配强度模型")
    pending = _pending_refit()
    if pending is not None:
        return pending
    row = StrengthModelVersion(status=ModelStatus.QUEUED, requested_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record(
        "strength_model", row.id, "refit_request", actor, serving=active_strength_model().version
    )
    db.session.commit()
    # The row is committed; with the broker down it stays unsent and the sweep sends it.
    queue.send(REFIT_TASK, row.id)
    return row


def _pending_refit() -> StrengthModelVersion | None:
    """A queued or running refit: it will run (the recovery sweep re-sends a lost one, and
    gives up one that keeps killing its worker)."""
    return db.session.scalar(
        sa.select(StrengthModelVersion)
        .where(StrengthModelVersion.status.in_(REFIT_ACTIVE))
        .order_by(StrengthModelVersion.id)
        .limit(1)
    )


def refit_strength(model_id: int | None = None) -> StrengthModelVersion | None:
    """(worker, matching.refit_strength) Run a requested refit, or — from the daily beat
    schedule, no id — start one unless one is already under way (run here, under a claim
    of its row like any delivery)."""
    if model_id is not None:
        return execute_strength_refit(model_id)
    pending = _pending_refit()
    if pending is not None:
        return pending
    row = StrengthModelVersion(status=ModelStatus.QUEUED)
    db.session.add(row)
    db.session.commit()
    with queue.claimed(REFIT_TASK, row.id) as mine:
        return execute_strength_refit(row.id) if mine else row


def execute_strength_refit(model_id: int) -> StrengthModelVersion | None:
    """(worker) Fit the strength model on the judged pairs plus the officers' decisions
    (learning.py: labels, position weighting, time-replay check); activate it when it does at
    least as well as the serving model on the latest decisions, then re-match every open
    demand with it. Too few decisions: nothing is fitted, the serving model stays."""
    row = db.session.get(StrengthModelVersion, model_id)
    if row is None or row.status not in REFIT_ACTIVE:
        return row  # finished already: a redelivered task does nothing
    try:
        row.status, row.started_at, row.error = ModelStatus.RUNNING, utcnow(), None
        db.session.commit()
        outcome = learning.refit(
            learning.decisions(),
            active_strength_model(),
            version=row.version,
            min_decisions=_config("REVIVE_REFIT_MIN_DECISIONS", REFIT_MIN_DECISIONS),
        )
        row.n_decisions, row.n_positive = outcome.n_decisions, outcome.n_positive
        row.n_judged, row.metrics, row.note = outcome.n_judged, outcome.metrics, outcome.note
        row.finished_at = utcnow()
        if outcome.model is None:
            too_few = outcome.n_decisions < _config(
                "REVIVE_REFIT_MIN_DECISIONS", REFIT_MIN_DECISIONS
            )
            row.status = ModelStatus.SKIPPED if too_few else ModelStatus.HELD
            db.session.commit()
            logger.info("Strength refit %s: %s", row.id, row.note)
            return row
        row.model = outcome.model.to_json()
        previous = active_strength_row()
        if previous is not None:
            previous.status = ModelStatus.RETIRED
            db.session.flush()  # one active row at a time (partial unique index)
        row.status, row.activated_at = ModelStatus.ACTIVE, utcnow()
        audit.record(
            "strength_model",
            row.id,
            "activate",
            None,
            previous=previous.version if previous is not None else engine.shipped_model().version,
            auc_heldout=outcome.metrics.get("auc_heldout"),
            auc_heldout_current=outcome.metrics.get("auc_heldout_current"),
            n_decisions=row.n_decisions,
        )
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        logger.exception("Strength refit %s failed", model_id)
        failed = db.session.get(StrengthModelVersion, model_id)
        if failed is not None:
            failed.status, failed.finished_at = ModelStatus.FAILED, utcnow()
            failed.error = f"训练失败（{exc}）"[:2000]
            db.session.commit()
        raise
    logger.info("Strength model %s active: %s", row.version, row.note)
    if active_build() is not None:
        request_match_run(RunScope.ALL_DEMANDS)  # stored strengths follow the new model
    return row


# ---------------------------------------------------------------------------- recovery


def _give_up_build(build_id: int) -> None:
    _fail_build(build_id, _GaveUp(queue.GAVE_UP))


def _give_up_run(run_id: int) -> None:
    db.session.rollback()
    run = db.session.get(MatchRun, run_id)
    if run is not None:
        run.status, run.error, run.finished_at = RunStatus.FAILED, queue.GAVE_UP, utcnow()
        db.session.commit()


def _give_up_refit(model_id: int) -> None:
    db.session.rollback()
    row = db.session.get(StrengthModelVersion, model_id)
    if row is not None:
        row.status, row.error, row.finished_at = ModelStatus.FAILED, queue.GAVE_UP, utcnow()
        db.session.commit()


def _index_exists() -> sa.ColumnElement[bool]:
    """A queued run waits for a first index (the build sends it): the sweep leaves it."""
    return sa.or_(
        MatchRun.status != RunStatus.QUEUED,
        sa.exists().where(IndexBuild.status == RunStatus.SUCCEEDED),
    )


def resend_stale_tokens(full: bool = False) -> list[None]:
    """(the recovery sweep) A patent changed more than REVIVE_MESSAGE_LOST_SECONDS ago whose
    tokens are still stale lost its tokenize message (broker down, worker lost): queue one pass
    over every stale patent. Looks at patents changed within TOKENS_LOOKBACK (an index range;
    ``full``: all of them — a manual run; every full index build also tokenizes all). Returns
    ``[None]`` (the task's argument) when sent."""
    now = utcnow()
    stale = (
        sa.select(Patent.id)
        .outerjoin(PatentTokens, PatentTokens.patent_id == Patent.id)
        .where(_stale_clause(), Patent.updated_at < now - queue.message_lost_after())
    )
    if not full:
        stale = stale.where(Patent.updated_at >= now - TOKENS_LOOKBACK)
    found = db.session.scalar(stale.limit(1))
    db.session.rollback()
    if found is None:
        return []
    request_tokenize(None)
    return [None]


queue.register(
    queue.Kind(
        "matching.build_index",
        IndexBuild,
        active=lambda: IndexBuild.status.in_(ACTIVE),
        give_up=_give_up_build,
    )
)
queue.register(
    queue.Kind(
        MATCH_RUN_TASK,
        MatchRun,
        active=lambda: MatchRun.status.in_(ACTIVE),
        give_up=_give_up_run,
        ready=_index_exists,
    )
)
queue.register(
    queue.Kind(
        REFIT_TASK,
        StrengthModelVersion,
        active=lambda: StrengthModelVersion.status.in_(REFIT_ACTIVE),
        give_up=_give_up_refit,
    )
)
queue.register_check("matching.tokenize", resend_stale_tokens)


# ---------------------------------------------------------------------------- receivers


def on_patents_changed(patent_ids: Sequence[int] | None) -> None:
    """Receiver body: enqueue tokenization; never fail the sender."""
    try:
        request_tokenize(patent_ids)
    except Exception:
        logger.exception("Could not queue tokenization of %s", patent_ids or "stale patents")


def on_demand_saved(demand_id: int) -> None:
    try:
        request_match_run(RunScope.DEMAND, demand_id)
    except Exception:
        db.session.rollback()
        logger.exception("Could not queue a match run for demand %s", demand_id)


def on_demand_closed(demand_id: int) -> None:
    try:
        drop_candidates(demand_id)
    except Exception:
        db.session.rollback()
        logger.exception("Could not drop candidates of closed demand %s", demand_id)


# ---------------------------------------------------------------------------- patent → demands

# Per process: tokens of open demands keyed by _demand_key, and ranked lists
# keyed by (index version, patent id, public only, demands stamp, depth). Small and bounded.
_demand_tokens: dict[tuple[Any, ...], list[str]] = {}
_ranked: dict[tuple[Any, ...], list[tuple[int, float]]] = {}
_CACHE_LIMIT = 2000


def _bounded_put(cache: dict, key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


@dataclass
class PatentDemands:
    """The patent page's list of open demands that fit (``listed``: (demand, score, reasons),
    best first) and those that would fit by their text but are left out by an eligibility
    rule (``left_out``: (demand, score, the rule in Chinese)). ``patent_rule``: the patent
    itself is not proposed to any demand (then every near demand is left out for it).
    ``accepted``: ids of listed demands an officer already pushed this patent to."""

    listed: list[tuple[Demand, float, list[str]]] = field(default_factory=list)
    left_out: list[tuple[Demand, float, str]] = field(default_factory=list)
    patent_rule: str | None = None
    accepted: set[int] = field(default_factory=set)


def modes_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """The cooperation modes of a demand and a patent admit each other (a side that lists none
    has not restricted itself: see ``allowed_for``)."""
    return not a or not b or bool(a & b)


def _mode_labels(modes: frozenset[str]) -> str:
    labels = {m.value: m.label for m in TransferMode}
    return "、".join(labels.get(m, m) for m in sorted(modes))


def patent_rule(patent: Patent, index: Any) -> str | None:
    """Why the matcher proposes this patent to no demand (eligible_groups' rules), or None."""
    if patent.status != EntryStatus.ENTERED:
        return f"专利尚未入库（当前：{patent.status.label}），入库后才会推荐给企业需求"
    if patent.transfer_willingness == Willingness.NOT_NOW:
        return "专利的转化意愿为“暂不”，不推荐给企业需求"
    if not len(index.positions([patent.id])):
        return "专利尚未进入匹配索引，下次索引更新后参与匹配"
    return None


def _pair_rules(patent: Patent, rows: Sequence[Any]) -> tuple[dict[int, str], set[int]]:
    """({demand id: the rule that leaves the pair out}, ids of demands it was accepted for):
    modes that do not overlap, a pair an officer rejected — as the demand direction applies
    them (eligibility masks, decided pairs excluded)."""
    rules: dict[int, str] = {}
    p_modes = _modes(patent.transfer_modes)
    for r in rows:
        d_modes = _modes(r.cooperation_modes)
        if not modes_overlap(d_modes, p_modes):
            rules[r.id] = (
                f"合作方式不符：需求期望{_mode_labels(d_modes)}，专利可接受{_mode_labels(p_modes)}"
            )
    accepted: set[int] = set()
    decided = db.session.execute(
        sa.select(Match.demand_id, Match.state, Match.reason_code).where(
            Match.patent_id == patent.id, Match.state != MatchState.CANDIDATE
        )
    )
    for demand_id, state, reason in decided:
        if state == MatchState.REJECTED:
            rules[demand_id] = f"该组合已被技术经理人否决（{reason_label(reason)}），不再推荐"
        else:
            accepted.add(demand_id)
    return rules, accepted


def demands_for_patent(actor: User, patent: Patent, top_k: int = 10) -> PatentDemands:
    """Open demands ranked for this patent (reverse direction), with explanation terms, under
    the same eligibility as a demand's candidate list: a patent not 已入库 (or 暂不, or not yet
    indexed) is proposed to no demand, a demand whose cooperation modes the patent does not
    accept and a pair an officer rejected are left out — with the rule, so the page can say
    why a demand that reads close is not listed.

    University users see only PUBLIC demands. Scored in the active index's IDF space against
    the open demands' tokens (the postings as matching reads them); cached per index version
    until a demand changes.
    """
    if not can_see_patent_demands(actor, patent):
        raise NotFoundError("专利不存在或您无权查看")
    out = PatentDemands()
    loaded = load_active_index()
    if loaded is None:
        return out
    build, index = loaded
    public_only = not is_staff(actor)
    stmt = sa.select(Demand.id, Demand.version, Demand.updated_at, Demand.cooperation_modes).where(
        Demand.status == DemandStatus.OPEN
    )
    if public_only:
        stmt = stmt.where(Demand.visibility == Visibility.PUBLIC)
    rows = db.session.execute(stmt.order_by(Demand.id)).all()
    if not rows:
        return out
    out.patent_rule = patent_rule(patent, index)
    rules, out.accepted = ({}, set()) if out.patent_rule else _pair_rules(patent, rows)
    # Deep enough that top_k eligible demands remain after the left-out ones.
    depth = top_k + len(rules)
    ranked = _ranked_demands(build, index, patent, rows, public_only, depth)
    by_id = {
        d.id: d
        for d in db.session.scalars(
            sa.select(Demand)
            .where(Demand.id.in_([r[0] for r in ranked]))
            .options(joinedload(Demand.enterprise))  # the panel shows each one's enterprise
        )
    }
    for demand_id, score in ranked:
        d = by_id.get(demand_id)
        if d is None:
            continue
        rule = out.patent_rule or rules.get(demand_id)
        if rule:
            if len(out.left_out) < top_k:
                out.left_out.append((d, score, rule))
        elif len(out.listed) < top_k:
            out.listed.append((d, score, _pair_reasons(build, index, patent, d)))
        else:
            break  # below the last listed demand: what is left out there would not show
    return out


def _ranked_demands(
    build: IndexBuild,
    index: Any,
    patent: Patent,
    rows: Sequence[Any],
    public_only: bool,
    depth: int,
) -> list[tuple[int, float]]:
    stamp = hashlib.sha1(repr([_demand_key(r) for r in rows]).encode()).hexdigest()
    record = db.session.get(PatentTokens, patent.id)
    key = (
        _index_key(build),
        patent.id,
        public_only,
        stamp,
        record.text_hash if record else None,
        depth,
    )
    ranked = _ranked.get(key)
    if ranked is None:
        p_tokens = (
            record.tokens.split()
            if record is not None
            else engine.patent_tokens(patent.title, patent_text(patent))
        )
        candidates = engine.rank_against(
            p_tokens,
            _open_demand_tokens(rows),
            [r.id for r in rows],
            index,
            depth,
            min_score=MIN_SCORE,
            query_id=patent.id,
        )
        ranked = [(int(c.right_id), float(c.score)) for c in candidates]
        _bounded_put(_ranked, key, ranked)
    return ranked


_pair_reason_cache: dict[tuple[Any, ...], list[str]] = {}


def _pair_reasons(build: IndexBuild, index: Any, patent: Patent, demand: Demand) -> list[str]:
    """The reasons of a (demand, patent) pair (spans both texts share), cached per index
    version and the two texts' versions."""
    key = (_index_key(build), patent.id, patent.updated_at, _demand_key(demand))
    found = _pair_reason_cache.get(key)
    if found is None:
        reading = engine.read_demand(demand.title, _demand_text(demand))
        text = f"{patent.title}。{patent_text(patent)}"
        found = [
            r.text
            for r in engine_matcher.reasons_for(
                index, engine_matcher.demand_query_text(reading), text
            )
        ]
        _bounded_put(_pair_reason_cache, key, found)
    return found


def _demand_key(d: Any) -> tuple[Any, ...]:
    """A demand's text version for the caches: (id, version, updated_at) — the time too, as a
    test database emptied between tests reuses ids and versions."""
    return (d.id, d.version, d.updated_at)


def _open_demand_tokens(rows: Sequence[Any]) -> list[list[str]]:
    """Tokens of the demands ``rows`` (id, version, updated_at) as matching reads them
    (boilerplate, terms and company profile removed: engine.read_demand); texts are read and
    tokenized only for those not in the per-process cache."""
    tokens = {r.id: _demand_tokens.get(_demand_key(r)) for r in rows}
    missing = [demand_id for demand_id, toks in tokens.items() if toks is None]
    if missing:
        texts = sa.select(
            Demand.id,
            Demand.version,
            Demand.updated_at,
            Demand.title,
            Demand.description,
            Demand.target_specs,
        ).where(Demand.id.in_(missing))
        for d in db.session.execute(texts):
            reading = engine.read_demand(d.title, _demand_text(d))
            tokens[d.id] = engine.demand_tokens(reading.title, reading.text)
            _bounded_put(_demand_tokens, _demand_key(d), tokens[d.id])
    return [tokens[r.id] or [] for r in rows]  # [] for a demand deleted in between
