"""``GET /healthz`` (revive/health.py): 200 only when the database answers and holds this
code's schema; the compose healthcheck asks it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive import health
from revive.extensions import db
from revive.health import _heads
from tests.apps import other_app

BASE = {"TESTING": True, "SECRET_KEY": "x", "SERVER_NAME": "localhost"}


def test_a_migrated_database_is_healthy_without_logging_in(client, enqueued):
    from revive import queue

    queue.resend_stuck()  # the background runs: a sweep's mark
    for url in ("/healthz", "/healthz?strict=1"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.get_json()["status"] == "ok"


@pytest.mark.usefixtures("_data_dir")
@pytest.mark.parametrize(
    ("url", "state", "words"),
    [
        (
            "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
            "unreachable",
            "无法连接",
        ),
        ("sqlite://", "empty", "revive db upgrade"),
    ],
)
def test_a_database_that_cannot_serve_is_a_503(url, state, words):
    app = other_app({**BASE, "SQLALCHEMY_DATABASE_URI": url})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["database"] == state and words in body["message"]


@pytest.mark.usefixtures("_data_dir")
def test_a_schema_behind_the_code_is_a_503_until_upgraded(tmp_path):
    app = other_app({**BASE, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        db.create_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            conn.execute(sa.text("INSERT INTO alembic_version VALUES ('0000aaaa0000')"))
        client = app.test_client()
        response = client.get("/healthz")
        assert response.status_code == 503 and response.get_json()["database"] == "outdated"
        [head] = _heads()
        with db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        response = client.get("/healthz")
        assert response.status_code == 200 and response.get_json()["revision"] == head
        db.engine.dispose()


def test_the_health_check_says_when_the_recovery_sweep_stopped(client, app, enqueued):
    """An operator stopped beat: jobs that stalled were never taken up again, while /healthz
    said "ok" and pages promised recovery within a minute."""
    import os
    import time

    from revive import queue

    stamp = queue.sweep_stamp_path()
    stamp.unlink(missing_ok=True)
    assert client.get("/healthz").get_json()["sweep"]["status"] == "never"
    queue.resend_stuck()  # a sweep runs: its mark
    sweep = client.get("/healthz").get_json()["sweep"]
    assert sweep["status"] == "ok" and sweep["seconds_ago"] <= 5
    hour_ago = time.time() - 3600
    os.utime(stamp, (hour_ago, hour_ago))
    response = client.get("/healthz")
    late = response.get_json()["sweep"]
    assert response.status_code == 200  # the web itself still serves
    assert late["status"] == "late" and "60 分钟" in late["message"] and "beat" in late["message"]
    # …and says so at the top: the operator's monitor read "status": "ok" with every worker
    # and beat stopped; a monitor asks for the strict form, which fails when degraded
    assert response.get_json()["status"] == "degraded"
    strict = client.get("/healthz?strict=1")
    assert strict.status_code == 503 and strict.get_json()["status"] == "degraded"
    stamp.unlink()  # never ran (beat not started yet, or never): degraded as well
    assert client.get("/healthz").get_json()["status"] == "degraded"
    assert client.get("/healthz?strict=1").status_code == 503


def test_the_health_check_says_when_the_broker_does_not_answer(client, app, monkeypatch):
    """An operator's web pointed at a Redis that was down read 200 "ok"; the jobs it recorded
    were only noted in a log WARNING. Reported, not a 503: the sweep sends them later."""
    monkeypatch.setattr(health, "BROKER_CHECK_SECONDS", 0.0)  # asked on every request
    assert client.get("/healthz").get_json()["broker"] == {"status": "ok"}
    conf = app.extensions["celery"].conf  # the tests' broker is the filesystem transport
    for key, value in (
        ("broker_url", "redis://127.0.0.1:1/0"),
        ("broker_write_url", None),
        ("broker_transport", None),
    ):
        monkeypatch.setitem(conf, key, value)
    response = client.get("/healthz")
    broker = response.get_json()["broker"]
    assert response.status_code == 200
    assert broker["status"] == "unreachable" and "消息队列" in broker["message"]
    assert response.get_json()["status"] == "degraded"
    assert client.get("/healthz?strict=1").status_code == 503


def test_the_broker_is_asked_once_in_a_while_not_by_every_request(client, app, monkeypatch):
    """/healthz is public: with the broker down every anonymous request waited 2 s on one of
    the web's few threads, so a few a second stalled the site (a security re-test). A process
    asks the broker at most every BROKER_CHECK_SECONDS and answers from the last check."""
    asked = []

    def ask():
        asked.append(1)
        return {"status": "unreachable", "message": "消息队列（broker）无法连接"}

    monkeypatch.setattr(health, "_ask_broker", ask)
    app.extensions.pop("revive_broker_check", None)
    answers = [client.get("/healthz").get_json()["broker"]["status"] for _ in range(20)]
    assert answers == ["unreachable"] * 20 and len(asked) == 1
    monkeypatch.setattr(health, "BROKER_CHECK_SECONDS", 0.0)  # the while has passed
    client.get("/healthz")
    assert len(asked) == 2
