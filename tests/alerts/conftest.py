"""Alerts test world: a university with two old entered patents, an enterprise with a user
and an open demand it posted itself, two officers, the matching index built and the demand
matched (the worker's part run in-process: tests.matching.helpers.drain). ``enter_new`` then
enters a patent after the demand was posted and lets it reach the index as a worker would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from revive.accounts.models import College, Organization, Role, User
from revive.demands import services as demand_services
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching import jobs, tokens
from tests.factories import make_college, make_org, make_user
from tests.matching.helpers import IRRIGATION, WATER, drain, entered, make_enterprise

SILICON = {
    "title": "一种锂离子电池硅碳负极材料及其包覆改性制备方法",
    "abstract": "通过碳包覆改性抑制硅在充放电过程中的体积膨胀，提高硅碳负极的循环寿命和容量保持率。",
    "problem_solved": "硅碳负极体积膨胀大、循环寿命短",
}
SILICON_DEMAND = {
    "title": "动力电池硅碳负极循环寿命提升",
    "description": "硅碳负极在充放电中体积膨胀，循环寿命不足。希望引进硅碳负极包覆改性技术，"
    "抑制体积膨胀、提高循环寿命和容量保持率。",
}


@dataclass
class World:
    uni: Organization
    college: College
    ent: Organization
    ent_user: User
    officer: User
    officer2: User
    demand: Demand
    old: dict[str, Patent]
    enqueued: list

    def enter_new(self, **kw: Any) -> Patent:
        """A patent entered now (after the demand), tokenized and indexed by a delta build,
        then every open demand re-matched — the worker's path after an import."""
        fields = {**SILICON, **kw}
        patent = entered(self.uni, college=self.college, **fields)
        tokens.tokenize_patents([patent.id])
        drain(self.enqueued)
        return patent


@pytest.fixture(autouse=True)
def _no_broker(enqueued) -> Any:
    return enqueued


@pytest.fixture
def world(app, enqueued, monkeypatch) -> World:
    # Every proposal with some strength is 强 here: the tests are about who is told, not
    # about the strength model (tests/engine covers it).
    monkeypatch.setitem(app.config, "REVIVE_MATCH_STRONG", 0.05)
    monkeypatch.setitem(app.config, "REVIVE_MATCH_BAR", 0.01)
    uni = make_org("甲大学")
    college = make_college(uni, "材料学院")
    ent = make_enterprise("甲电池科技有限公司")
    ent_user = make_user(Role.ENTERPRISE, organization=ent, name="赵企业")
    officer = make_user(Role.OFFICER, name="李经理")
    officer2 = make_user(Role.OFFICER, name="钱经理")
    old = {"water": entered(uni, **WATER), "irrigation": entered(uni, **IRRIGATION)}
    tokens.tokenize_patents(None)
    jobs.request_index_build()
    drain(enqueued)
    demand = demand_services.post_demand(dict(SILICON_DEMAND), actor=ent_user)
    drain(enqueued)
    enqueued.clear()
    db.session.expire_all()
    return World(uni, college, ent, ent_user, officer, officer2, demand, old, enqueued)
