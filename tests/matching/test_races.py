"""申请对接 with a new demand sent twice at once (a double click that got through): one demand,
one intent; the second request is told the patent was already asked for. Each request pauses
between its checks and its insert of the demand (see tests/demands/test_races.py)."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.demands.models import Demand
from revive.errors import ConflictError, InvalidTransition, RateLimited
from revive.extensions import db
from revive.matching import manual
from revive.matching.models import Match
from tests.demands.test_races import (  # noqa: F401  (fixture)
    PAUSE_S,
    _pause_before_inserting_a_demand,
    _race,
    race_app,
)
from tests.factories import make_user
from tests.matching.helpers import entered, make_enterprise


def test_one_intent_with_a_new_demand_sent_twice_at_once_posts_one(race_app, enqueued):  # noqa: F811
    with race_app.app_context():
        enterprise = make_enterprise("并发对接科技有限公司")
        user = make_user(Role.ENTERPRISE, organization=enterprise)
        patent = entered(title="一种高镍正极材料")
        db.session.commit()
        ids = {"user": user.id, "patent": patent.id, "enterprise": enterprise.id}
        title = manual.default_demand_title(patent)

    def ask() -> Any:
        with race_app.app_context():
            actor = db.session.get(User, ids["user"])
            try:
                match = manual.submit_intent(
                    actor, ids["patent"], "希望引进", new_demand_title=title
                )
            except (ConflictError, InvalidTransition) as exc:
                db.session.rollback()
                return exc.message
            return match.id

    sa.event.listen(db.session, "before_flush", _pause_before_inserting_a_demand)
    try:
        results = _race([ask, ask])
    finally:
        sa.event.remove(db.session, "before_flush", _pause_before_inserting_a_demand)
    with race_app.app_context():
        demands = db.session.scalars(
            sa.select(Demand.id).where(Demand.enterprise_id == ids["enterprise"])
        ).all()
        intents = db.session.scalars(
            sa.select(Match.id).where(Match.patent_id == ids["patent"], Match.intent_at.isnot(None))
        ).all()
    assert len(demands) == 1 and len(intents) == 1, results
    told = [r for r in results if isinstance(r, str)]
    assert len(told) == 1 and "申请" in told[0] and "对接" in told[0], results


def _pause_before_inserting_a_match(session: Any, _context: Any, _instances: Any) -> None:
    if any(isinstance(obj, Match) for obj in session.new):
        time.sleep(PAUSE_S)


def test_the_hourly_asking_budget_holds_when_intents_arrive_at_once(
    race_app,  # noqa: F811
    enqueued,
    monkeypatch,
):
    """Security re-test F5: 60 intents at once let 35 through a cap of 30, each request
    counting before any had written its audit event. The enterprise's row is locked before
    counting, so four requests at once against a cap of two send two."""
    monkeypatch.setitem(race_app.config, "REVIVE_INTENTS_PER_HOUR", 2)
    with race_app.app_context():
        enterprise = make_enterprise("并发额度科技有限公司")
        user = make_user(Role.ENTERPRISE, organization=enterprise)
        patents = [entered(title=f"一种高镍正极材料{i}") for i in range(4)]
        db.session.commit()
        user_id, patent_ids = user.id, [p.id for p in patents]

    def ask(i: int) -> Any:
        def call() -> Any:
            with race_app.app_context():
                actor = db.session.get(User, user_id)
                try:
                    match = manual.submit_intent(
                        actor, patent_ids[i], "希望引进", new_demand_title=f"引进高镍正极{i}"
                    )
                except RateLimited as exc:
                    db.session.rollback()
                    return exc.message
                return match.id

        return call

    sa.event.listen(db.session, "before_flush", _pause_before_inserting_a_match)
    try:
        results = _race([ask(i) for i in range(4)])
    finally:
        sa.event.remove(db.session, "before_flush", _pause_before_inserting_a_match)
    with race_app.app_context():
        intents = db.session.scalars(
            sa.select(Match.id).where(Match.patent_id.in_(patent_ids), Match.intent_at.isnot(None))
        ).all()
    assert len(intents) == 2, results
    refused = [r for r in results if isinstance(r, str)]
    assert len(refused) == 2 and all("过于频繁" in r for r in refused), results
