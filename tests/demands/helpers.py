"""Demand test helpers: valid credit codes, a make_demand factory, spreadsheet rows."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from revive.accounts import uscc
from revive.accounts.models import Organization
from revive.demands.models import Demand, DemandStatus
from revive.extensions import db

_seq = itertools.count(1)
FUTURE = (date.today() + timedelta(days=90)).isoformat()
PAST = (date.today() - timedelta(days=1)).isoformat()


def credit_code(n: int | None = None) -> str:
    first17 = f"91320214{(n if n is not None else next(_seq)):09d}"
    return first17 + uscc.check_character(first17)


def bad_check(code: str) -> str:
    """The same code with a wrong check character."""
    wrong = next(c for c in uscc.ALPHABET if c != code[-1])
    return code[:-1] + wrong


def make_demand(enterprise: Organization, **kw: Any) -> Demand:
    n = next(_seq)
    status = kw.pop("status", DemandStatus.OPEN)
    demand = Demand(
        enterprise=enterprise,
        title=kw.pop("title", f"测试需求{n}"),
        description=kw.pop("description", "需要一种耐盐碱的水稻品种"),
        status=status,
        **kw,
    )
    if status == DemandStatus.CLOSED:
        from revive.db import utcnow

        demand.closed_at = utcnow()
        demand.close_reason = "已解决"
    db.session.add(demand)
    db.session.commit()
    return demand


HEADER = [
    "企业名称",
    "统一社会信用代码",
    "需求名称",
    "需求描述",
    "需求类型",
    "期望合作方式",
    "截止日期",
]


def row(
    name: str = "无锡智农装备科技有限公司",
    code: str | None = None,
    title: str = "盐碱地水稻稳产增产技术",
    description: str = "盐碱地亩产低，想找耐盐碱品种",
    demand_type: str = "技术难题攻关",
    modes: str = "普通许可、合作开发",
    deadline: str = FUTURE,
) -> list[str]:
    return [name, code or credit_code(1), title, description, demand_type, modes, deadline]
