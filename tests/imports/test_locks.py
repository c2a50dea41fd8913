"""An import never holds the database hostage: while its file is parsed, other people log in,
save records and cancel the job as usual.

The import runs through the services, as the worker runs it; a hook the test installs
(``reader.on_parse``) pauses the parse mid-file, and from inside the pause other connections
act: requests through the test client (each request has its own app context, session and
pooled connection). Those connections wait for a lock at most ``LOCK_WAIT_MS`` (SQLite
``busy_timeout``, PostgreSQL ``lock_timeout``) instead of the production 30 s, so a lock held
by the import fails the request (503) rather than slowing it: no wall-clock assertions.

SQLite: a database file of its own (the suite's in-memory database has a single connection,
where nothing can wait on anything). PostgreSQL: TEST_DATABASE_URL, as the rest of the suite.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, current_app

from revive.accounts.models import Role, User
from revive.extensions import db
from revive.imports import reader, services
from revive.imports.models import ImportJob, ImportStatus
from revive.inventory.models import Patent
from tests.apps import other_app
from tests.factories import make_college, make_org, make_user
from tests.imports.helpers import HEADER, appno, row
from tests.imports.hostile.corpus import shared_strings_xlsx

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
LOCK_WAIT_MS = 200
ROWS = 20  # data rows in the file; batches of BATCH rows
BATCH = 3


@pytest.fixture
def lock_app(app, tmp_path) -> Iterator[Flask]:
    """A second app whose connections give up on a lock after LOCK_WAIT_MS."""
    if TEST_DATABASE_URL:
        from revive.config import normalize_database_url

        url = normalize_database_url(TEST_DATABASE_URL)
        options: dict[str, Any] = {"connect_args": {"options": f"-c lock_timeout={LOCK_WAIT_MS}"}}
    else:
        url = f"sqlite:///{tmp_path / 'locks.db'}"
        options = {}
    other = _create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-of-the-suite-and-its-workers",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
        }
    )
    with other.app_context():
        if not TEST_DATABASE_URL:
            # After revive.app's own connect hook (engine listeners run after Engine-class
            # ones), which sets the production busy_timeout of 30 s.
            sa.event.listen(db.engine, "connect", _short_busy_timeout)
            db.create_all()
            with db.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == LOCK_WAIT_MS
        try:
            yield other
        finally:
            db.session.remove()
            db.engine.dispose()


def _create_app(config: dict[str, Any]) -> Flask:
    return other_app(config)


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout={LOCK_WAIT_MS}")


@dataclass
class World:
    admin: User
    email: str
    institution_id: int
    path: Path
    seen: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def world(lock_app, tmp_path, monkeypatch, enqueued) -> World:
    org = make_org("示例理工大学")
    make_college(org, "材料学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    # Text cells in a shared-strings table, as Excel writes them: opening the workbook reads it.
    path = tmp_path / "big.xlsx"
    path.write_bytes(shared_strings_xlsx([HEADER, *[row(i) for i in range(1, ROWS + 1)]]))
    monkeypatch.setattr(services, "VALIDATE_BATCH", BATCH)
    monkeypatch.setitem(current_app.config, "REVIVE_IMPORT_COMMIT_BATCH", BATCH)
    return World(admin, admin.email, org.id, path)


def _idle_in_transaction() -> int:
    """PostgreSQL: other connections to this database sitting in an open transaction."""
    return db.session.scalar(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
        )
    )


def _pause_at(
    monkeypatch: pytest.MonkeyPatch,
    lock_app: Flask,
    world: World,
    stage: str,
    at: int,
    *,
    job_id: int,
    cancel: bool,
) -> None:
    """Install the hook: at the ``at``-th item of ``stage``, record whether the importer's
    session has a transaction open, then log in, save a patent and (``cancel``) cancel the
    job from other connections. Outcomes are recorded, never raised (the reader turns an
    exception inside a parse into a refused file)."""
    client = lock_app.test_client()

    def hook(current: str, count: int) -> None:
        if current != stage or count != at or world.seen:
            return
        world.seen["importer_in_transaction"] = db.session().in_transaction()
        # Another thread: a request in this thread would reuse the importer's app context,
        # and so its session and connection.
        other = threading.Thread(target=act)
        other.start()
        other.join()

    def act() -> None:
        try:
            act_as_others()
        except Exception as exc:  # noqa: BLE001 (shown by the assertion on world.seen)
            world.seen["error"] = repr(exc)

    def act_as_others() -> None:
        login = client.post("/login", data={"email": world.email, "password": "Passw0rd!"})
        world.seen["login"] = _answer(login)
        saved = client.post(
            "/patents/new", data={"application_no": appno(9000), "title": "一种锂电池负极材料"}
        )
        world.seen["save"] = _answer(saved)
        if cancel:
            world.seen["cancel"] = _answer(client.post(f"/imports/{job_id}/cancel"))
        if TEST_DATABASE_URL:
            with lock_app.app_context():
                world.seen["idle_in_transaction"] = _idle_in_transaction()

    monkeypatch.setattr(reader, "on_parse", hook)


def _answer(response) -> str:
    """A response as "<status> <where it redirects>", e.g. "302 /patents/7"."""
    location = response.headers.get("Location", "").removeprefix("http://localhost")
    return f"{response.status_code} {location}".strip()


def _expect_free(world: World, *, cancel: bool, job_id: int) -> None:
    saved = db.session.scalar(sa.select(Patent.id).where(Patent.application_no == appno(9000)))
    expected: dict[str, Any] = {
        "importer_in_transaction": False,
        "login": "302 /",
        "save": f"302 /patents/{saved}",
    }
    if cancel:
        expected["cancel"] = f"302 /imports/{job_id}"
    if TEST_DATABASE_URL:
        expected["idle_in_transaction"] = 0
    assert world.seen == expected
    assert saved is not None
    admin = db.session.get(User, world.admin.id)
    db.session.refresh(admin)
    assert admin.last_login_at is not None


# Where the parse is paused: in the shared-strings table (read when the workbook is opened:
# for the 195 MB table of the incident, 90–130 s), at the header row, and mid-file after
# two batches were written.
PAUSES = [("strings", 30), ("rows", 1), ("rows", 8)]


@pytest.mark.parametrize(("stage", "at"), PAUSES)
def test_validation_leaves_logins_saves_and_cancel_free(lock_app, world, monkeypatch, stage, at):
    job = services.create_patent_import(
        world.path, actor=world.admin, institution_id=world.institution_id, enqueue=False
    )
    _pause_at(monkeypatch, lock_app, world, stage, at, job_id=job.id, cancel=True)

    job = services.validate_job(job.id)

    _expect_free(world, cancel=True, job_id=job.id)
    # The cancel won: the validation stopped at its next batch and wrote nothing more.
    job = db.session.get(ImportJob, job.id)
    db.session.refresh(job)
    assert job.status == ImportStatus.CANCELLED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Patent)) == 1


@pytest.mark.parametrize("all_or_nothing", [False, True], ids=["batches", "all-or-nothing"])
@pytest.mark.parametrize(("stage", "at"), PAUSES)
def test_commit_leaves_logins_and_saves_free(
    lock_app, world, monkeypatch, stage, at, all_or_nothing
):
    job = services.create_patent_import(
        world.path,
        actor=world.admin,
        institution_id=world.institution_id,
        all_or_nothing=all_or_nothing,
        enqueue=False,
    )
    job = services.validate_job(job.id)
    assert job.status == ImportStatus.VALIDATED, job.error
    services.request_commit(job.id, actor=world.admin, enqueue=False)
    _pause_at(monkeypatch, lock_app, world, stage, at, job_id=job.id, cancel=False)

    job = services.commit_job(job.id)

    assert job.status == ImportStatus.COMMITTED, job.error
    _expect_free(world, cancel=False, job_id=job.id)
    assert job.result_counts["created"] == ROWS
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Patent)) == ROWS + 1
