"""Index builds and publishing: the engine index over the stored tokens, its artifact folder
and version, and the one loaded index per process.

    execute_index_build     (worker) tokenize stale patents, build (full, or a delta shard on
                            the active index), write the artifact to a temp folder and rename
                            it to REVIVE_DATA_DIR/index/v<id>; then re-match every open demand
    load_active_index       (active build, loaded engine Index), once per process and version
    load_chars              the build's character profile (strength's ``chars`` feature)

Worker steps are idempotent: a finished row is left alone when its task is delivered again.
The IndexBuild row is its task's outbox (revive.queue: each delivery claims its row; the
recovery sweep sends what the broker never got or lost and re-sends what a dead worker left).
"""

from __future__ import annotations

import copy
import logging
import os
import secrets
import shutil
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from flask import current_app

from revive import engine, queue, signals
from revive.db import as_utc, utcnow
from revive.errors import DomainError
from revive.extensions import db
from revive.matching import jobs, tokens
from revive.matching.models import (
    IndexBuild,
    MatchRun,
    PatentTokens,
    RunScope,
    RunStatus,
)

logger = logging.getLogger(__name__)


SHARD_DOCS = 65_536  # documents per index shard, the most (REVIVE_INDEX_SHARD_DOCS)
CHARS_SAMPLE = 20_000  # patents sampled for the character profile (REVIVE_CHARS_SAMPLE)
MAX_DELTA_SHARDS = 8
REBUILD_SHARE = 0.05
TOKENS_MARGIN_S = 30  # > the longest token-storing transaction (one batch)
NO_PATENTS = "暂无可建立索引的专利（没有任何专利文本）"
BUILD_FAILED = "匹配索引构建失败，请稍后重试或联系平台管理员"


def index_root() -> Path:
    path = Path(current_app.config["REVIVE_DATA_DIR"]) / "index"
    path.mkdir(parents=True, exist_ok=True)
    return path


class IndexKey(NamedTuple):
    """What a loaded artifact is cached under. The finish time is part of it because a test
    database (SQLite, emptied between tests) may reuse build ids."""

    build_id: int
    finished_at: datetime | None
    path: str | None


class LoadedIndex(NamedTuple):
    """The active build and its engine index, loaded in this process."""

    build: IndexBuild
    index: engine.Index


class BuiltIndex(NamedTuple):
    """What a build produced: the index, the time its tokens are read "as of" (the next
    delta reads tokens stored after it) and the documents it added."""

    index: engine.Index
    covered_at: datetime
    docs: int


# One loaded index per worker (and web) process, keyed by version; replaced when a newer
# build becomes active. Reads are lock-free: a swap assigns a new tuple.
_loaded: tuple[IndexKey, engine.Index] | None = None
# The character profile (strength's ``chars`` feature) of the loaded index, same key.
_loaded_chars: tuple[IndexKey, engine.CharProfile | None] | None = None


def index_key(build: IndexBuild) -> IndexKey:
    return IndexKey(build.id, build.finished_at, build.path)


def load_active_index() -> LoadedIndex | None:
    """The active build and its engine index, loading it once per process and version."""
    global _loaded
    build = jobs.active_build()
    if build is None:
        return None
    if _loaded is None or _loaded[0] != index_key(build):
        try:
            # Shards shared with the index in memory (a delta on top of it) are reused.
            index = engine.Index.load(build.path, reuse=_loaded[1] if _loaded else None)
        except (OSError, ValueError, KeyError) as exc:
            # Missing artifact or one from an older engine format (after an upgrade): behave as
            # if there were no index; match runs then request a fresh build and wait for it.
            logger.warning("Index v%s unusable (%s); a rebuild is needed", build.id, exc)
            return None
        index.threads = jobs.setting("REVIVE_SEARCH_THREADS", 1)
        _loaded = (index_key(build), index)
        logger.info("Loaded matching index v%s (%d docs)", build.id, build.doc_count)
    return LoadedIndex(build, _loaded[1])


def load_chars(build: IndexBuild) -> engine.CharProfile | None:
    """The character profile saved beside the build's index, loaded once per process and
    version. An artifact built before profiles existed gets one now (sampled from the
    patents, saved into its folder), so an upgrade needs no full rebuild."""
    global _loaded_chars
    key = index_key(build)
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


def _token_rows(since: Any = None) -> list[Any]:
    stmt = sa.select(PatentTokens.patent_id, PatentTokens.tokens).where(
        PatentTokens.tokenizer_version == engine.TOKENIZER_VERSION
    )
    if since is not None:
        stmt = stmt.where(PatentTokens.updated_at > since)
    return db.session.execute(stmt.order_by(PatentTokens.patent_id)).all()


