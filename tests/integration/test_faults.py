"""Faults against real services: a worker SIGKILLed mid-job, Redis stopped and restarted,
PostgreSQL restarted under load, and two officers changing one record at the same instant.

The worker tests use their own PostgreSQL database and a private redis-server (so the session's
shared worker never takes their tasks), and workers of their own started without the
session harness, each with its embedded beat (``-B``) running the recovery sweep every second
(revive.queue.resend_stuck), as ``make run``'s worker does every minute. A test-only plugin
the workers load with Celery's ``--include`` (tests/integration/worker_pause.py) parks a task
after its n-th commit (``REVIVE_TEST_PAUSE_AT=<task>:<n>``; the claim of its row is the first)
and reports the pid, so each kill lands at a known point of the job.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from revive import queue
from revive.accounts.models import OrgKind, Role, User
from revive.alerts import queries as alert_queries
from revive.alerts import services as alerts
from revive.alerts.models import QueueSeen
from revive.config import normalize_database_url
from revive.extensions import db
from revive.imports import services as imports
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.appno import make_application_no
from revive.inventory.models import Patent
from revive.matching import indexes
from revive.matching import jobs as matching_jobs
from revive.matching import runs as matching_runs
from revive.matching.models import IndexBuild, Match, MatchRun, RunScope, RunStatus
from tests.apps import other_app
from tests.conftest import TEST_DATABASE_URL
from tests.factories import PASSWORD, make_college, make_org, make_user
from tests.integration.conftest import _require_services, celery_client, wait_for
from tests.integration.private_services import PrivatePostgres, PrivateRedis
from tests.matching.helpers import (
    BATTERY,
    BATTERY_DEMAND,
    IRRIGATION,
    WATER,
    entered,
    make_demand,
)
from tests.worker_process import log_tail, start_worker, stop_worker

pytestmark = pytest.mark.integration

JSON = {"Accept": "application/json"}


# ---------------------------------------------------------------------------- harness


def _make_app(db_url: str, data_dir: Path):
    """An app on the private database (tests.apps.other_app keeps the session's Celery app
    the process default)."""
    return other_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-of-the-suite-and-its-workers",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "REVIVE_DATA_DIR": str(data_dir),
            "UPLOAD_FOLDER": str(data_dir / "uploads"),
        }
    )


class Faults:
    """Own database, own data folder, a private Redis, and the workers a test starts."""

    def __init__(self, tmp: Path) -> None:
        base = sa.make_url(normalize_database_url(TEST_DATABASE_URL))
        self.db_name = f"revive_faults_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.db_name}"'))
        self.db_url = base.set(database=self.db_name).render_as_string(hide_password=False)
        self.data_dir = tmp / "data"
        self.pause_dir = tmp / "pause"
        self.logs = tmp / "logs"
        for path in (self.data_dir, self.pause_dir, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        self.redis = PrivateRedis()
        self.app = _make_app(self.db_url, self.data_dir)
        self.celery = celery_client(self.redis.url, self.data_dir, "revive-faults-client")
        self.app.extensions["celery"] = self.celery  # revive.queue.enqueue sends here
        with self.app.app_context():
            db.create_all()
        self.workers: list[subprocess.Popen] = []

    def worker(self, name: str, **env_extra: str) -> subprocess.Popen:
        node = f"faults-{name}-{uuid.uuid4().hex[:6]}@localhost"
        env = {
            **os.environ,
            "DATABASE_URL": self.db_url,
            "CELERY_BROKER_URL": self.redis.url,
            "REVIVE_DATA_DIR": str(self.data_dir),
            "SECRET_KEY": "test-secret-of-the-suite-and-its-workers",
            # The sweep every second; a worker silent for 3 s is lost (heartbeat every 0.75 s);
            # a message not started within a minute is lost (a test that needs less says so).
            "REVIVE_SWEEP_SECONDS": "1",
            "REVIVE_WORKER_LOST_SECONDS": "3",
            "REVIVE_MESSAGE_LOST_SECONDS": "60",
            "REVIVE_TEST_PAUSE_DIR": str(self.pause_dir),
            **env_extra,
        }
        env.pop("REDIS_URL", None)
        if "REVIVE_TEST_PAUSE_AT" not in env_extra:
            env.pop("REVIVE_TEST_PAUSE_AT", None)
        proc = start_worker(
            env,
            self.logs / f"{node.split('@')[0]}.log",
            node=node,
            concurrency=1,
            ready=lambda: bool(self.celery.control.ping(destination=[node], timeout=0.5)),
            timeout=60,
            extra_args=(
                "-B",
                "--schedule",
                str(self.logs / f"beat-{node.split('@')[0]}"),
                "--include",
                "tests.integration.worker_pause",
            ),
        )
        proc.log_path = self.logs / f"{node.split('@')[0]}.log"  # type: ignore[attr-defined]
        self.workers.append(proc)
        return proc

    def paused(self, task: str, timeout: float = 60) -> int:
        """Wait until ``task`` is parked by the pause hook; return the parked process id."""
        marker = self.pause_dir / f"{task}.pid"
        return int(wait_for(lambda: marker.exists() and marker.read_text(), timeout, what=task))

    def kill_worker(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and its pool children at once (its own process group)."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def reset(self) -> None:
        for proc in self.workers:  # nothing of the test is left to finish: no warm shutdown
            if proc.poll() is None:
                self.kill_worker(proc)
        self.workers.clear()
        if self.redis.proc is None or self.redis.proc.poll() is not None:
            self.redis.start()
        self.redis.flush()
        for marker in self.pause_dir.iterdir():
            marker.unlink()
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()

    def close(self) -> None:
        for proc in self.workers:
            stop_worker(proc, 5)
        self.celery.close()
        with self.app.app_context():
            db.engine.dispose()
        self.redis.close()
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="module")
def faults_env(tmp_path_factory) -> Iterator[Faults]:
    _require_services()
    env = Faults(tmp_path_factory.mktemp("faults"))
    try:
        yield env
    finally:
        env.close()


@pytest.fixture
def fx(faults_env: Faults) -> Iterator[Faults]:
    ctx = faults_env.app.app_context()
    ctx.push()
    try:
        yield faults_env
    finally:
        try:
            faults_env.reset()
        finally:
            ctx.pop()


def _fresh(model, row_id: int):
    db.session.rollback()  # see the workers' commits
    return db.session.get(model, row_id)


def _wait_status(model, row_id: int, status, fx: Faults, timeout: float = 60):
    def reached():
        row = _fresh(model, row_id)
        return row if row.status == status else None

    try:
        return wait_for(reached, timeout, what=f"{model.__name__} {row_id} → {status}")
    except pytest.fail.Exception:
        row = _fresh(model, row_id)
        logs = "\n".join(log_tail(p.log_path, 30) for p in fx.workers)  # type: ignore[attr-defined]
        pytest.fail(f"{model.__name__} {row_id} is {row.status} (error={row.error}):\n{logs}")


# ---------------------------------------------------------------------------- worker killed

IMPORT_ROWS = 900
COMMIT_BATCH = 300  # REVIVE_IMPORT_COMMIT_BATCH of the workers: three commits per import
SUBJECTS = (BATTERY, WATER, IRRIGATION)


def _import_file(path: Path, college: str, rows: int) -> list[str]:
    appnos = [make_application_no(2021, 1, 300_000 + i) for i in range(rows)]
    lines = ["申请号,专利名称,所属学院,技术成熟度,申请日"]
    lines += [
        f"{no},一种断点续传测试用合金{i}的制备方法,{college},5,2021-03-01"
        for i, no in enumerate(appnos)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return appnos


def _validated_import(fx: Faults, tmp_path: Path) -> tuple[ImportJob, list[str], int]:
    org = make_org("断点续传大学")
    make_college(org, "材料学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    appnos = _import_file(tmp_path / "盘点.csv", "材料学院", IMPORT_ROWS)
    job = imports.create_patent_import(
        str(tmp_path / "盘点.csv"), actor=admin, institution_id=org.id
    )
    job = _wait_status(ImportJob, job.id, ImportStatus.VALIDATED, fx)
    assert job.preview_counts["new"] == IMPORT_ROWS
    imports.request_commit(job.id, actor=admin)
    return job, appnos, org.id


def _paused_mid_commit(job_id: int, batches: int) -> None:
    job = _fresh(ImportJob, job_id)
    assert job.status == ImportStatus.COMMITTING
    assert job.committed_rows == batches * COMMIT_BATCH < IMPORT_ROWS


def _assert_exact_import(job_id: int, appnos: list[str], org_id: int) -> None:
    job = _fresh(ImportJob, job_id)
    assert job.status == ImportStatus.COMMITTED, job.error
    assert job.committed_rows == IMPORT_ROWS
    assert job.result_counts["created"] == IMPORT_ROWS, job.result_counts
    stored = db.session.scalars(
        sa.select(Patent.application_no).where(Patent.institution_id == org_id)
    ).all()
    assert len(stored) == IMPORT_ROWS  # no duplicate…
    assert set(stored) == set(appnos)  # …and none missing


def _worker(fx: Faults, name: str, pause_at: str | None = None, **more: str) -> subprocess.Popen:
    env = {"REVIVE_IMPORT_COMMIT_BATCH": str(COMMIT_BATCH), **more}
    if pause_at:
        env["REVIVE_TEST_PAUSE_AT"] = pause_at
    return fx.worker(name, **env)


def test_import_resumes_when_the_pool_child_is_killed(fx, tmp_path):
    # A worker is lost only after 30 s here: whatever resumes the job, it is not the sweep.
    worker = _worker(fx, "a", "imports.commit:3", REVIVE_WORKER_LOST_SECONDS="30")
    # parked after its claim, COMMITTING and the first batch
    job, appnos, org_id = _validated_import(fx, tmp_path)
    child = fx.paused("imports.commit")
    assert child != worker.pid
    _paused_mid_commit(job.id, 1)
    sent = _fresh(ImportJob, job.id).task_sent_at

    os.kill(child, signal.SIGKILL)
    # acks_late + reject_on_worker_lost: the parent puts the message back at once; the
    # redelivery (a new child, the same message: it takes its own claim over) resumes from
    # committed_rows.
    _wait_status(ImportJob, job.id, ImportStatus.COMMITTED, fx)
    assert worker.poll() is None
    _assert_exact_import(job.id, appnos, org_id)
    job = _fresh(ImportJob, job.id)
    assert job.task_attempts == 2 and job.task_claimed_by is None  # two deliveries, released
    assert job.task_sent_at == sent  # Celery's redelivery did it, not a re-send by the sweep


def test_whole_worker_killed_mid_import_index_build_and_match_run(fx, tmp_path):
    """Three kills in a row, each worker resuming the previous one's job:
    import commit (resumes at the next batch), index build and match run (redone)."""
    first = _worker(fx, "a", "imports.commit:4")  # claim, COMMITTING, two batches: parked
    job, appnos, org_id = _validated_import(fx, tmp_path)
    fx.paused("imports.commit")
    _paused_mid_commit(job.id, 2)
    # Parked, the task commits nothing, yet its row's heartbeat goes on (a thread beside it):
    # a live worker is never taken for a lost one, however long a step runs.
    parked = _fresh(ImportJob, job.id).task_heartbeat_at
    wait_for(
        lambda: _fresh(ImportJob, job.id).task_heartbeat_at > parked + timedelta(seconds=4),
        30,
        what="the parked task's heartbeat",
    )
    fx.kill_worker(first)
    # Its message stays unacked in Redis and would come back only after the visibility
    # timeout (a day): the next worker's sweep finds the row's heartbeat stopped, re-sends it,
    # and the new delivery takes the claim over.
    second = _worker(fx, "b", "matching.build_index:3")  # claim, RUNNING, tokens: parked
    _wait_status(ImportJob, job.id, ImportStatus.COMMITTED, fx)
    _assert_exact_import(job.id, appnos, org_id)
    assert _fresh(ImportJob, job.id).task_attempts == 2  # the dead delivery and the re-sent one

    university = make_org("匹配测试大学")
    for i in range(30):  # entered (matchable) patents on the demands' three subjects
        subject = SUBJECTS[i % 3]
        entered(university, title=f"{subject['title']}（{i}）", abstract=subject["abstract"])
    enterprise = make_org("匹配测试企业", kind=OrgKind.ENTERPRISE)
    demands = [
        make_demand(enterprise, title=f"{s['title']}需求{i}", description=s["abstract"]).id
        for i in range(2 * matching_runs.DEMAND_BATCH + 10)  # three batches
        for s in (SUBJECTS[i % 3],)
    ]
    build = matching_jobs.request_index_build()
    fx.paused("matching.build_index")
    assert _fresh(IndexBuild, build.id).status == RunStatus.RUNNING
    fx.kill_worker(second)

    third = _worker(fx, "c", "matching.match_run:3")  # claim, RUNNING, one batch: parked
    build = _wait_status(IndexBuild, build.id, RunStatus.SUCCEEDED, fx)
    assert build.task_attempts == 2
    patent_ids = db.session.scalars(sa.select(Patent.id)).all()
    assert build.doc_count == len(patent_ids) >= IMPORT_ROWS
    loaded = indexes.load_active_index()
    assert loaded is not None and loaded[0].id == build.id
    index = loaded[1]
    # positions re-added by a later shard (tokens stored while the build ran) are superseded
    superseded = getattr(index, "superseded", None)
    live = [int(i) for pos, i in enumerate(index.ids) if superseded is None or not superseded[pos]]
    assert sorted(live) == sorted(patent_ids)  # every patent, each once

    fx.paused("matching.match_run")  # the all-demands run the build queued
    db.session.rollback()
    run = db.session.scalars(
        sa.select(MatchRun).where(MatchRun.scope == RunScope.ALL_DEMANDS)
    ).one()
    assert run.status == RunStatus.RUNNING and 0 < run.processed < len(demands)
    fx.kill_worker(third)

    _worker(fx, "d")
    run = _wait_status(MatchRun, run.id, RunStatus.SUCCEEDED, fx)
    assert run.processed == run.total == len(demands) and run.task_attempts == 2
    pairs = db.session.execute(sa.select(Match.demand_id, Match.patent_id, Match.rank)).all()
    assert len(pairs) == run.match_count  # every kept candidate once, nothing left over
    assert len({(d, p) for d, p, _ in pairs}) == len(pairs)
    ranks: dict[int, list[int]] = {}
    for d, _, rank in pairs:
        ranks.setdefault(d, []).append(rank)
    assert set(ranks) == set(demands)  # no demand skipped by the interrupted run
    assert all(sorted(r) == list(range(1, len(r) + 1)) for r in ranks.values())


# ---------------------------------------------------------------------------- Redis down


def _login(client, user) -> None:
    # A fresh app context: requests reuse the test's context, whose g holds the last user.
    with client.application.app_context():
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_redis_outage_keeps_pages_up_and_loses_no_queued_work(fx, tmp_path):
    org = make_org("队列故障大学")
    make_college(org, "材料学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    entered(org, **BATTERY)  # something to index and match for the demand posted below
    appnos = _import_file(tmp_path / "停机.csv", "材料学院", 20)
    client = fx.app.test_client()
    _login(client, admin)

    # 1. Queued, then lost by the broker (Redis restarted without its data): no worker yet.
    lost = imports.create_patent_import(
        str(tmp_path / "停机.csv"), actor=admin, institution_id=org.id
    )
    first_send = _fresh(ImportJob, lost.id).task_sent_at
    assert first_send is not None
    fx.redis.flush()
    fx.worker("a", REVIVE_MESSAGE_LOST_SECONDS="1")
    lost = _wait_status(ImportJob, lost.id, ImportStatus.VALIDATED, fx)
    assert lost.task_sent_at > first_send  # re-sent by the sweep…
    assert lost.task_attempts == 1  # …and run once: the lost message never came back

    # 2. Redis down while the app serves: pages up, the enqueue recorded, run when it is back.

    fx.redis.stop()
    for page in ("/", "/patents/", "/imports/jobs"):
        response = client.get(page)
        assert response.status_code == 200, (page, response.status_code)

    with (tmp_path / "停机.csv").open("rb") as fh:
        response = client.post(
            "/imports/", data={"file": (fh, "停机.csv")}, content_type="multipart/form-data"
        )
    assert response.status_code == 302
    job_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "后台任务队列暂不可用" in page and "队列恢复后将自动校验" in page

    poster = make_user(Role.ENTERPRISE, organization=make_org("停机企业", kind=OrgKind.ENTERPRISE))
    enterprise_client = fx.app.test_client()
    _login(enterprise_client, poster)
    with fx.app.app_context():
        response = enterprise_client.post("/api/v1/demands", json=BATTERY_DEMAND, headers=JSON)
    assert response.status_code == 201, response.get_data(as_text=True)
    demand_id = response.get_json()["id"]

    pending = _fresh(ImportJob, job_id)
    assert pending.status == ImportStatus.QUEUED and pending.task_sent_at is None
    # the demand's run waits for a first index, whose build is committed but unsent
    run = db.session.scalars(sa.select(MatchRun).where(MatchRun.demand_id == demand_id)).one()
    assert run.status == RunStatus.QUEUED
    (build,) = db.session.scalars(sa.select(IndexBuild)).all()
    assert build.status == RunStatus.QUEUED and build.task_sent_at is None

    fx.redis.start()
    # The running worker reconnects; its beat's sweep sends the rows the broker never got.
    job = _wait_status(ImportJob, job_id, ImportStatus.VALIDATED, fx)
    assert job.preview_counts["new"] == len(appnos)
    assert job.task_sent_at is not None and job.task_attempts == 1
    run = _wait_status(MatchRun, run.id, RunStatus.SUCCEEDED, fx)
    assert run.match_count >= 1
    assert _fresh(IndexBuild, build.id).task_attempts == 1  # sent by the sweep, run once
    assert queue.stuck_count() == 0


# ---------------------------------------------------------------------------- PostgreSQL restart


@pytest.fixture
def private_pg(tmp_path) -> Iterator[tuple[PrivatePostgres, object]]:
    _require_services()
    pg = PrivatePostgres()
    app = _make_app(pg.url, tmp_path)
    try:
        yield pg, app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        pg.close()


def test_postgres_restart_under_load_fails_cleanly_and_recovers(private_pg):
    pg, app = private_pg
    with app.app_context():
        db.create_all()
        org = make_org("重启测试大学")
        user = make_user(Role.UNIVERSITY_ADMIN, organization=org)
        for _ in range(5):
            entered(org)
        email = user.email
        db.session.remove()

    results: list[tuple[float, str, int, str, str]] = []
    ended: list[float] = []  # when each result came back
    stop = threading.Event()
    lock = threading.Lock()

    def load(path: str, headers: dict[str, str]) -> None:
        client = app.test_client()
        assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
        while not stop.is_set():
            began = time.monotonic()
            try:
                response = client.get(path, headers=headers)
                row = (
                    began,
                    path,
                    response.status_code,
                    response.content_type,
                    response.get_data(as_text=True),
                )
            except Exception as exc:  # escaped the app (e.g. from a teardown): a bare 500
                row = (began, path, 599, "exception", repr(exc))
            with lock:
                results.append(row)
                ended.append(time.monotonic())

    threads = [
        threading.Thread(target=load, args=(path, headers), daemon=True)
        for path, headers in (
            ("/patents/", {}),
            ("/patents/", {}),
            ("/api/v1/patents", JSON),
            ("/api/v1/patents", JSON),
        )
    ]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: sum(r[2] == 200 for r in results) >= 8, 30, what="requests before")
        pg.stop()
        stopped = time.monotonic()
        wait_for(
            lambda: sum(r[0] > stopped for r in results) >= 8, 30, what="requests in the outage"
        )
        down_until = time.monotonic()  # requests begun before this met a stopped server
        pg.start()
        restarted = time.monotonic()
        wait_for(
            lambda: (
                {r[1] for r in results if r[0] > restarted and r[2] == 200}
                == {"/patents/", "/api/v1/patents"}
                and sum(r[0] > restarted and r[2] == 200 for r in results) >= 8
            ),
            30,
            what="recovery after the restart",
        )
    finally:
        stop.set()
        for t in threads:
            t.join(10)

    # begun after the stop, back before the start: the server was down for all of them
    during = [
        r for r, end in zip(results, ended, strict=True) if stopped < r[0] and end < down_until
    ]
    assert during and all(r[2] == 503 for r in during), {(r[1], r[2]) for r in during}
    for _, path, status, content_type, body in results:
        assert status in (200, 503), (path, status, body[:500])
        assert "Traceback" not in body
        if status == 503:
            if path.startswith("/api/"):
                assert content_type.startswith("application/json")
                payload = json.loads(body)
                assert payload["error"] == "database_unavailable"
                assert "数据库暂时不可用" in payload["message"]
            else:
                assert "数据库暂时不可用" in body
    # the same app object serves again: every request after the first success is a 200
    first_ok = min(r[0] for r in results if r[0] > restarted and r[2] == 200)
    assert all(r[2] == 200 for r in results if r[0] > first_ok + 0.5)
    print(
        f"PostgreSQL restart: {len(results)} requests, "
        f"{sum(r[2] == 503 for r in results)} answered 503, "
        f"outage {down_until - stopped:.1f} s, first 200 {first_ok - restarted:.2f} s after start"
    )


# ---------------------------------------------------------------------------- optimistic locking


def _race(*calls):
    """Run the calls at the same instant (a barrier) in threads; return their results."""
    barrier = threading.Barrier(len(calls))
    out: list[object] = [None] * len(calls)

    def run(i: int, call) -> None:
        barrier.wait()
        out[i] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return out


def test_concurrent_decisions_on_one_match_one_wins(fx):
    patent_id = entered(make_org("并发审核大学"), **BATTERY).id
    demand = make_demand(make_org("并发企业", kind=OrgKind.ENTERPRISE))
    match = Match(demand_id=demand.id, patent_id=patent_id, score=0.5, rank=1, terms=[])
    db.session.add(match)
    db.session.commit()
    match_id, version = match.id, match.version
    officers = [make_user(Role.OFFICER), make_user(Role.OFFICER)]
    clients = [fx.app.test_client(), fx.app.test_client()]
    for client, officer in zip(clients, officers, strict=True):
        _login(client, officer)
    forms = (
        {"back": "match", "decision": "accept", "version": str(version)},
        {
            "back": "match",
            "decision": "reject",
            "reason_code": "wrong_field",
            "version": str(version),
        },
    )

    def decide(i: int):
        def call():
            with fx.app.app_context():
                r = clients[i].post(f"/review/matches/{match_id}/decision", data=forms[i])
                return r.status_code, r.get_data(as_text=True)

        return call

    results = _race(decide(0), decide(1))
    statuses = sorted(s for s, _ in results)
    assert statuses == [302, 409], results
    loser = next(body for s, body in results if s == 409)
    # told it was handled: who decided how when the decision is already stored at the check,
    # "已被他人处理" when the two writes meet at the database
    assert re.search("已被他人(处理|修改)|该匹配已由.+于 .+(采纳|否决)", loser), loser[-2000:]
    stored = _fresh(Match, match_id)
    winner = forms[[s for s, _ in results].index(302)]["decision"]
    assert stored.state.value == {"accept": "accepted", "reject": "rejected"}[winner]
    assert stored.version == version + 1


def test_concurrent_edits_of_one_patent_one_wins(fx):
    org = make_org("并发编辑大学")
    editors = [make_user(Role.UNIVERSITY_ADMIN, organization=org) for _ in range(2)]
    from tests.factories import make_patent

    patent = make_patent(org)
    patent_id, version = patent.id, patent.version
    clients = [fx.app.test_client(), fx.app.test_client()]
    for client, editor in zip(clients, editors, strict=True):
        _login(client, editor)
    titles = ("一种并发编辑甲方案的制备方法", "一种并发编辑乙方案的制备方法")

    def edit(i: int):
        def call():
            with fx.app.app_context():
                r = clients[i].patch(
                    f"/api/v1/patents/{patent_id}",
                    json={"title": titles[i], "version": version},
                    headers=JSON,
                )
                return r.status_code, r.get_json()

        return call

    results = _race(edit(0), edit(1))
    statuses = sorted(s for s, _ in results)
    assert statuses == [200, 409], results
    loser = next(body for s, body in results if s == 409)
    assert loser["error"] == "conflict" and "他人" in loser["message"]
    winner = titles[[s for s, _ in results].index(200)]
    stored = _fresh(Patent, patent_id)
    assert stored.title == winner  # the winner's edit stands, the loser's did not overwrite it
    assert stored.version == version + 1


def test_one_user_opening_a_queue_in_two_tabs_at_once_both_land(fx):
    """The menu's "new since you last looked" marks a queue seen when its page opens. A user's
    tabs opening it at the same instant wrote the row twice: the second insert failed on the
    first's primary key (a 500 under the load test). Each round races six calls on a user with
    no row yet; every call succeeds and one row holds the latest time."""
    for _ in range(5):
        user_id = make_user(Role.OFFICER).id
        db.session.commit()

        def open_queue(user_id: int = user_id):
            with fx.app.app_context():
                try:
                    alerts.mark_seen(db.session.get(User, user_id), alert_queries.DEMANDS)
                except Exception as exc:  # noqa: BLE001 — the race's loser is what we look for
                    return exc
                return None

        results = _race(*[open_queue] * 6)
        assert results == [None] * 6, results
        db.session.rollback()
        rows = db.session.scalars(sa.select(QueueSeen).where(QueueSeen.user_id == user_id)).all()
        assert len(rows) == 1 and rows[0].queue == alert_queries.DEMANDS
