"""申请对接 with a new demand sent twice at once (a double click that got through): one demand,
one intent; the second request is told the patent was already asked for. Each request pauses
between its checks and its insert of the demand (see tests/demands/test_races.py)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.demands.models import Demand
from revive.errors import ConflictError, InvalidTransition
from revive.extensions import db
from revive.matching import manual
from revive.matching.models import Match
from tests.demands.test_races import (  # noqa: F401  (fixture)
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
