"""The demand form sent several times at once (a double click that got through, a browser
retrying, an impatient user with two tabs) posts one demand; every other request lands on it.

The requests run in threads, each through its own test client, app context and pooled
connection. Each pauses between its duplicate check and its insert (a ``before_flush`` hook
sleeping while it inserts a demand), so without a lock every check would run before any
insert and each request would post its own copy.

SQLite: a database file of its own (the suite's in-memory database has a single connection,
where nothing can wait on anything). PostgreSQL: TEST_DATABASE_URL, as the rest of the suite.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from revive.accounts.models import OrgKind, Role, User
from revive.demands.models import Demand
from revive.extensions import db
from tests.apps import other_app
from tests.demands.helpers import FUTURE
from tests.factories import make_org, make_user

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
PAUSE_S = 0.3  # between a request's check and its insert
FORM = {
    "title": "铝合金压铸件表面缺陷自动检测",
    "description": "压铸件表面气孔、裂纹靠人工目检，希望用视觉检测替代",
    "cooperation_modes": ["license"],
    "deadline": FUTURE,
    "visibility": "public",
}


@pytest.fixture
def race_app(app, tmp_path) -> Iterator[Flask]:
    """The session's app on PostgreSQL; on SQLite an app over a database file."""
    if TEST_DATABASE_URL:
        yield app
        return
    other = other_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-of-the-suite-and-its-workers",
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'races.db'}",
        }
    )
    with other.app_context():
        db.create_all()
        try:
            yield other
        finally:
            db.session.remove()
            db.engine.dispose()


def _pause_before_inserting_a_demand(session: Any, _context: Any, _instances: Any) -> None:
    if any(isinstance(obj, Demand) for obj in session.new):
        time.sleep(PAUSE_S)


def _race(calls: list[Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 — a failed request is what the test looks for
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def test_one_form_posted_three_times_at_once_posts_one_demand(race_app, enqueued):
    with race_app.app_context():
        enterprise = make_org("并发发布科技有限公司", kind=OrgKind.ENTERPRISE)
        user = make_user(Role.ENTERPRISE, organization=enterprise)
        db.session.commit()
        email, enterprise_id = user.email, enterprise.id
    clients = [race_app.test_client() for _ in range(3)]
    for client in clients:
        assert client.post("/login", data={"email": email, "password": "Passw0rd!"}).status_code
    sa.event.listen(db.session, "before_flush", _pause_before_inserting_a_demand)
    try:

        def post(client: Any) -> Any:
            def call() -> tuple[int, str]:
                with race_app.app_context():
                    r = client.post("/demands/new", data=FORM)
                    return r.status_code, r.headers.get("Location", "")

            return call

        results = _race([post(c) for c in clients])
    finally:
        sa.event.remove(db.session, "before_flush", _pause_before_inserting_a_demand)
    with race_app.app_context():
        ids = db.session.scalars(
            sa.select(Demand.id).where(Demand.enterprise_id == enterprise_id)
        ).all()
    assert len(ids) == 1, (ids, results)
    # every request answered (no 500): each redirects to the one demand
    assert [status for status, _ in results] == [302, 302, 302], results
    assert {location.rsplit("/", 1)[-1] for _, location in results} == {str(ids[0])}, results


def test_a_push_while_the_demand_closes_leaves_no_open_deal_on_it(race_app, enqueued, monkeypatch):
    """An officer accepts an intent while the enterprise closes the demand. The closing has
    listed the demand's open deals and pauses before its commit: the push must not slip in
    between (a deal the closing never saw would stay open on a closed demand, awaiting the
    university's answer). Both hold the demand's row: the push waits, then is refused."""
    from revive.db import utcnow
    from revive.deals import queries as deal_queries
    from revive.deals.models import Deal, Stage
    from revive.demands import services as demand_services
    from revive.demands.models import DemandStatus
    from revive.errors import InvalidTransition
    from revive.matching.models import Match
    from revive.review import services as decisions
    from tests.demands.helpers import make_demand
    from tests.matching.helpers import entered

    with race_app.app_context():
        enterprise = make_org("并发关闭科技有限公司", kind=OrgKind.ENTERPRISE)
        owner = make_user(Role.ENTERPRISE, organization=enterprise)
        officer = make_user(Role.OFFICER)
        demand = make_demand(enterprise)
        # an intent: the closing keeps it (it drops the engine's undecided candidates only)
        match = Match(demand_id=demand.id, patent_id=entered().id, score=0.5, terms=[])
        match.intent_message, match.intent_at = "想了解", utcnow()
        db.session.add(match)
        db.session.commit()
        ids = {"demand": demand.id, "match": match.id, "owner": owner.id, "officer": officer.id}

    listed = deal_queries.open_deals_of_demand

    def listed_then_paused(demand_id: int) -> list[Deal]:
        found = listed(demand_id)
        time.sleep(PAUSE_S)  # the closing's list is made; its commit comes later
        return found

    monkeypatch.setattr(deal_queries, "open_deals_of_demand", listed_then_paused)

    def close() -> str:
        with race_app.app_context():
            actor = db.session.get(User, ids["owner"])
            demand_services.close_demand(ids["demand"], actor=actor, reason="不需要了")
            return "closed"

    def push() -> str:
        time.sleep(PAUSE_S / 3)  # once the closing holds the demand
        with race_app.app_context():
            try:
                decisions.decide(ids["match"], "accepted", db.session.get(User, ids["officer"]))
            except InvalidTransition as exc:
                return exc.message
            return "pushed"

    results = _race([close, push])
    with race_app.app_context():
        assert db.session.get(Demand, ids["demand"]).status == DemandStatus.CLOSED
        deals = db.session.scalars(sa.select(Deal).where(Deal.demand_id == ids["demand"])).all()
    assert results[0] == "closed", results
    assert "需求已关闭" in results[1], results
    assert [d.stage for d in deals if d.stage != Stage.FAILED] == [], results
