"""Shared fixtures: app (SQLite in memory, or TEST_DATABASE_URL), client, login helper, enqueue spy.

Tables are created once per session and emptied after each test, which works the same on
SQLite and PostgreSQL (no per-test drop/create against a server database).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.pool import StaticPool

from revive import create_app
from revive.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# ../shared/data beside the checkout (as in CI); REVIVE_SHARED_DATA overrides it.
SHARED_DATA = Path(
    os.environ.get("REVIVE_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)


def _db_config() -> dict:
    if TEST_DATABASE_URL:
        from revive.config import normalize_database_url

        return {"SQLALCHEMY_DATABASE_URI": normalize_database_url(TEST_DATABASE_URL)}
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "poolclass": StaticPool,
            "connect_args": {"check_same_thread": False},
        },
    }


@pytest.fixture(scope="session")
def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("revive-data")
    os.environ["REVIVE_DATA_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def _app(_data_dir: Path):
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-of-the-suite-and-its-workers",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            # A cheap hash, as the factories' (revive.accounts.passwords: production keeps
            # scrypt, ~0.1 s a hash, which hundreds of registrations and logins would pay).
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **_db_config(),
        }
    )
    with app.app_context():
        if TEST_DATABASE_URL:
            db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        if TEST_DATABASE_URL:
            db.drop_all()
        db.engine.dispose()  # close pooled connections before interpreter exit


def _empty_tables() -> None:
    """Delete every row, children first. DELETE beats TRUNCATE on PostgreSQL for tiny tables
    (TRUNCATE rewrites each table's files); tests never rely on id values. The statements go
    as one script (after every test: one round trip instead of one a table, 7.5 → ~1 ms)."""
    db.session.rollback()
    preparer = db.engine.dialect.identifier_preparer
    script = ";".join(
        f"DELETE FROM {preparer.format_table(t)}" for t in reversed(db.metadata.sorted_tables)
    )
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":  # sqlite3 runs one statement an execute
        connection.connection.driver_connection.executescript(script)
    else:
        connection.exec_driver_sql(script)
    db.session.commit()


@pytest.fixture
def app(_app) -> Iterator:
    """The app inside an app context; every table is emptied after the test."""
    ctx = _app.app_context()
    ctx.push()
    try:
        yield _app
    finally:
        db.session.remove()
        _empty_tables()
        db.session.remove()
        ctx.pop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client) -> None:
        self._client = client

    def login(self, user_or_email, password: str = "Passw0rd!"):
        email = getattr(user_or_email, "email", user_or_email)
        return self._client.post("/login", data={"email": email, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, tuple]]:
    """Spy on revive.queue.enqueue (and fan_out, recorded as "matching.fan_out"): records
    (task_name, args) instead of talking to a broker."""
    calls: list[tuple[str, tuple]] = []

    def fake_enqueue(task_name: str, *args: object) -> str:
        calls.append((task_name, args))
        return f"fake-{len(calls)}"

    import revive.queue

    def fake_fan_out(parts: list[tuple], callback: tuple) -> str:
        calls.append(("matching.fan_out", (parts, callback)))
        return f"fake-{len(calls)}"

    monkeypatch.setattr(revive.queue, "enqueue", fake_enqueue)
    monkeypatch.setattr(revive.queue, "fan_out", fake_fan_out)
    return calls


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data; skipped outside CI when absent, a failure in CI."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"shared data folder missing in CI: {SHARED_DATA}")
        pytest.skip("../shared/data not present")
    return SHARED_DATA


# With TEST_DATABASE_URL the suite runs twice (make test): everything on SQLite, and on
# PostgreSQL only what can behave differently there. REVIVE_TEST_SCOPE=dialect selects the
# latter: SQL the services and queries issue (functions, constraints, triggers, locking,
# JSON, dates), migrations, input PostgreSQL refuses (NUL, integer overflow: the API's
# bad-input and schemathesis runs), and the tests that need real services. Pages, permissions, the
# API's shapes, the engine and the evaluation do not depend on the dialect and run once.
# A test elsewhere that does depend on it carries @pytest.mark.dialect.
DIALECT_FILES = (
    "test_services.py",
    "test_queries.py",
    "test_constraints.py",
    "test_append_only.py",
    "test_locks.py",
    "test_migrations.py",
    "test_funnel.py",
    "test_cache.py",
    "test_activity.py",
    "test_scale_seed.py",
    "test_list_scale.py",
    "test_queue.py",
    "test_decisions.py",
    "test_rejections.py",
    "test_sessions.py",
    "test_login_throttle.py",
    "test_recovery.py",
    "test_seed.py",
    "test_inventor_links.py",
    "test_college_rule.py",
    "test_bad_input.py",  # NUL, overflowing ids: PostgreSQL refuses what SQLite stores
    "test_races.py",  # requests in threads: row locks on PostgreSQL, the write lock on SQLite
    "test_savepoints.py",
)
DIALECT_DIRS = ("tests/integration/", "tests/load/", "tests/imports/", "tests/api/")


# Tests that start a server on a SQLite file of their own: the test database is not theirs.
OWN_DATABASE_FILES = ("test_schemathesis_cli.py", "test_run_script.py")


def is_dialect_sensitive(item: pytest.Item) -> bool:
    path = item.nodeid.split("::", 1)[0]
    if path.rsplit("/", 1)[-1] in OWN_DATABASE_FILES:
        return False
    return (
        item.get_closest_marker("dialect") is not None
        or item.get_closest_marker("integration") is not None
        or path.rsplit("/", 1)[-1] in DIALECT_FILES
        or path.startswith(DIALECT_DIRS)
    )


# Tests that touch no test database (the engine, the evaluation and the benchmarks' CLI; the
# servers started on a SQLite file of their own, OWN_DATABASE_FILES): in CI they run once, in
# the PostgreSQL pass, which has fewer tests than the SQLite pass, so that the two passes that
# run side by side take about as long (REVIVE_TEST_SCOPE=sqlite leaves them out of the SQLite
# pass). The browser tests, which also serve a SQLite file of their own, stay in the SQLite
# pass (the PostgreSQL pass runs -m "not browser"), which they balance.
DATABASE_FREE_DIRS = ("tests/engine/", "tests/benchmark/")


def in_database_free_dir(item: pytest.Item) -> bool:
    path = item.nodeid.split("::", 1)[0]
    return path.startswith(DATABASE_FREE_DIRS) or path.rsplit("/", 1)[-1] in OWN_DATABASE_FILES


def scope_keeps(item: pytest.Item, scope: str | None) -> bool:
    """Whether a pass of ``make test`` runs ``item``: ``dialect`` (the PostgreSQL pass) runs
    the dialect-sensitive and the database-free tests, ``sqlite`` all but the database-free
    ones (a dialect-sensitive test in a database-free folder runs in both); no scope,
    everything."""
    if scope == "dialect":
        return in_database_free_dir(item) or is_dialect_sensitive(item)
    if scope == "sqlite":
        return not in_database_free_dir(item) or is_dialect_sensitive(item)
    return True


def pytest_collection_modifyitems(config, items):
    scope = os.environ.get("REVIVE_TEST_SCOPE")
    if scope == "dialect" and not TEST_DATABASE_URL:
        scope = None  # the dialect pass without PostgreSQL would be SQLite again: run it all
    if scope not in ("dialect", "sqlite"):
        return
    kept = [item for item in items if scope_keeps(item, scope)]
    config.hook.pytest_deselected(items=[i for i in items if not scope_keeps(i, scope)])
    items[:] = kept


def pytest_sessionfinish(session, exitstatus):
    """In CI an integration test that skipped is a failure: they must run against real services."""
    if not IN_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = [
        r
        for r in reporter.stats.get("skipped", [])
        if "integration" in getattr(r, "keywords", {}) or "/integration/" in r.nodeid
    ]
    if skipped:
        reporter.write_line(
            f"CI: {len(skipped)} integration test(s) were skipped; they must run in CI.", red=True
        )
        session.exitstatus = 1
