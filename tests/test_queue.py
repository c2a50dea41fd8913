"""revive.queue: the job rows are the outbox, each delivery claims its row, and one sweep sends
what the broker never got or lost and re-sends what a dead worker left.

The guarantees users see: a job enqueued while the broker is down runs later; a job whose
worker died finishes; nothing runs twice (a duplicate delivery of a row another worker holds,
or of a finished row, does nothing).
"""

from __future__ import annotations

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import g

from revive import queue
from revive.db import utcnow
from revive.errors import ServiceUnavailable
from revive.extensions import db
from revive.matching.models import IndexBuild, RunStatus

BUILD = "matching.build_index"


class Broker:
    """Stands in for the Celery app: records sends, or refuses them while ``down``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list]] = []
        self.options: list[dict] = []
        self.down = False

    def send_task(self, name: str, args: list, **options):
        if self.down:
            raise ConnectionRefusedError("Error 111 connecting to redis")
        self.sent.append((name, args))
        self.options.append(options)
        return SimpleNamespace(id=f"task-{len(self.sent)}")


@pytest.fixture
def broker(app, monkeypatch) -> Broker:
    fake = Broker()
    monkeypatch.setitem(app.extensions, "celery", fake)
    return fake


def _build() -> int:
    build = IndexBuild(status=RunStatus.QUEUED, total=0, processed=0)
    db.session.add(build)
    db.session.commit()
    return build.id


def _row(build_id: int) -> IndexBuild:
    db.session.rollback()
    return db.session.get(IndexBuild, build_id)


def _age(build_id: int, **columns: timedelta) -> None:
    """Move the row's times into the past by the given amounts."""
    db.session.execute(
        sa.update(IndexBuild)
        .where(IndexBuild.id == build_id)
        .values(**{name: utcnow() - ago for name, ago in columns.items()})
    )
    db.session.commit()


LONG = timedelta(hours=2)  # older than every threshold


# ---------------------------------------------------------------------------- sending


def test_send_stamps_the_row(app, broker):
    build_id = _build()
    task_id = queue.send(BUILD, build_id)
    assert broker.sent == [(BUILD, [build_id])]
    row = _row(build_id)
    assert row.task_sent_at is not None and row.celery_task_id == task_id == "task-1"
    assert queue.resend_stuck() == {}  # sent, and not lost yet


def test_a_job_sent_while_the_broker_is_down_is_sent_by_the_sweep_once_it_is_back(app, broker):
    build_id = _build()
    broker.down = True
    with app.test_request_context():
        assert queue.send(BUILD, build_id) is None  # the row is committed: nothing is raised
        assert queue.deferred() and g.revive_queue_deferred
        with pytest.raises(ServiceUnavailable) as err:
            queue.enqueue(BUILD, build_id)
        assert "队列恢复后将自动执行" in err.value.message
    assert _row(build_id).task_sent_at is None

    assert queue.resend_stuck() == {}  # within the grace: the sender may still stamp it
    _age(build_id, updated_at=queue.UNSENT_GRACE + timedelta(seconds=1))
    assert queue.stuck_count() == 1
    assert queue.resend_stuck() == {}  # still down: kept, not dropped
    assert _row(build_id).task_sent_at is None

    broker.down = False
    assert queue.resend_stuck() == {BUILD: [build_id]}
    assert broker.sent == [(BUILD, [build_id])]
    assert _row(build_id).task_sent_at is not None
    assert queue.resend_stuck() == {}  # sent once only
    assert queue.stuck_count() == 0


def test_a_message_the_broker_lost_is_sent_again_after_the_message_lost_threshold(app, broker):
    build_id = _build()
    queue.send(BUILD, build_id)
    _age(build_id, task_sent_at=queue.message_lost_after() - timedelta(seconds=30))
    assert queue.resend_stuck() == {}  # may still be waiting in the queue
    _age(build_id, task_sent_at=queue.message_lost_after() + timedelta(seconds=1))
    assert queue.resend_stuck() == {BUILD: [build_id]}
    assert queue.resend_stuck() == {}  # just re-sent: not lost again yet
    assert len(broker.sent) == 2


