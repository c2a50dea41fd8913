"""revive.queue's dispatch ledger: every send is recorded, a broker outage leaves a pending row
that reconcile sends later, and a task whose worker stopped renewing its lease is re-sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from revive import queue
from revive.db import utcnow
from revive.errors import ServiceUnavailable
from revive.extensions import db
from revive.queue import TaskDispatch


class Broker:
    """Stands in for the Celery app: records sends, or refuses them while ``down``."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, list, str]] = []
        self.down = False

    def send_task(self, name: str, args: list, task_id: str):
        if self.down:
            raise ConnectionRefusedError("Error 111 connecting to redis")
        self.sent.append((name, args, task_id))


@pytest.fixture
def broker(app, monkeypatch) -> Broker:
    fake = Broker()
    monkeypatch.setitem(app.extensions, "celery", fake)
    return fake


def _rows() -> list[TaskDispatch]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(TaskDispatch).order_by(TaskDispatch.id)))


def test_enqueue_records_the_send(app, broker):
    task_id = queue.enqueue("imports.validate", 7)
    assert broker.sent == [("imports.validate", [7], task_id)]
    (row,) = _rows()
    assert (row.task_name, row.args, row.task_id) == ("imports.validate", [7], task_id)
    assert row.sent_at is not None and row.send_error is None and row.send_attempts == 1
    assert queue.pending_count() == 0


def test_broker_down_records_a_pending_dispatch_that_reconcile_sends(app, broker):
    broker.down = True
    with app.test_request_context():
        with pytest.raises(ServiceUnavailable) as err:
            queue.enqueue("matching.match_run", 3)
        assert "队列恢复后将自动执行" in err.value.message
        assert queue.deferred() and g.revive_queue_deferred
    (row,) = _rows()
    assert row.sent_at is None and "111" in row.send_error
    assert queue.pending_count() == 1

    assert queue.reconcile() == {"sent": [], "resent": []}  # still down: kept, not dropped
    assert _rows()[0].send_attempts == 2

    broker.down = False
    assert queue.reconcile() == {"sent": [row.id], "resent": []}
    (row,) = _rows()
    assert broker.sent == [("matching.match_run", [3], row.task_id)]
    assert row.sent_at is not None and row.send_error is None
    assert queue.reconcile() == {"sent": [], "resent": []}  # sent once only


