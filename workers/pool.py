"""The worker's process pool when the broker is the embedded folder (revive.fsbroker).

A transport without an event loop (the folder) runs Celery's worker on its blocking loop and
billiard's plain ``Pool``, whose children share one task pipe behind one lock: an idle child
holds the lock while it waits on the pipe. Killed there (``kill -9``, the OOM killer), it takes
the lock with it, and every child, the replacements too, waits on it for ever — the worker's
main process lives on, so nothing restarted it, and with it stopped the recovery sweep (a
tester's match runs stayed 排队中 until the worker was killed by hand). Redis gives the
asynchronous pool, a pipe per child, and is not affected.

Here, when a child of that pool ends by a signal or an error that the pool did not ask for,
the worker shuts down (warm, then cold, then at once) so that whatever supervises it —
``scripts/run.sh``, a container's restart policy — starts a fresh one; work it had taken is
sent again by the recovery sweep (revive/queue.py). The lock cannot be released from outside:
it is not known whether the dead child held it.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import Any

from billiard.pool import EX_OK, EX_RECYCLE, RUN
from billiard.pool import Pool as BlockingPool
from celery.concurrency import prefork

logger = logging.getLogger(__name__)

# How long a warm shutdown may wait for running tasks before it turns cold, and a cold one
# before the process leaves at once (the deadlocked children never finish a warm one).
WARM_SECONDS = 30
COLD_SECONDS = 10
EXIT_CODE = 70  # EX_SOFTWARE: run.sh restarts a worker that exits, whatever the code


def _leave() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(WARM_SECONDS)
    os.kill(os.getpid(), signal.SIGQUIT)
    time.sleep(COLD_SECONDS)
    os._exit(EXIT_CODE)


class GuardedPool(BlockingPool):
    _leaving = False

    def process_flush_queues(self, worker: Any) -> None:
        """Called by the pool's supervisor thread for every child that has exited."""
        super().process_flush_queues(worker)
        exitcode = worker.exitcode
        if (
            self._state != RUN
            or exitcode in (EX_OK, EX_RECYCLE, None)
            or getattr(worker, "_controlled_termination", False)
            or GuardedPool._leaving
        ):
            return
        GuardedPool._leaving = True
        logger.error(
            "Pool process %s ended with exit code %s: its siblings may wait for ever on the "
            "task pipe's lock it held; restarting the whole worker",
            worker.pid,
            exitcode,
        )
        threading.Thread(target=_leave, name="revive-pool-guard", daemon=True).start()


class TaskPool(prefork.TaskPool):
    BlockingPool = GuardedPool
