"""Industry pools: define, rank (a worker task, the PoolRun row is the record), curate, propose.

    save_pool            create or edit a pool (staff), audited; the caller then asks for a
                         ranking (request_ranking)
    request_ranking      PoolRun QUEUED (committed) → enqueue "pools.run"; a queued run of the
                         same pool and kind is reused
    execute_run          (worker) RANK: the engine ranks 已入库 patents (revive.pools.ranking,
                         as measured in eval/pools) and open demands; candidates are upserted,
                         undecided ones that left the ranking dropped, decided ones kept.
                         PROPOSE: patents entered since the pool's last check scoring at
                         least its bar become 待确认 candidates (source "new")
    request_proposals    (receiver of index_built) a PROPOSE run per ranked pool
    decide_members       include / exclude patents or demands of a pool (staff), audited

Members are never added silently: everything the engine finds waits as 待确认 until a curator
decides, with the spans the pool's text shares with the member shown as reasons.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from revive import engine, queue
from revive.accounts.models import Role, User
from revive.audit import services as audit
from revive.db import commit_or_conflict, utcnow
from revive.demands.models import Demand, DemandStatus
from revive.engine import matcher as engine_matcher
from revive.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.matching import indexes, tokens
from revive.pools import ranking
from revive.pools.models import (
    IndustryMode,
    MemberSource,
    MemberState,
    Pool,
    PoolDemand,
    PoolPatent,
    PoolRun,
    PoolRunKind,
    PoolRunStatus,
)
from revive.selection import selected_ids

logger = logging.getLogger(__name__)

STAFF_ROLES = frozenset({Role.PLATFORM_ADMIN, Role.OFFICER})
READ_ROLES = STAFF_ROLES | {Role.REGULATOR}
ACTIVE = (PoolRunStatus.QUEUED, PoolRunStatus.RUNNING)
NAME_MAX, DESCRIPTION_MAX, TERMS_MAX, CODES_MAX = 100, 2000, 1000, 20
CODE = re.compile(r"^[A-T](\d{2,4})?$")  # GB/T 4754: a section letter, then 2–4 digits
NO_INDEX = "尚无可用的匹配索引：请先在「匹配任务」页重建索引，再重新排序"
DECIDED_ELSEWHERE = "该条目已被他人处理，请刷新后查看"
REASONS_SHOWN = 5
DECISIONS = {"include": MemberState.INCLUDED, "exclude": MemberState.EXCLUDED}
KINDS = ("patent", "demand")


def _check_staff(actor: User) -> None:
    if actor.role not in STAFF_ROLES:
        raise PermissionDenied("只有技术经理人或平台管理员可以维护产业专利池")


def get_pool(pool_id: int) -> Pool:
    pool = db.session.get(Pool, pool_id)
    if pool is None:
        raise NotFoundError("产业专利池不存在")
    return pool


# ---------------------------------------------------------------------------- define


def parse_codes(raw: Any) -> list[str]:
    """GB/T 4754 codes or prefixes from "C144, A0311 牛的饲养；C3841" (names after a code are
    allowed and dropped); ValidationFailed naming a bad one."""
    text = str(raw or "").upper()
    codes: list[str] = []
    for part in re.split(r"[,，;；、\n]+", text):
        token = part.strip().split(" ")[0].strip()
        if not token:
            continue
        if not CODE.match(token):
            message = f"行业代码「{token}」无效：须为 GB/T 4754 代码，如 C144 或 A0311"
            raise ValidationFailed(message, details={"industry_codes": message})
        if token not in codes:
            codes.append(token)
    if len(codes) > CODES_MAX:
        raise ValidationFailed(
            f"行业代码最多 {CODES_MAX} 个", details={"industry_codes": f"最多 {CODES_MAX} 个"}
        )
    return codes


def _text(data: Mapping[str, Any], key: str, label: str, limit: int, required=False) -> str:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(f"{label}须为文字", details={key: "须为文字"})
    text = " ".join((value or "").split()) if key == "name" else (value or "").strip()
    if required and not text:
        raise ValidationFailed(f"请填写{label}", details={key: f"请填写{label}"})
    if len(text) > limit:
        raise ValidationFailed(f"{label}过长（最多 {limit} 字）", details={key: "过长"})
    return text


def _bar(raw: Any) -> float | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if isinstance(raw, bool) or not 0 <= value <= 1:
        raise ValidationFailed("推荐阈值须为 0 到 1 之间的数", details={"bar": "须为 0 到 1"})
    return round(value, 4)


def _mode(raw: Any, codes: list[str]) -> IndustryMode:
    if raw in (None, ""):
        return IndustryMode.BOOST if codes else IndustryMode.NONE
    try:
        mode = IndustryMode(str(raw))
    except ValueError:
        raise ValidationFailed(
            "行业代码用法无效", details={"industry_mode": "无效的选项"}
        ) from None
    if mode != IndustryMode.NONE and not codes:
        raise ValidationFailed(
            "使用行业代码前请先填写行业代码", details={"industry_codes": "请填写行业代码"}
        )
    return mode


def parse_pool(data: Mapping[str, Any]) -> dict[str, Any]:
    """The pool's values from a form or a JSON body (ValidationFailed on the first problem)."""
    codes = parse_codes(data.get("industry_codes"))
    return {
        "name": _text(data, "name", "名称", NAME_MAX, required=True),
        "description": _text(data, "description", "产业说明", DESCRIPTION_MAX, required=True),
        "key_terms": _text(data, "key_terms", "关键词", TERMS_MAX),
        "industry_codes": ",".join(codes) or None,
        "industry_mode": _mode(data.get("industry_mode"), codes),
        "bar": _bar(data.get("bar")),
    }


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, IndustryMode) else value


