"""The worker's part of seed-demo, done in-process: no broker, no running worker needed.

While ``inline_queue()`` is active, ``revive.queue.enqueue`` records (task, args) instead of
talking to the broker; ``drain()`` then runs the matching tasks by calling the same services
``workers/tasks.py`` calls (as tests/matching/helpers.py does). So the index artifact lands
under REVIVE_DATA_DIR exactly where a worker would put it, every IndexBuild / MatchRun row
ends succeeded, and the worker that ``make run`` starts afterwards finds nothing to redo.

Demo notifications are never e-mailed (the demo addresses are under the reserved .example
domain): their e-mail task is dropped and the row marked ``skipped``, as deliver_email does
when there is nobody to send to. Any other task is handed to the real queue at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from revive import queue
from revive.errors import ServiceUnavailable
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.matching import indexes, jobs, strength, tokens
from revive.matching import runs as matching_runs
from revive.matching.models import IndexBuild, MatchRun, RunStatus
from revive.notifications import services as notifications
from revive.notifications.models import Notification
from revive.pools import services as pools

logger = logging.getLogger(__name__)

Call = tuple[str, tuple[Any, ...]]


def run_fan_out(parts: list[tuple[Any, ...]], callback: tuple[Any, ...]) -> Any:
    """A chord in-process: every part in turn, then the callback with their results."""
    results = [TASKS[name](*args) for name, *args in parts]
    name, *args = callback
    return TASKS[name](results, *args)


TASKS: dict[str, Callable[..., Any]] = {
    "matching.tokenize": tokens.tokenize_patents,
    "matching.build_index": indexes.execute_index_build,
    "matching.match_run": matching_runs.execute_match_run,
    "matching.score_shards": matching_runs.score_shards,
    "matching.merge_scores": matching_runs.merge_scores,
    "matching.refit_strength": strength.refit_strength,
    "matching.fan_out": run_fan_out,  # what queue.fan_out records while inline
    "pools.run": pools.execute_run,
}


@contextmanager
def inline_queue() -> Iterator[list[Call]]:
    """Record enqueued tasks instead of sending them; forward leftovers on the way out."""
    calls: list[Call] = []
    send = queue.enqueue

    def record(task_name: str, *args: Any) -> str:
        calls.append((task_name, args))
        return f"seed-demo-{len(calls)}"  # what a row's celery_task_id shows

    def record_fan_out(parts: list[tuple[Any, ...]], callback: tuple[Any, ...]) -> str:
        calls.append(("matching.fan_out", (parts, callback)))
        return f"seed-demo-{len(calls)}"

    fan_out = queue.fan_out
    queue.enqueue = record  # type: ignore[assignment]
    queue.fan_out = record_fan_out  # type: ignore[assignment]
    try:
        yield calls
    finally:
        queue.enqueue = send  # type: ignore[assignment]
        queue.fan_out = fan_out  # type: ignore[assignment]
    for name, args in calls:  # nothing the seed runs itself is left here normally
        try:
            send(name, *args)
        except ServiceUnavailable:
            logger.warning("Seed left %s%r unsent: broker unavailable", name, args)


def pending_matching(calls: list[Call]) -> None:
    """Queue what a worker would find to do: queued builds and runs (e.g. from an earlier seed
    whose worker never ran), or a first index build when there is none."""
    builds = list(
        db.session.scalars(
            sa.select(IndexBuild.id)
            .where(IndexBuild.status == RunStatus.QUEUED)
            .order_by(IndexBuild.id)
        )
    )
    calls.extend(("matching.build_index", (build_id,)) for build_id in builds)
    if jobs.active_build() is not None:
        runs = sa.select(MatchRun.id).where(MatchRun.status == RunStatus.QUEUED)
        for run_id in db.session.scalars(runs.order_by(MatchRun.id)):
            calls.append(("matching.match_run", (run_id,)))
    elif not builds and not any(name == "matching.build_index" for name, _ in calls):
        entered = sa.select(sa.func.count()).where(Patent.status == EntryStatus.ENTERED)
        if db.session.scalar(entered):
            jobs.request_index_build()  # recorded by inline_queue; it sends waiting runs


def drain(calls: list[Call], limit: int = 500) -> list[str]:
    """Run the recorded tasks in order, including those they queue in turn; returns the names
    run. E-mail tasks of demo notifications are dropped (see the module docstring)."""
    done: list[str] = []
    kept: list[Call] = []
    while calls and len(done) < limit:
        name, args = calls.pop(0)
        if name in TASKS:
            TASKS[name](*args)
            done.append(name)
        elif name == "notifications.email":
            _skip_email(*args)
        elif name == "notifications.email_batch":
            _skip_email_batch(*args)
        else:
            kept.append((name, args))
    calls[:0] = kept
    return done


def _skip_email(notification_id: int) -> None:
    db.session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, Notification.email_status == "queued")
        .values(email_status="skipped")
    )
    db.session.commit()


def _skip_email_batch(batch_id: int) -> None:
    notifications.settle_batch(batch_id, "skipped")