def test_a_row_a_live_worker_holds_is_left_alone_and_a_dead_workers_is_resent_once(app, broker):
    build_id = _build()
    queue.send(BUILD, build_id)
    _age(build_id, task_sent_at=LONG)
    assert queue.claim(BUILD, build_id, "w1")
    assert queue.resend_stuck() == {}  # its heartbeat is fresh

    _age(build_id, task_heartbeat_at=queue.worker_lost_after() + timedelta(seconds=1))
    assert queue.resend_stuck() == {BUILD: [build_id]}  # the worker vanished
    assert queue.resend_stuck() == {}  # re-sent since its last sign of life: once
    # The re-sent message itself lost as well: again after the message-lost threshold.
    _age(build_id, task_sent_at=queue.message_lost_after() + timedelta(seconds=1))
    assert queue.resend_stuck() == {BUILD: [build_id]}

    assert queue.claim(BUILD, build_id, "w2")  # the re-sent delivery takes the row over
    row = _row(build_id)
    assert (row.task_claimed_by, row.task_attempts) == ("w2", 2)
    assert queue.resend_stuck() == {}


def test_a_worker_that_dies_right_after_taking_a_message_is_resent_after_worker_lost(
    app, broker, monkeypatch
):
    """An operator's worker took an index build at once and was killed: the send had been
    stamped after the worker's first heartbeat, read as "not this delivery", and the build
    waited 10 minutes (message lost) instead of 2 (worker lost)."""
    build_id = _build()
    send = broker.send_task

    def taken_at_once(name, args=None, **options):
        sent = send(name, args=args, **options)
        with app.app_context():  # the worker claims before the web stamps the send
            assert queue.claim(BUILD, build_id, "fast-worker")
        return sent

    monkeypatch.setattr(broker, "send_task", taken_at_once)
    queue.send(BUILD, build_id)
    row = _row(build_id)
    assert row.task_sent_at <= row.task_heartbeat_at
    # killed: its heartbeat stops; the worker-lost threshold passes, not the message-lost one
    back = queue.worker_lost_after() + timedelta(seconds=1)
    db.session.execute(
        sa.update(IndexBuild)
        .where(IndexBuild.id == build_id)
        .values(
            task_sent_at=row.task_sent_at - back, task_heartbeat_at=row.task_heartbeat_at - back
        )
    )
    db.session.commit()
    assert queue.resend_stuck() == {BUILD: [build_id]}


def test_a_row_waiting_for_something_else_is_not_sent(app, broker):
    """A match run queued before any index exists is sent by the build, not by the sweep."""
    from revive.matching.models import MatchRun, RunScope

    run = MatchRun(scope=RunScope.ALL_DEMANDS, status=RunStatus.QUEUED)
    db.session.add(run)
    db.session.commit()
    db.session.execute(sa.update(MatchRun).values(updated_at=utcnow() - LONG))
    db.session.commit()
    assert queue.resend_stuck() == {}
    build = IndexBuild(status=RunStatus.SUCCEEDED, path="/x", finished_at=utcnow())
    db.session.add(build)
    db.session.commit()
    assert queue.resend_stuck() == {"matching.match_run": [run.id]}


# ---------------------------------------------------------------------------- claims


def test_only_one_delivery_holds_a_row_at_a_time(app, broker):
    build_id = _build()
    assert queue.claim(BUILD, build_id, "first")
    assert not queue.claim(BUILD, build_id, "duplicate")  # the first is alive
    # The first delivery's process died and Celery requeued that same message at once.
    assert queue.claim(BUILD, build_id, "first")
    _age(build_id, task_heartbeat_at=queue.worker_lost_after() + timedelta(seconds=1))
    assert queue.claim(BUILD, build_id, "after-loss")  # no sign of life: taken over
    queue.release(BUILD, build_id, "first")  # a stale release changes nothing
    assert _row(build_id).task_claimed_by == "after-loss"

    queue.release(BUILD, build_id, "after-loss")
    row = _row(build_id)
    assert row.task_claimed_by is None and row.task_attempts == 3
    assert not queue.claim(BUILD, build_id, "next")  # released just now: heartbeat still fresh

    db.session.execute(
        sa.update(IndexBuild).values(status=RunStatus.SUCCEEDED, path="/x", finished_at=utcnow())
    )
    db.session.commit()
    _age(build_id, task_heartbeat_at=LONG)
    assert not queue.claim(BUILD, build_id, "late")  # finished: a late delivery does nothing


