"""seed-demo posts the demo demands through the service, once."""

from __future__ import annotations

import sqlalchemy as sa

from revive import signals
from revive.accounts.models import OrgKind
from revive.demands.models import Demand, DemandSource, DemandStatus
from revive.demo.demands import DEMANDS
from revive.demo.seed import seed_demo
from revive.extensions import db


def test_seed_loads_every_demo_demand_once_and_fires_signals(app):
    saved = []

    def receiver(sender, **kw):
        saved.append(kw["demand_id"])

    signals.demand_saved.connect(receiver)
    try:
        first = seed_demo()
        second = seed_demo()
    finally:
        signals.demand_saved.disconnect(receiver)
    demands = list(db.session.scalars(sa.select(Demand)))
    assert first.created["demands"] == len(DEMANDS) == 14
    assert second.created["demands"] == 0
    assert sorted(saved) == sorted(d.id for d in demands)
    assert {d.title for d in demands} == {d["title"] for d in DEMANDS}
    assert all(d.enterprise.kind == OrgKind.ENTERPRISE for d in demands)
    assert all(d.status == DemandStatus.OPEN and d.source == DemandSource.SELF for d in demands)
    assert len({d.enterprise_id for d in demands}) > 1
