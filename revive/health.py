"""``GET /healthz``: is this web process able to serve? For load balancers and the compose
healthcheck, which asked for /login before: that page answers 200 with the database down or
never migrated, so a broken site looked healthy.

200 when the database answers and its schema is the one this code needs (Alembic's head, when
the database records a revision; a schema made by ``create_all``, as in tests, records none).
503 with the reason otherwise. ``sweep`` says whether the recovery sweep still runs and
``broker`` whether the message broker answers; either not "ok" makes the top-level status
"degraded", still a 200 — the site itself serves, and a load balancer must keep sending it
requests (an operator read "status": "ok" with every worker and beat stopped for an hour).
``?strict=1``, for monitors: 503 when degraded too. Public and cheap: two small queries, a
file's time and a broker connection, no session, no user, nothing about the data.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, jsonify, request

from revive import queue
from revive.config import PROJECT_ROOT
from revive.db import utcnow
from revive.extensions import db

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@functools.cache
def _heads() -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@dataclass(frozen=True)
class SchemaState:
    state: str  # ok | empty | outdated | unreachable
    revision: str | None = None
    message: str | None = None


def schema_state() -> SchemaState:
    """Whether the database answers and holds this code's schema (in an app context)."""
    try:
        with db.engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            revision = (
                conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
                if "alembic_version" in tables
                else None
            )
    except sa.exc.SQLAlchemyError as exc:
        logger.warning("Health check: database unreachable: %s", exc)
        return SchemaState("unreachable", message="数据库无法连接")
    if "users" not in tables:
        return SchemaState("empty", message="数据库尚未初始化：请运行 revive db upgrade")
    if revision is not None and revision not in _heads():
        message = f"数据库结构版本 {revision} 不是本程序需要的版本：请运行 revive db upgrade"
        return SchemaState("outdated", revision, message)
    return SchemaState("ok", revision)


WORKER_DB_WAIT = 30.0  # seconds a starting worker waits for the database to answer


def schema_problem(app: Flask, wait: float | None = None) -> str | None:
    """Why a worker cannot run on the database (not migrated, behind, or not answering), or
    None. A worker started against a database not migrated yet had reported "ready" and logged
    a traceback every minute; one started with a wrong DATABASE_URL reported "ready", took a
    match run and an index build and failed both (an operator's trial), and they sat 排队中
    until the sweep re-sent them ten minutes later. A database that does not answer is waited
    for ``wait`` seconds (REVIVE_WORKER_DB_WAIT: a database restarting with the workers), then
    the worker stops with the reason; its supervisor restarts it."""
    wait = float(app.config.get("REVIVE_WORKER_DB_WAIT", WORKER_DB_WAIT) if wait is None else wait)
    deadline = time.monotonic() + max(wait, 0.0)
    with app.app_context():
        try:
            while True:
                found = schema_state()
                if found.state != "unreachable" or time.monotonic() >= deadline:
                    break
                time.sleep(min(2.0, max(deadline - time.monotonic(), 0.0)))
            where = db.engine.url.render_as_string(hide_password=True)
        finally:
            db.engine.dispose()  # before the worker forks its pool
    if found.state == "ok":
        return None
    if found.state == "unreachable":
        return (
            f"数据库无法连接（{where}），后台处理进程不启动：请检查 DATABASE_URL 和数据库服务 / "
            f"cannot reach the database at {where} after {wait:g} s: check DATABASE_URL"
        )
    return f"{found.message} / the database schema is not this code's: run revive db upgrade"


@bp.get("/healthz")
def healthz():
    found = schema_state()
    if found.state != "ok":
        return jsonify(status="error", database=found.state, message=found.message), 503
    sweep, broker = _sweep(), _broker()
    degraded = sweep["status"] != "ok" or broker["status"] != "ok"
    body = jsonify(
        status="degraded" if degraded else "ok",
        database="ok",
        revision=found.revision,
        sweep=sweep,
        broker=broker,
    )
    strict = request.args.get("strict", "").lower() in {"1", "true", "yes"}
    return body, 503 if degraded and strict else 200


BROKER_CHECK_SECONDS = 10.0  # a process asks the broker at most this often


def _broker() -> dict[str, object]:
    """Whether the message broker answers, as last found: one connection attempt (2 s at
    most) per process every BROKER_CHECK_SECONDS, the requests meanwhile answered from it.
    /healthz is public: with the broker down, every anonymous request had waited 2 s on a web
    thread of its own (four a process), so a few a second stalled the site (a security
    re-test). Reported, not a 503: the web serves without it, and work it records is sent by
    the sweep once the broker is back; an operator's web pointed at a Redis that was down read
    200 "ok" with no hint (the jobs were only noted in a log WARNING)."""
    seen = current_app.extensions.setdefault("revive_broker_check", {"lock": threading.Lock()})
    with seen["lock"]:  # one check at a time; those waiting read its answer
        at, answer = seen.get("at"), seen.get("answer")
        if at is None or time.monotonic() - at >= BROKER_CHECK_SECONDS:
            answer = _ask_broker()
            seen["at"], seen["answer"] = time.monotonic(), answer
    return dict(answer)


def _ask_broker() -> dict[str, object]:
    try:
        with current_app.extensions["celery"].connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=2)
    except Exception as exc:  # noqa: BLE001 - kombu raises many kinds
        logger.warning("Health check: broker unreachable: %s", exc)
        return {
            "status": "unreachable",
            "message": "消息队列（broker）无法连接：后台任务先记在数据库中，恢复后由巡检补发",
        }
    return {"status": "ok"}


SWEEP_LATE_ROUNDS = 5  # sweeps missed before the background counts as stopped


def _sweep() -> dict[str, object]:
    """The recovery sweep (beat on a worker, every REVIVE_SWEEP_SECONDS): "ok", "late" (beat or
    every worker stopped: jobs that stall are not taken up again) or "never". Reported, not a
    503: the web itself still serves (an operator with beat stopped read 200 "ok" and pages
    promising recovery within a minute)."""
    last = queue.last_sweep()
    if last is None:
        return {
            "status": "never",
            "message": "后台巡检尚未运行过（beat 与后台处理进程是否已启动？）",
        }
    ago = int((utcnow() - last).total_seconds())
    limit = SWEEP_LATE_ROUNDS * int(current_app.config["REVIVE_SWEEP_SECONDS"])
    out: dict[str, object] = {"status": "ok" if ago <= limit else "late", "seconds_ago": ago}
    if ago > limit:
        out["message"] = f"后台巡检已 {ago // 60} 分钟没有运行：请检查 beat 和后台处理进程"
    return out