def save_pool(
    data: Mapping[str, Any],
    *,
    actor: User,
    pool_id: int | None = None,
    expected_version: int | None = None,
) -> Pool:
    """Create a pool, or edit one (optimistic lock by ``expected_version``); audited."""
    _check_staff(actor)
    values = parse_pool(data)
    clash = db.session.scalar(
        sa.select(Pool.id).where(Pool.name == values["name"], Pool.id != (pool_id or 0))
    )
    if clash:
        raise ValidationFailed("已有同名的产业专利池", details={"name": "已有同名的产业专利池"})
    if pool_id is None:
        pool = Pool(created_by_id=actor.id, **values)
        db.session.add(pool)
        db.session.flush()
        audit.record("pool", pool.id, "create", actor, fields=sorted(values))
    else:
        pool = get_pool(pool_id)
        if expected_version is not None and expected_version != pool.version:
            raise ConflictError("产业专利池已被他人修改，请刷新后重试")
        changes = {
            k: [_plain(getattr(pool, k)), _plain(v)]
            for k, v in values.items()
            if getattr(pool, k) != v
        }
        for key, value in values.items():
            setattr(pool, key, value)
        if changes:
            audit.record("pool", pool.id, "edit", actor, changes=changes)
    try:
        commit_or_conflict("产业专利池已被他人修改，请刷新后重试")
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed("已有同名的产业专利池", details={"name": "已有同名"}) from None
    return pool


# ---------------------------------------------------------------------------- runs


def request_ranking(
    pool_id: int, *, actor: User | None = None, kind: PoolRunKind = PoolRunKind.RANK
) -> PoolRun:
    """A queued run of the pool (a queued one of the same kind is reused), committed, then
    enqueued; a ranking request by a person is audited."""
    if actor is not None:
        _check_staff(actor)
    pool = get_pool(pool_id)
    run = db.session.scalar(
        sa.select(PoolRun).where(
            PoolRun.pool_id == pool.id,
            PoolRun.kind == kind,
            PoolRun.status == PoolRunStatus.QUEUED,
        )
    )
    if run is not None:
        return run
    run = PoolRun(
        pool_id=pool.id,
        kind=kind,
        status=PoolRunStatus.QUEUED,
        requested_by_id=actor.id if actor else None,
    )
    db.session.add(run)
    db.session.flush()
    if actor is not None:
        audit.record("pool", pool.id, "rank", actor, run_id=run.id)
    db.session.commit()
    _send(run)
    return run


POOL_RUN_TASK = "pools.run"


def _send(run: PoolRun) -> None:
    """Send the committed run (broker down: the recovery sweep sends it later)."""
    queue.send(POOL_RUN_TASK, run.id)


def _give_up_run(run_id: int) -> None:
    queue.mark_failed(PoolRun, run_id, PoolRunStatus.FAILED, queue.GAVE_UP)


# A queued or running pool run is the outbox of its task (revive.queue).
queue.register(
    queue.Kind(
        POOL_RUN_TASK,
        PoolRun,
        active=lambda: PoolRun.status.in_((PoolRunStatus.QUEUED, PoolRunStatus.RUNNING)),
        give_up=_give_up_run,
    )
)


def request_proposals(build_id: int | None = None) -> list[int]:
    """(receiver of index_built) A proposal run for every pool ranked at least once."""
    pools = db.session.scalars(sa.select(Pool.id).where(Pool.checked_at.is_not(None)))
    return [request_ranking(pid, kind=PoolRunKind.PROPOSE).id for pid in list(pools)]


def _config(key: str, default: Any) -> Any:
    return current_app.config.get(key, default)


def bar_of(pool: Pool) -> float:
    return pool.bar if pool.bar is not None else float(_config("REVIVE_POOL_PROPOSE_BAR", 0.10))