def _read_mark() -> datetime:
    """The time tokens are read "as of": a little in the past, so tokens whose transaction
    was still open while reading are picked up by the next delta (re-adding a document is
    harmless: the later entry supersedes the earlier one)."""
    return utcnow() - timedelta(seconds=TOKENS_MARGIN_S)


def _add_delta(index: engine.Index, rows: Sequence[Any], name: str) -> engine.Index:
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
    if build is None or build.status not in jobs.ACTIVE:
        return build  # finished already: a redelivered task does nothing
    try:
        build.status, build.error = RunStatus.RUNNING, None
        build.started_at, build.processed = utcnow(), 0
        db.session.commit()
        base = load_active_index() if build.kind == "delta" else None
        if base is None or base.build.covered_at is None:
            build.kind = "full"
            index, covered, docs = _full_index(build)
        else:
            index, covered, docs = _delta_index(build, base.build, base.index)
        index.version = build.id
        root = index_root()
        tmp = root / f".tmp-v{build.id}-{secrets.token_hex(4)}"
        target = root / f"v{build.id}"
        index.save(tmp)
        # The character profile of strength's ``chars`` feature: sampled anew by a full
        # build, carried over by a delta (a few changed patents barely move character IDF).
        chars = load_chars(base.build) if base is not None and build.kind == "delta" else None
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
        jobs.request_index_build(kind="full")  # in the background; this delta serves meanwhile
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
    limit = max(1, jobs.setting("REVIVE_CHARS_SAMPLE", CHARS_SAMPLE))
    if len(ids) > limit:
        step = len(ids) / limit
        ids = [ids[int(i * step)] for i in range(limit)]
    return engine.CharProfile.build(
        t for chunk in tokens.chunks(ids) for t in tokens.patent_texts(chunk).values()
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


def _full_index(build: IndexBuild) -> BuiltIndex:
    tokens.tokenize_patents(None, follow_up=False)
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
        shard_docs=jobs.setting("REVIVE_INDEX_SHARD_DOCS", SHARD_DOCS),
    )
    docs = len(rows)
    del rows
    # Catch up with tokens stored while this build ran (a delta may have been published
    # meanwhile; this build must not become active without those patents).
    late_mark = _read_mark()
    late = _token_rows(covered)
    if late:
        index = _add_delta(index, late, f"c{build.id:06d}")
        # patents, not entries: a patent read again supersedes its first entry (an operator's
        # page read 已处理 8251 / 4776 件专利 when tokens were stored during the build)
        docs = build.total = len(index)
    return BuiltIndex(index, late_mark, docs)


def _delta_index(build: IndexBuild, base_build: IndexBuild, base: engine.Index) -> BuiltIndex:
    covered = _read_mark()
    rows = _token_rows(base_build.covered_at)
    build.base_id, build.total = base_build.id, len(rows)
    db.session.commit()
    if not rows:  # nothing changed: the same shards under a new version
        return BuiltIndex(copy.copy(base), max(covered, as_utc(base_build.covered_at)), 0)
    return BuiltIndex(_add_delta(base, rows, f"d{build.id:06d}"), covered, len(rows))


def _needs_rebuild(index: engine.Index) -> bool:
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
    if isinstance(exc, _NothingToIndex):
        message = str(exc)
    elif isinstance(exc, DomainError):
        message = f"{BUILD_FAILED}（{exc.message}）"[:2000]
    else:  # the exception's own text (SQL, paths) is for the log above, not for the page
        message = f"{BUILD_FAILED}（内部错误 {type(exc).__name__}，详见服务日志）"
    build = db.session.get(IndexBuild, build_id)
    if build is not None:
        build.status, build.error, build.finished_at = RunStatus.FAILED, message, utcnow()
    # Runs waiting for a first index cannot proceed: fail them visibly instead of hanging.
    if jobs.active_build() is None:
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
        jobs.send(run, "matching.match_run")
    jobs.request_match_run(RunScope.ALL_DEMANDS)


# One vocabulary per process for the fan-out's callback (it holds no shards).
_vocabulary: tuple[IndexKey, engine.Vocabulary] | None = None


def build_vocabulary(build: IndexBuild) -> engine.Vocabulary:
    global _vocabulary
    key = index_key(build)
    if _vocabulary is None or _vocabulary[0] != key:
        _vocabulary = (key, engine.read_vocabulary(build.path, n_docs=build.doc_count))
    return _vocabulary[1]


def _give_up_build(build_id: int) -> None:
    _fail_build(build_id, _GaveUp(queue.GAVE_UP))


queue.register(
    queue.Kind(
        "matching.build_index",
        IndexBuild,
        active=lambda: IndexBuild.status.in_(jobs.ACTIVE),
        give_up=_give_up_build,
    )
)
