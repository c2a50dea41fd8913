"""The load test's error scan: a failed run must say what broke, not only that a traceback
was printed (loadtest.run.server_errors)."""

from __future__ import annotations

from loadtest.run import server_errors

GUNICORN_LOG = """\
[2026-12-05 16:00:01 +0000] [41] [WARNING] slow request
[2026-12-05 16:00:02 +0000] [41] [ERROR] Error handling request /patents
Traceback (most recent call last):
  File "/app/.venv/lib/python3.11/site-packages/gunicorn/workers/gthread.py", line 282, in handle
    keepalive = self.handle_request(req, conn)
  File "/app/revive/inventory/views.py", line 120, in list_patents
    rows = queries.page(args)
sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection is lost
[2026-12-05 16:00:03 +0000] [41] [INFO] fine
"""


def test_a_traceback_is_reported_with_its_last_frame_and_exception(tmp_path):
    log = tmp_path / "gunicorn.log"
    log.write_text(GUNICORN_LOG, encoding="utf-8")
    found = server_errors([log, tmp_path / "missing.log"])
    assert len(found) == 1
    assert found[0].startswith("gunicorn.log: Traceback (most recent call last): … ")
    assert 'File "/app/revive/inventory/views.py", line 120, in list_patents' in found[0]
    assert found[0].endswith(
        "→ sqlalchemy.exc.OperationalError: (psycopg.OperationalError) connection is lost"
    )


def test_a_clean_log_reports_nothing(tmp_path):
    log = tmp_path / "celery-1.log"
    log.write_text("[2026-12-05 16:00:03 +0000] [INFO] Task succeeded\n", encoding="utf-8")
    assert server_errors([log]) == []
