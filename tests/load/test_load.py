"""Load test in CI: the real stack (gunicorn, two Celery workers on Redis, PostgreSQL) under 50
locust users for 40 seconds, through the same runner as ``python -m loadtest.run`` (which runs
it for minutes and measures latency).

Asserts what issue 6 asks of the platform: no failed request (status >= 400, error page, lost
session, rejected form), no traceback in the server or worker logs, every match run the posted
demands triggered finished, and real work done. Page latency (p50/p95/p99 in the steady state,
from 10 s after every user has logged in) is printed in the pytest output, not asserted: it
depends on what else the machine runs; ``python -m loadtest.run`` measures it.

Services: TEST_DATABASE_URL names the PostgreSQL server; the test uses a database of its own
on it, ``<that database>_load`` (REVIVE_LOAD_DATABASE_URL overrides), which it drops and
re-creates — never the suite's own. Redis: REVIVE_LOAD_REDIS_URL, else REVIVE_TEST_REDIS_URL's
server with the database number below it (15 → 14): the integration tests' worker listens on
REVIVE_TEST_REDIS_URL and must not take this run's tasks. Without PostgreSQL and Redis the test
skips with the reason (in CI, tests/conftest.py turns that skip into a failure).
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import IN_CI, TEST_DATABASE_URL

pytestmark = pytest.mark.integration

USERS = 50
DURATION = "40s"  # in CI: errors and real work, not latency (loadtest.run measures it)
EXTRA_PATENTS = 2000  # ~2,300 patents in all: lists are not trivially small, set-up stays short


def _redis_url() -> str | None:
    explicit = os.environ.get("REVIVE_LOAD_REDIS_URL")
    if explicit:
        return explicit
    base = os.environ.get("REVIVE_TEST_REDIS_URL")
    if not base:
        return None
    from redis.connection import parse_url

    number = int(parse_url(base).get("db") or 0)
    other = number - 1 if number > 0 else 1
    head, _, tail = base.rstrip("/").rpartition("/")
    return f"{head}/{other}" if tail.isdigit() else f"{base.rstrip('/')}/{other}"


def _database_url() -> str | None:
    explicit = os.environ.get("REVIVE_LOAD_DATABASE_URL")
    if explicit:
        return explicit
    if not TEST_DATABASE_URL or not TEST_DATABASE_URL.startswith(("postgres", "postgresql")):
        return None
    from sqlalchemy.engine import make_url

    from revive.config import normalize_database_url

    url = make_url(normalize_database_url(TEST_DATABASE_URL))
    return url.set(database=f"{url.database}_load").render_as_string(hide_password=False)


def _require(database_url: str | None, redis_url: str | None) -> None:
    missing = [
        name
        for name, value in (
            ("TEST_DATABASE_URL (PostgreSQL)", database_url),
            ("REVIVE_TEST_REDIS_URL", redis_url),
        )
        if not value
    ]
    missing += [tool for tool in ("locust", "gunicorn") if not shutil.which(tool, path=_bin())]
    if missing:
        reason = f"the load test needs {', '.join(missing)} (`bash .ci/run` sets them up)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)


def _bin() -> str:
    import sys

    return os.path.dirname(sys.executable)


def test_fifty_users_without_errors(tmp_path, capsys):
    database_url, redis_url = _database_url(), _redis_url()
    _require(database_url, redis_url)
    from loadtest.run import Settings, run

    result = run(
        Settings(
            database_url=database_url,
            redis_url=redis_url,
            users=USERS,
            spawn_rate=25,
            duration=DURATION,
            patents=EXTRA_PATENTS,
            out=tmp_path,
            name="ci",
        )
    )
    summary, checks = result.summary, result.checks
    cats = summary["categories"]
    figures = ", ".join(
        f"{k} n={v['count']} p50={v['p50']:.0f} p95={v['p95']:.0f} p99={v['p99']:.0f} ms"
        for k, v in cats.items()
        if v.get("count") and k != "all"
    )
    with capsys.disabled():
        print(
            f"\n[load] {USERS} users, {summary['seconds']:.0f} s steady state: "
            f"{summary['rps']} req/s; {figures}; failures {summary['whole_run']['failures']}, "
            f"server errors {checks['server_errors']}, match runs "
            f"{checks['after']['match_runs']}"
        )
    assert summary["whole_run"]["failures"] == 0, summary["failure_samples"]
    assert checks["server_errors"] == 0, checks["server_error_lines"][:10]
    assert checks["failed_runs"] == 0, checks["after"]["match_runs"]
    # The run did real work: demands were posted and matched, the review queue was worked.
    assert checks["after"]["demands"] > checks["before"]["demands"]
    decided = sum(n for s, n in checks["after"]["matches"].items() if s != "candidate")
    decided_before = sum(n for s, n in checks["before"]["matches"].items() if s != "candidate")
    assert decided > decided_before
    # Every user browsed: the page count is well above one page a user. Counted over the whole
    # run: on a loaded machine logging 50 users in takes much of the run, leaving a short
    # steady state. (How many pages the server serves depends on what else the machine runs,
    # like its latency.)
    assert summary["whole_run"]["categories"]["page"]["count"] >= 3 * USERS
    # Page latency is printed above, not asserted: the figure depends on what else the machine
    # runs (CI runs two test passes at once); speed is measured by python -m loadtest.run.