def test_a_task_whose_lease_runs_out_is_resent_and_a_renewed_one_is_not(app, broker):
    dead_id = queue.enqueue("imports.commit", 1)
    live_id = queue.enqueue("imports.commit", 2)
    lease = timedelta(seconds=30)
    assert queue.claim(dead_id, "w1@host", "boot-dead", lease)
    assert queue.claim(live_id, "w2@host", "boot-live", lease)
    # The dead worker's lease is in the past; the live worker renews its own.
    db.session.execute(
        sa.update(TaskDispatch)
        .where(TaskDispatch.task_id == dead_id)
        .values(lease_until=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    assert queue.renew_leases("boot-live", lease) == 1

    done = queue.reconcile()
    rows = _rows()
    assert done == {"sent": [], "resent": [rows[0].id]}
    assert broker.sent[-1] == ("imports.commit", [1], rows[0].task_id)
    assert rows[0].task_id != dead_id and rows[0].worker is None and rows[0].started_at is None
    assert rows[1].task_id == live_id and rows[1].worker == "w2@host"

    queue.finish(live_id)
    assert _rows()[1].finished_at is not None
    assert queue.renew_leases("boot-live", lease) == 0  # finished tasks are not leased


def test_claim_of_an_unknown_task_is_harmless(app, broker):
    assert not queue.claim("not-a-dispatch", "w@host", "boot", timedelta(seconds=5))
    queue.finish("not-a-dispatch")
    assert _rows() == []


def test_prune_keeps_open_and_recent_dispatches(app, broker):
    old, recent, open_ = (queue.enqueue("deals.notify_overdue") for _ in range(3))
    for task_id, finished in ((old, utcnow() - timedelta(days=8)), (recent, utcnow())):
        db.session.execute(
            sa.update(TaskDispatch)
            .where(TaskDispatch.task_id == task_id)
            .values(finished_at=finished)
        )
    db.session.commit()
    assert queue.prune() == 1
    assert {r.task_id for r in _rows()} == {recent, open_}


def test_a_message_the_broker_lost_is_resent_only_when_it_is_gone(app, broker, monkeypatch):
    task_id = queue.enqueue("imports.validate", 9)
    db.session.execute(
        sa.update(TaskDispatch).values(sent_at=utcnow() - queue.lost_after() - timedelta(seconds=1))
    )
    db.session.commit()

    monkeypatch.setattr(queue, "broker_holds", lambda: {task_id})  # still queued in Redis
    assert queue.reconcile() == {"sent": [], "resent": []}
    monkeypatch.setattr(queue, "broker_holds", lambda: None)  # a transport we cannot inspect
    assert queue.reconcile() == {"sent": [], "resent": []}

    monkeypatch.setattr(queue, "broker_holds", set)  # Redis restarted empty
    (row,) = _rows()
    assert queue.reconcile() == {"sent": [], "resent": [row.id]}
    (row,) = _rows()
    assert broker.sent[-1] == ("imports.validate", [9], row.task_id) and row.task_id != task_id
    assert queue.reconcile() == {"sent": [], "resent": []}  # just re-sent: not lost again


def test_broker_holds_reads_queued_and_unacked_messages_of_redis(app, monkeypatch):
    import json

    class Conf:
        broker_url = "redis://127.0.0.1:1/0"
        task_default_queue = "revive"

    class Client:
        def lrange(self, key, start, end):
            return [json.dumps({"headers": {"id": "queued-1"}})] if key == "revive" else []

        def hvals(self, key):
            assert key == "unacked"
            return [json.dumps([{"headers": {"id": "reserved-2"}}, "revive", "revive"])]

        def close(self):
            pass

    class FakeCelery:
        conf = Conf()

    import redis

    monkeypatch.setitem(app.extensions, "celery", FakeCelery())
    monkeypatch.setattr(redis.Redis, "from_url", classmethod(lambda cls, *a, **k: Client()))
    assert queue.broker_holds() == {"queued-1", "reserved-2"}
    Conf.broker_url = "filesystem://"
    assert queue.broker_holds() is None


def test_in_hand_is_what_reconcile_sends_or_a_live_worker_runs(app, broker):
    since = utcnow() - timedelta(minutes=10)
    broker.down = True
    with app.test_request_context(), pytest.raises(ServiceUnavailable):
        queue.enqueue("imports.validate", 1)  # pending: reconcile sends it
    broker.down = False
    running = queue.enqueue("imports.commit", 2)
    assert queue.claim(running, "w@host", "boot", timedelta(seconds=30))
    old = queue.enqueue("imports.commit", 3)  # sent long ago, never started
    done = queue.enqueue("imports.commit", 4)
    queue.finish(done)
    orphaned = queue.enqueue("imports.commit", 5)  # its worker died: reconcile re-sends it
    assert queue.claim(orphaned, "w@host", "dead-boot", timedelta(seconds=-1))
    db.session.execute(
        sa.update(TaskDispatch)
        .where(TaskDispatch.task_id.in_([running, old, orphaned]))
        .values(sent_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    assert queue.in_hand(["imports.validate", "imports.commit"], since) == {
        ("imports.validate", 1),
        ("imports.commit", 2),
        ("imports.commit", 5),
    }
    assert queue.in_hand(["matching.match_run"], since) == set()


def test_the_stale_job_sweep_leaves_ledger_work_to_reconcile(app, broker, tmp_path):
    """reconcile sends the pending dispatch (or re-sends an orphaned one); the stale-job sweep
    that runs beside it leaves that job alone instead of sending it a second time."""
    from revive.accounts.models import Role
    from revive.imports import services as imports
    from revive.imports.models import ImportJob, ImportStatus
    from tests.factories import make_org, make_user

    org = make_org("台账大学")
    path = tmp_path / "f.csv"
    path.write_text("申请号,专利名称\n", encoding="utf-8")
    broker.down = True
    with app.test_request_context():
        job = imports.create_patent_import(
            str(path),
            actor=make_user(Role.UNIVERSITY_ADMIN, organization=org),
            institution_id=org.id,
        )
    broker.down = False
    long_ago = utcnow() - timedelta(minutes=30)
    db.session.execute(sa.update(ImportJob).values(updated_at=long_ago))
    db.session.execute(sa.update(TaskDispatch).values(created_at=long_ago))
    db.session.commit()

    assert len(queue.reconcile()["sent"]) == 1
    assert imports.requeue_stale_jobs(older_than_minutes=10) == []
    assert [(name, args) for name, args, _ in broker.sent] == [("imports.validate", [job.id])]
    assert db.session.get(ImportJob, job.id).status == ImportStatus.QUEUED

    # A worker died mid-commit: the sweep (here before reconcile, as `revive requeue-jobs`
    # runs them) leaves the orphaned dispatch to reconcile, which re-sends it once.
    db.session.execute(
        sa.update(ImportJob).values(status=ImportStatus.COMMITTING, updated_at=long_ago)
    )
    db.session.commit()
    task_id = queue.enqueue("imports.commit", job.id)
    assert queue.claim(task_id, "w@host", "dead-boot", timedelta(seconds=-1))
    db.session.execute(
        sa.update(TaskDispatch).where(TaskDispatch.task_id == task_id).values(sent_at=long_ago)
    )
    db.session.commit()
    broker.sent.clear()
    assert imports.requeue_stale_jobs(older_than_minutes=10) == []
    assert len(queue.reconcile()["resent"]) == 1
    assert [(name, args) for name, args, _ in broker.sent] == [("imports.commit", [job.id])]
