"""Matching test setup: demands, a small patent pool, a decision without the deal push, and a
worker stand-in that drains the ``enqueued`` spy by calling the services exactly as
workers/tasks.py does (the task table of revive.demo.worker, which does the same for the demo)."""

from __future__ import annotations

import itertools
from typing import Any

from revive.accounts.models import Organization, OrgKind, Role, User
from revive.db import commit_or_conflict
from revive.demands.models import Demand, DemandStatus
from revive.demo.worker import TASKS
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent, Willingness
from revive.matching import decisions
from revive.matching.models import Match, MatchState
from tests.factories import make_org, make_patent, make_user

_seq = itertools.count(1)

BATTERY = {
    "title": "一种高镍锂离子电池正极材料及其制备方法",
    "abstract": "本发明公开了一种高镍三元正极材料，通过包覆改性提高锂离子电池的能量密度和循环寿命。",
}
WATER = {
    "title": "一种用于污水处理的膜生物反应器",
    "abstract": "本发明涉及污水处理技术领域，膜生物反应器去除有机污染物和氨氮，出水水质稳定。",
}
IRRIGATION = {
    "title": "一种基于土壤湿度传感器的智能灌溉控制系统",
    "abstract": "系统根据土壤湿度传感器数据自动控制灌溉阀门，节约农业用水。",
}
BATTERY_DEMAND = {
    "title": "提高动力电池正极材料能量密度",
    "description": "我公司生产锂离子电池，希望引进高镍正极材料包覆改性技术，提高能量密度和循环寿命。",
}


def cut_text(p: float) -> str:
    """A threshold as pages show it (templates/matching/_trust.html's ``cut``): to its tenth,
    8.5%, and 8% rather than 8.0%."""
    return f"{p * 100:.1f}%".replace(".0%", "%")


def make_enterprise(name: str | None = None) -> Organization:
    return make_org(name or f"测试企业{next(_seq)}", kind=OrgKind.ENTERPRISE)


def make_demand(enterprise: Organization | None = None, **kw: Any) -> Demand:
    fields: dict[str, Any] = {**BATTERY_DEMAND, "status": DemandStatus.OPEN}
    fields.update(kw)
    demand = Demand(enterprise=enterprise or make_enterprise(), **fields)
    db.session.add(demand)
    db.session.commit()
    return demand


def entered(institution=None, **kw: Any) -> Patent:
    kw.setdefault("transfer_willingness", Willingness.WILLING)
    return make_patent(institution, status=EntryStatus.ENTERED, **kw)


def pool(institution=None) -> dict[str, Patent]:
    """Three entered patents on unrelated subjects."""
    institution = institution or make_org()
    return {
        "battery": entered(institution, **BATTERY),
        "water": entered(institution, **WATER),
        "irrigation": entered(institution, **IRRIGATION),
    }


def drain(enqueued: list[tuple[str, tuple]], limit: int = 50) -> list[str]:
    """Run queued matching tasks in order (the worker's part); returns the task names run."""
    done: list[str] = []
    while enqueued and len(done) < limit:
        name, args = enqueued.pop(0)
        if name in TASKS:
            TASKS[name](*args)
            done.append(name)
    return done


def decide_match(
    match_id: int,
    decision: MatchState | str,
    actor: User,
    reason_code: str | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
) -> Match:
    """Accept or reject a candidate and commit, without the deal push of
    revive.review.services.decide (rejected pairs are never proposed again)."""
    match = decisions.apply_decision(
        match_id, decision, actor, reason_code, comment, expected_version
    )
    commit_or_conflict(decisions.DECIDED_ELSEWHERE)
    return match


def staff() -> dict[Role, Any]:
    return {
        Role.OFFICER: make_user(Role.OFFICER),
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN),
    }