def test_claimed_runs_the_block_for_the_holder_only(app, broker):
    build_id = _build()
    ran = []
    with queue.claimed(BUILD, build_id) as mine:
        ran.append(mine)
        with queue.claimed(BUILD, build_id) as duplicate:  # another delivery meanwhile
            ran.append(duplicate)
    assert ran == [True, False]
    assert _row(build_id).task_claimed_by is None  # released


def test_a_row_started_too_often_is_given_up(app, broker):
    build_id = _build()
    db.session.execute(sa.update(IndexBuild).values(task_attempts=queue.MAX_ATTEMPTS))
    db.session.commit()
    assert not queue.claim(BUILD, build_id, "again")  # e.g. a task that kills its process
    row = _row(build_id)
    assert row.status == RunStatus.FAILED and row.error == queue.GAVE_UP

    other = _build()
    queue.claim(BUILD, other, "w1")
    db.session.execute(
        sa.update(IndexBuild)
        .where(IndexBuild.id == other)
        .values(task_attempts=queue.MAX_ATTEMPTS, task_sent_at=utcnow() - LONG)
    )
    db.session.commit()
    _age(other, task_heartbeat_at=LONG)
    assert queue.resend_stuck() == {}  # not re-sent: given up
    assert _row(other).status == RunStatus.FAILED
    assert broker.sent == []


def test_the_heartbeat_beats_while_the_claim_is_held_and_stops_when_it_is_lost(app, broker):
    build_id = _build()
    assert queue.claim(BUILD, build_id, "w1")
    _age(build_id, task_heartbeat_at=LONG)
    beat = queue._Heartbeat(queue.kind(BUILD), build_id, "w1", every=0.05)
    beat.start()
    try:
        deadline = time.monotonic() + 10
        while _row(build_id).task_heartbeat_at < utcnow() - timedelta(minutes=1):
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
        db.session.execute(sa.update(IndexBuild).values(task_claimed_by="w2"))  # taken over
        db.session.commit()
        beat.join(10)
        assert not beat.is_alive()
    finally:
        beat.stop()


# ---------------------------------------------------------------------------- end to end