def execute_run(run_id: int) -> PoolRun | None:
    """(worker) Run a pool's ranking or proposal; idempotent (a finished run is left alone,
    a re-run replaces its undecided candidates)."""
    run = db.session.get(PoolRun, run_id)
    if run is None or run.status not in ACTIVE:
        return run
    try:
        started = utcnow()
        run.status, run.started_at, run.error = PoolRunStatus.RUNNING, started, None
        db.session.commit()
        loaded = indexes.load_active_index()
        if loaded is None:
            raise _NoIndex(NO_INDEX)
        build, index = loaded
        run.index_version = build.id
        pool = run.pool
        if run.kind == PoolRunKind.RANK:
            _rank(run, pool, index)
        else:
            _propose(run, pool, index)
        pool.checked_at = started
        run.status, run.finished_at = PoolRunStatus.SUCCEEDED, utcnow()
        db.session.commit()
    except Exception as exc:
        message = str(exc) if isinstance(exc, _NoIndex) else "排序失败，请稍后重试"
        failed = queue.mark_failed(PoolRun, run_id, PoolRunStatus.FAILED, message)
        if isinstance(exc, _NoIndex):
            return failed
        raise
    logger.info("Pool run %s (%s) done: %d patents", run.id, run.kind, run.patent_count)
    return run


class _NoIndex(Exception):
    pass


def _entered_ids(pool: Pool, since: Any = None) -> tuple[list[int], set[int] | None]:
    """(ids of 已入库 patents the pool may rank, those of them in its industry codes)."""
    stmt = sa.select(Patent.id, Patent.industry_code).where(Patent.status == EntryStatus.ENTERED)
    if since is not None:
        stmt = stmt.where(Patent.entered_at > since)
    rows = db.session.execute(stmt).all()
    if pool.industry_mode == IndustryMode.NONE or not pool.codes:
        return [r[0] for r in rows], None
    in_codes = {r[0] for r in rows if ranking.matches_codes(r[1], pool.codes)}
    if pool.industry_mode == IndustryMode.RESTRICT:
        return sorted(in_codes), None
    return [r[0] for r in rows], in_codes


def _pool_text(pool: Pool) -> str:
    return ranking.query_text(pool.name, pool.description, pool.key_terms)


def _tokens(pool: Pool) -> list[str]:
    return ranking.query_tokens(pool.name, pool.description, pool.key_terms)


def _reasons(
    index: engine.Lexicon, pool_text: str, texts: Mapping[int, str], ids: Iterable[int]
) -> dict:
    return {
        i: [r.text for r in engine_matcher.reasons_for(index, pool_text, texts.get(i, ""))][
            :REASONS_SHOWN
        ]
        for i in ids
    }


def _terms(c: engine.Candidate) -> list[list[Any]]:
    return [[t, round(float(w), 4)] for t, w in c.terms]


def _rank(run: PoolRun, pool: Pool, index: engine.Index) -> None:
    allowed, boosted = _entered_ids(pool)
    top_k = int(_config("REVIVE_POOL_TOP_K", 100))
    hits = ranking.rank_patents(index, _tokens(pool), top_k=top_k, allowed=allowed, boosted=boosted)
    run.total = len(allowed)
    texts = {}
    for chunk in _chunks([int(c.right_id) for c in hits]):
        texts.update(tokens.patent_texts(chunk))
    reasons = _reasons(index, _pool_text(pool), texts, texts)
    existing = {
        m.patent_id: m
        for m in db.session.scalars(sa.select(PoolPatent).where(PoolPatent.pool_id == pool.id))
    }
    ranked: set[int] = set()
    for rank, c in enumerate(hits, start=1):
        pid = int(c.right_id)
        ranked.add(pid)
        row = existing.get(pid)
        if row is None:
            row = PoolPatent(pool_id=pool.id, patent_id=pid, source=MemberSource.RANKING)
            db.session.add(row)
        row.score, row.rank = round(float(c.score), 6), rank
        row.reasons, row.terms = reasons.get(pid, []), _terms(c)
    for pid, row in existing.items():
        if pid in ranked:
            continue
        if row.state == MemberState.CANDIDATE and row.source == MemberSource.RANKING:
            db.session.delete(row)  # left the ranking before anyone decided on it
        else:
            row.rank = None
    run.patent_count = len(hits)
    run.processed = run.total
    run.demand_count = _rank_demands(pool, index)


def _demand_text(d: Any) -> str:
    return "\n".join(x for x in (d.description, d.target_specs) if x)


