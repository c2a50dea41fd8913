"""The 对接说明 an enterprise writes when it asks for a patent reaches the university without
the contact details in it (the platform's officers put the two sides in touch): on the deal
page, in the API and in the push notice. The enterprise and officers read it as written."""

from __future__ import annotations

import sqlalchemy as sa

from revive.accounts.models import Role
from revive.db import utcnow
from revive.deals.models import Deal
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching.models import Match, MatchSource
from revive.notifications.models import Notification
from revive.review import services as decisions
from tests.matching.helpers import entered, make_demand

MESSAGE = "请直接联系我们钱经理 13812345678 微信 qianboss888，想了解许可条件"


def _intent_deal(world) -> Deal:
    patent: Patent = entered(world.uni_a, college=world.college_a, title="一种果蔬保鲜方法")
    demand = make_demand(world.ent_a, title="果蔬保鲜需求")
    match = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        score=0.3,
        terms=[],
        source=MatchSource.INTENT,
        intent_at=utcnow(),
        intent_message=MESSAGE,
        intent_by_id=world.users[Role.ENTERPRISE].id,
    )
    db.session.add(match)
    db.session.commit()
    decisions.decide(match.id, "accepted", world.officer)
    return db.session.scalar(sa.select(Deal).where(Deal.match_id == match.id))


def test_the_university_reads_the_intent_without_contacts(world, client, auth):
    deal = _intent_deal(world)
    notice = db.session.scalar(
        sa.select(Notification).where(
            Notification.deal_id == deal.id, Notification.organization_id == world.uni_a.id
        )
    )
    assert "13812345678" not in notice.body and "qianboss888" not in notice.body
    assert "想了解许可条件" in notice.body and "〔联系方式已隐藏〕" in notice.body
    for role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.REGULATOR):
        auth.login(world.users[role])
        page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
        data = client.get(f"/api/v1/deals/{deal.id}").get_json()
        for shown in (page, data["intent_message"]):
            assert "13812345678" not in shown and "qianboss888" not in shown, role
            assert "想了解许可条件" in shown, role
        auth.logout()


def test_the_enterprise_and_officers_read_the_intent_as_written(world, client, auth):
    deal = _intent_deal(world)
    for role in (Role.ENTERPRISE, Role.OFFICER):
        auth.login(world.users[role])
        assert "qianboss888" in client.get(f"/deals/{deal.id}").get_data(as_text=True)
        assert client.get(f"/api/v1/deals/{deal.id}").get_json()["intent_message"] == MESSAGE
        auth.logout()
