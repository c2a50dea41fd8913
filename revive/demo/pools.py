"""The demo's industry pools: the region's own industries, built by the engine and curated.

Each pool is defined by the officer, ranked in-process (the same Celery task body), then curated
the way an officer would: a candidate whose 国民经济行业分类 is one of the pool's codes (for a
pool without codes: one that scores at least the pool's bar) is included; the weakest remaining candidates are excluded as
near-misses; the rest stay 待确认. One roadshow is recorded for the dairy pool. Each step runs
with the clock held at its moment. Idempotent: a pool or roadshow that exists is left alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from revive import clock
from revive.accounts.models import Organization, User
from revive.extensions import db
from revive.inventory.models import EntryStatus
from revive.pools import ranking, roadshows, services
from revive.pools.models import MemberState, Pool, PoolDemand, PoolPatent, Roadshow

POOLS: tuple[dict[str, Any], ...] = (
    {
        "name": "乳业",
        "description": "乳制品加工与奶牛养殖：液态奶、发酵乳、奶粉、乳清蛋白、乳酸菌发酵、"
        "奶牛饲养、挤奶与疾病监测",
        "key_terms": "奶牛 牛奶 乳制品 发酵乳 乳酸菌 乳房炎 挤奶 牧场",
        "industry_codes": "A0311, C144",
    },
    {
        "name": "肉羊与绒山羊",
        "description": "肉羊、绒山羊舍饲育肥与繁育，羔羊培育，饲草料与饲料添加剂",
        "key_terms": "肉羊 羔羊 母羊 舍饲 育肥 饲草 青贮",
        "industry_codes": "A0314",
    },
    {
        "name": "稀土与金属新材料",
        "description": "稀土及金属新材料：稀土微合金化镁合金、钛合金、铝合金、高熵合金、"
        "粉末冶金与有色金属冶炼",
        "key_terms": "稀土 微合金化 镁合金 钛合金 铝合金 高熵合金 粉末冶金 冶炼",
        "industry_codes": "C31, C32",
    },
    {
        "name": "新能源（风光氢储）",
        "description": "风电光伏并网、储能电池与储能系统、电解水制氢，新能源电池材料",
        "key_terms": "光伏 储能 锂电池 钠离子电池 液流电池 制氢 电解槽 微电网",
        "industry_codes": "C384, C3825, D44",
    },
    {
        "name": "盐碱地与草原生态修复",
        "description": "盐碱地改良、耐盐植物种植、土壤修复与生态治理",
        "key_terms": "盐碱地 盐碱 改良剂 耐盐 土壤修复 淋洗",
        "industry_codes": "N7726",
    },
)
INCLUDE_MAX = 12  # per pool: what an officer confirms in a first pass
EXCLUDE_WEAKEST = 2
EXCLUDE_NOTE = "仅个别术语相同，不属于本产业"


def seed_pools(officer: User, enterprises: list[Organization], now: datetime, drain: Any) -> None:
    """Define, rank, curate; ``drain`` runs what the in-process queue recorded."""
    for i, spec in enumerate(POOLS):
        if db.session.scalar(sa.select(Pool.id).where(Pool.name == spec["name"])):
            continue
        with clock.held_at(now - timedelta(days=40 - i)):
            pool = services.save_pool(spec, actor=officer)
            services.request_ranking(pool.id, actor=officer)
        drain()
        with clock.held_at(now - timedelta(days=30 - i)):
            _curate(pool, officer)
    _roadshow(officer, enterprises, now)


def _curate(pool: Pool, officer: User) -> None:
    rows = list(
        db.session.scalars(
            sa.select(PoolPatent)
            .where(PoolPatent.pool_id == pool.id, PoolPatent.state == MemberState.CANDIDATE)
            .order_by(PoolPatent.rank)
        )
    )
    bar = services.bar_of(pool)
    fits = [
        r
        for r in rows
        if r.patent.status == EntryStatus.ENTERED
        and (
            ranking.matches_codes(r.patent.industry_code, pool.codes)
            if pool.codes
            else r.score >= bar
        )
    ][:INCLUDE_MAX]
    if fits:
        services.decide_members(pool.id, "patent", [r.id for r in fits], "include", actor=officer)
    rest = [r for r in rows if r not in fits]
    weakest = rest[-EXCLUDE_WEAKEST:] if len(rest) > EXCLUDE_WEAKEST else []
    if weakest:
        services.decide_members(
            pool.id,
            "patent",
            [r.id for r in weakest],
            "exclude",
            actor=officer,
            comment=EXCLUDE_NOTE,
        )
    demands = [m for m in _demands(pool.id) if m.score >= bar][:5]
    if demands:
        services.decide_members(
            pool.id, "demand", [m.id for m in demands], "include", actor=officer
        )


def _demands(pool_id: int) -> list[Any]:
    return list(
        db.session.scalars(
            sa.select(PoolDemand)
            .where(PoolDemand.pool_id == pool_id, PoolDemand.state == MemberState.CANDIDATE)
            .order_by(PoolDemand.rank)
        )
    )


def _roadshow(officer: User, enterprises: list[Organization], now: datetime) -> None:
    title = "乳业专利专场路演"
    if db.session.scalar(sa.select(Roadshow.id).where(Roadshow.title == title)):
        return
    pool = db.session.scalar(sa.select(Pool).where(Pool.name == "乳业"))
    if pool is None:
        return
    included = list(
        db.session.scalars(
            sa.select(PoolPatent.patent_id)
            .where(PoolPatent.pool_id == pool.id, PoolPatent.state == MemberState.INCLUDED)
            .order_by(PoolPatent.rank)
            .limit(6)
        )
    )
    if not included:
        return
    held = (now - timedelta(days=10)).date()
    with clock.held_at(now - timedelta(days=14)):
        roadshows.create_roadshow(
            {
                "pool_id": str(pool.id),
                "title": title,
                "held_on": held.isoformat(),
                "place": "内蒙古自治区呼和浩特市 · 示范技术转移运营中心路演厅",
            },
            included,
            [e.id for e in enterprises],
            actor=officer,
        )