def _rank_demands(pool: Pool, index: engine.Index) -> int:
    rows = db.session.execute(
        sa.select(Demand.id, Demand.title, Demand.description, Demand.target_specs).where(
            Demand.status == DemandStatus.OPEN
        )
    ).all()
    top_k = int(_config("REVIVE_POOL_DEMANDS_TOP_K", 50))
    hits = ranking.rank_demands(
        index, _tokens(pool), [(r.id, r.title, _demand_text(r)) for r in rows], top_k=top_k
    )
    texts = {r.id: f"{r.title}。{_demand_text(r)}" for r in rows}
    reasons = _reasons(index, _pool_text(pool), texts, [int(c.right_id) for c in hits])
    existing = {
        m.demand_id: m
        for m in db.session.scalars(sa.select(PoolDemand).where(PoolDemand.pool_id == pool.id))
    }
    ranked: set[int] = set()
    for rank, c in enumerate(hits, start=1):
        did = int(c.right_id)
        ranked.add(did)
        row = existing.get(did)
        if row is None:
            row = PoolDemand(pool_id=pool.id, demand_id=did)
            db.session.add(row)
        row.score, row.rank = round(float(c.score), 6), rank
        row.reasons, row.terms = reasons.get(did, []), _terms(c)
    for did, row in existing.items():
        if did in ranked:
            continue
        if row.state == MemberState.CANDIDATE:
            db.session.delete(row)
        else:
            row.rank = None
    return len(hits)


def _propose(run: PoolRun, pool: Pool, index: engine.Index) -> None:
    """Patents entered since the pool's last check that score at least its bar, and that the
    pool has no row for yet (an excluded one is never proposed again), become candidates."""
    allowed, boosted = _entered_ids(pool, since=pool.checked_at)
    have = set(
        db.session.scalars(sa.select(PoolPatent.patent_id).where(PoolPatent.pool_id == pool.id))
    )
    allowed = [i for i in allowed if i not in have]
    run.total = len(allowed)
    if not allowed:
        return
    top_k = int(_config("REVIVE_POOL_TOP_K", 100))
    hits = ranking.rank_patents(index, _tokens(pool), top_k=top_k, allowed=allowed, boosted=boosted)
    bar = bar_of(pool)
    fit = [c for c in hits if c.score >= bar]
    texts = tokens.patent_texts([int(c.right_id) for c in fit]) if fit else {}
    reasons = _reasons(index, _pool_text(pool), texts, texts)
    for c in fit:
        pid = int(c.right_id)
        db.session.add(
            PoolPatent(
                pool_id=pool.id,
                patent_id=pid,
                source=MemberSource.NEW,
                score=round(float(c.score), 6),
                reasons=reasons.get(pid, []),
                terms=_terms(c),
            )
        )
    run.processed, run.patent_count = run.total, len(fit)


def _chunks(ids: Sequence[int], size: int = tokens.TEXT_BATCH) -> Iterable[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


# ---------------------------------------------------------------------------- curation

MEMBER_MODELS = {"patent": PoolPatent, "demand": PoolDemand}


def decide_members(
    pool_id: int,
    kind: str,
    member_ids: Any,
    decision: str,
    *,
    actor: User,
    comment: str | None = None,
    expected_version: int | None = None,
) -> list[int]:
    """Include or exclude members (ids of pool_patents / pool_demands rows of this pool);
    one audit event each; returns the ids changed. A single member may carry the version it
    was shown at (ConflictError when someone decided meanwhile)."""
    _check_staff(actor)
    pool = get_pool(pool_id)
    if kind not in MEMBER_MODELS:
        raise NotFoundError("不支持的成员类型")
    state = DECISIONS.get(str(decision or ""))
    if state is None:
        raise ValidationFailed("请选择纳入或排除", details={"decision": "须为 include 或 exclude"})
    ids = selected_ids(member_ids, empty="请先勾选要处理的条目")
    text = (comment or "").strip()[:500] or None
    model = MEMBER_MODELS[kind]
    rows = list(
        db.session.scalars(sa.select(model).where(model.pool_id == pool.id, model.id.in_(ids)))
    )
    if not rows:
        raise NotFoundError("未找到要处理的条目")
    if expected_version is not None and len(rows) == 1 and rows[0].version != expected_version:
        raise ConflictError(DECIDED_ELSEWHERE)
    now, changed = utcnow(), []
    action = f"{decision}_{kind}"
    for row in rows:
        if row.state == state:
            continue
        previous = row.state
        row.state, row.decided_at, row.decided_by_id = state, now, actor.id
        row.comment = text
        target = {"patent_id": row.patent_id} if kind == "patent" else {"demand_id": row.demand_id}
        audit.record(
            "pool",
            pool.id,
            action,
            actor,
            **target,
            member_state=previous.value,
            comment=text,
        )
        changed.append(row.id)
    commit_or_conflict(DECIDED_ELSEWHERE)
    return changed
