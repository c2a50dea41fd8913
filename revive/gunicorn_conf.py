"""gunicorn's settings, shared by both launchers (scripts/run.sh and docker/entrypoint.sh:
``gunicorn -c python:revive.gunicorn_conf``); the address and the number of processes are
given on their command lines.

Threaded workers (``gthread``). With gunicorn's default sync workers a request that runs past
``timeout`` (30 s) gets its whole process killed: an inventory export of 60,000 patents to
.xlsx takes about 20 s to build on 2 cores, and two at once took over 30 s, so the user got a
broken download or gunicorn's English "Internal Server Error". A threaded worker reports its
heartbeat from its main loop, not from the request, so a long download finishes, and the other
threads keep answering pages meanwhile. ``timeout`` then only catches a worker process that
hangs as a whole.
"""

from __future__ import annotations

import os

from revive.clock import DEFAULT_TIMEZONE, set_process_timezone

# gunicorn's own log lines in the platform's zone too (they carry the offset: +0800)
set_process_timezone((os.environ.get("REVIVE_TIMEZONE") or "").strip() or DEFAULT_TIMEZONE)

# gthread, with Chinese pages for the requests gunicorn refuses itself (414, 431, 400)
worker_class = "revive.gunicorn_worker.ChineseErrorsWorker"
threads = max(1, int(os.environ.get("REVIVE_WEB_THREADS") or 4))
# gunicorn takes SCRIPT_NAME / PATH_INFO request headers from its trusted addresses (localhost
# by default) as the application's mount point: a client behind a same-host proxy that passes
# them could make url_for() write //evil.example/… (a security review had a logged reset link
# so). Revive is mounted at the root; no header may say otherwise.
forwarder_headers = ""
timeout = 60
graceful_timeout = 30