def test_an_import_survives_a_broker_outage_and_a_dead_worker_and_runs_once(app, broker, tmp_path):
    """Enqueued while the broker is down: sent by the sweep later, once. Its worker dies
    mid-commit: the sweep re-sends it once and the next delivery resumes; a late duplicate of
    a finished job does nothing."""
    from revive.accounts.models import Role
    from revive.imports import services as imports
    from revive.imports.models import ImportJob, ImportStatus
    from revive.inventory.models import Patent
    from tests.factories import make_college, make_org, make_user
    from tests.imports.helpers import row, write_csv
    from workers import tasks

    org = make_org("台账大学")
    make_college(org, "材料学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    path = write_csv(tmp_path / "f.csv", [row(i) for i in range(1, 4)])
    broker.down = True
    with app.test_request_context():
        job = imports.create_patent_import(path, actor=admin, institution_id=org.id)
    job_id = job.id
    broker.down = False
    db.session.execute(sa.update(ImportJob).values(updated_at=utcnow() - LONG))
    db.session.commit()

    assert queue.resend_stuck() == {"imports.validate": [job_id]}
    assert queue.resend_stuck() == {}
    tasks.validate_import(job_id)
    tasks.validate_import(job_id)  # a duplicate delivery of a finished step: nothing
    assert db.session.get(ImportJob, job_id).status == ImportStatus.VALIDATED

    imports.request_commit(job_id, actor=admin)
    assert broker.sent[-1] == ("imports.commit", [job_id])
    # A worker took the commit and vanished (its whole process group killed).
    assert queue.claim("imports.commit", job_id, "dead-worker")
    db.session.execute(
        sa.update(ImportJob).values(
            status=ImportStatus.COMMITTING,
            task_sent_at=utcnow() - LONG,
            task_heartbeat_at=utcnow() - LONG,
        )
    )
    db.session.commit()
    broker.sent.clear()
    assert queue.resend_stuck() == {"imports.commit": [job_id]}
    assert queue.resend_stuck() == {}
    tasks.commit_import(job_id)
    tasks.commit_import(job_id)  # the dead worker's message, redelivered late: nothing
    db.session.expire_all()
    done = db.session.get(ImportJob, job_id)
    assert done.status == ImportStatus.COMMITTED and done.task_attempts == 2
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 3
    assert [s for s in broker.sent if s[0].startswith("imports.")] == [("imports.commit", [job_id])]


def test_e_mails_recorded_while_the_broker_was_down_are_sent_by_the_sweep(app, broker):
    from revive.accounts.models import PasswordReset
    from revive.notifications.models import Notification
    from tests.factories import make_user

    user = make_user()
    old = utcnow() - LONG
    note = Notification(user_id=user.id, kind="k", title="t", email_status="queued", created_at=old)
    done = Notification(user_id=user.id, kind="k", title="t", email_status="sent", created_at=old)
    asked = PasswordReset(
        user_id=user.id, token_hash="a" * 64, nonce="n1", created_at=old, expires_at=utcnow() + LONG
    )
    handed = PasswordReset(  # issued by an admin: handed over, never e-mailed
        user_id=user.id,
        token_hash="b" * 64,
        nonce="n2",
        created_at=old,
        expires_at=utcnow() + LONG,
        issued_by_id=user.id,
    )
    db.session.add_all([note, done, asked, handed])
    db.session.commit()

    assert queue.resend_stuck() == {"notifications.email": [note.id]}  # no SMTP: no reset mail
    app.config["REVIVE_SMTP_HOST"] = "smtp.example.cn"
    try:
        assert queue.resend_stuck() == {"notifications.password_reset_email": [asked.id]}
    finally:
        app.config["REVIVE_SMTP_HOST"] = ""


def test_stale_tokens_of_a_patent_changed_a_while_ago_queue_one_tokenize_pass(app, broker):
    from revive.inventory.models import Patent
    from tests.factories import make_org, make_patent

    patent = make_patent(make_org("分词大学"))  # no tokens stored: its message was lost
    assert queue.resend_stuck() == {}  # just changed: its tokenize message may be on the way
    db.session.execute(
        sa.update(Patent).values(updated_at=utcnow() - queue.message_lost_after() - LONG)
    )
    db.session.commit()
    assert queue.resend_stuck() == {"matching.tokenize": [None]}
    assert broker.sent == [("matching.tokenize", [None])]
    db.session.execute(sa.update(Patent).values(updated_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    assert queue.resend_stuck() == {}  # beyond the beat's look-back…
    assert queue.resend_stuck(full=True) == {"matching.tokenize": [None]}  # …a manual run's
    assert patent.id


# ---------------------------------------------------------------------------- wiring


# Tasks with no row of their own: periodic (the next beat redoes them), parts of a run's
# fan-out (the run is the row), or repaired from the data (stale tokens: a registered check).
ROWLESS = {
    "matching.tokenize",
    "matching.score_shards",
    "matching.merge_scores",
    "deals.notify_overdue",
    "notifications.review_digest",
    "alerts.digest",  # the beat's daily digest: makes AlertDigest rows, each sent by its own task
    "dashboard.refresh",
    "exports.cleanup",  # the beat's hourly deletion of expired export files
    "imports.cleanup",  # the beat's hourly deletion of old import uploads
    "queue.resend_stuck",
}


def test_every_task_that_works_on_a_row_is_registered_and_the_sweep_is_scheduled(app):
    from workers import tasks  # noqa: F401  (registers the tasks)

    celery = app.extensions["celery"]
    ours = {name for name in celery.tasks if not name.startswith("celery.")}
    # A new task either works on a registered row (queue.register + workers.tasks.row_task)
    # or says here why it needs none: nothing sent through the queue goes unrecovered.
    assert ours == set(queue._kinds) | ROWLESS
    assert set(queue._kinds) == {
        "imports.validate",
        "imports.commit",
        "matching.build_index",
        "matching.match_run",
        "matching.refit_strength",
        "notifications.email",
        "notifications.email_batch",
        "notifications.password_reset_email",
        "pools.run",
        "alerts.digest_email",
        "exports.build",
    }
    # Work repaired from the data: stale tokens; demands changed but never sent to matching;
    # demands' searchable texts stored under older contact rules.
    assert set(queue._checks) == {"matching.tokenize", "matching.owed_runs", "demands.public_text"}
    conf = app.config["CELERY"]
    (entry,) = [e for e in conf["beat_schedule"].values() if e["task"] == "queue.resend_stuck"]
    assert entry["schedule"] == app.config["REVIVE_SWEEP_SECONDS"] == 60
    assert "queue.resend_stuck" in celery.tasks
    assert conf["task_acks_late"] and conf["task_reject_on_worker_lost"]
    assert conf["worker_prefetch_multiplier"] == 1


def test_redis_visibility_timeout_is_far_above_the_longest_task(tmp_path):
    from revive.config import broker_settings

    conf = broker_settings(tmp_path, "redis://127.0.0.1:6379/13")
    assert conf["broker_transport_options"]["visibility_timeout"] == 24 * 3600


def test_a_send_asks_for_no_result_and_gives_up_quickly_when_redis_is_down(app, broker, tmp_path):
    """Without ignore_result, Celery's send_task subscribes the web process to a Redis result
    channel for every task id, which no result ever closes; and with the default retry
    policies an upload waited about 20 s for a Redis that was down."""
    from revive.config import broker_settings

    queue.enqueue("revive.ping")
    assert broker.options == [{"ignore_result": True}]

    conf = broker_settings(tmp_path, "redis://127.0.0.1:6379/13")
    for policy in (
        conf["task_publish_retry_policy"],
        conf["result_backend_transport_options"]["retry_policy"],
    ):
        assert policy["max_retries"] * max(policy["interval_max"], policy["interval_step"]) <= 2


def test_retried_tries_again_after_a_race_and_raises_the_last_error(app):
    """revive.db.retried: a write beaten to its rows is rolled back and run again; one that
    keeps losing raises its own error after ``attempts`` tries; other errors are not retried."""
    from sqlalchemy.orm.exc import StaleDataError

    from revive.db import retried

    calls = []

    def losing_once():
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.IntegrityError("INSERT", {}, Exception("unique"))
        return "written"

    assert retried(losing_once, 3) == "written" and len(calls) == 2

    def always_stale():
        calls.append(1)
        raise StaleDataError("row saved meanwhile")

    calls.clear()
    with pytest.raises(StaleDataError):
        retried(always_stale, 3)
    assert len(calls) == 3

    def broken():
        calls.append(1)
        raise ValueError("not a race")

    calls.clear()
    with pytest.raises(ValueError, match="not a race"):
        retried(broken, 3)
    assert len(calls) == 1


def test_lock_row_changes_nothing_in_the_row(app):
    """revive.db.lock_row takes the row's lock (SQLite: the write lock, through an update that
    changes nothing); the row keeps its values, its updated_at included."""
    from revive.accounts.models import Organization
    from revive.db import lock_row
    from tests.factories import make_org

    org = make_org("锁行测试大学")
    db.session.commit()
    before = (org.name, org.updated_at)
    lock_row(Organization, org.id)
    db.session.commit()
    db.session.expire_all()
    again = db.session.get(Organization, org.id)
    assert (again.name, again.updated_at) == before
