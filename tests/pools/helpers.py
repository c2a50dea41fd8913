"""Pool test setup: a few entered patents on distinct subjects, an index over them, a pool."""

from __future__ import annotations

from typing import Any

from revive.accounts.models import Role
from revive.matching import jobs
from revive.pools import services
from revive.pools.models import Pool
from tests.factories import make_org, make_user
from tests.matching.helpers import BATTERY, WATER, drain, entered, make_demand

DAIRY = {
    "title": "一种益生菌发酵乳的制备方法",
    "abstract": "本发明公开了一种益生菌发酵乳，以牛乳为原料经乳酸菌发酵，酸奶口感细腻，乳清析出少。",
    "industry_code": "C1441 液体乳制造",
}
COW = {
    "title": "一种奶牛隐性乳房炎在线检测装置",
    "abstract": "在挤奶时检测奶牛乳汁电导率，判断隐性乳房炎，奶牛单产提高，牛奶品质稳定。",
    "industry_code": "A0311 牛的饲养",
}
DAIRY_POOL = {
    "name": "乳业",
    "description": "乳制品加工与奶牛养殖：液态奶、发酵乳、奶粉、乳清、乳酸菌",
    "key_terms": "乳制品 牛奶 酸奶 发酵乳 奶牛 乳清 乳酸菌",
}
DAIRY_DEMAND = {
    "title": "提高酸奶发酵稳定性",
    "description": "我公司生产酸奶和发酵乳，希望引进乳酸菌发酵剂技术，减少乳清析出。",
}


def world() -> dict[str, Any]:
    uni = make_org("示例农业大学")
    patents = {
        "dairy": entered(uni, **DAIRY),
        "cow": entered(uni, **COW),
        "battery": entered(uni, **{**BATTERY, "industry_code": "C3841 锂离子电池制造"}),
        "water": entered(uni, **WATER),
    }
    return {
        "uni": uni,
        "patents": patents,
        "officer": make_user(Role.OFFICER),
        "dairy_demand": make_demand(**DAIRY_DEMAND),
        "battery_demand": make_demand(),
    }


def build_index(enqueued) -> None:
    jobs.request_index_build()
    drain(enqueued)


def make_pool(officer, **kw: Any) -> Pool:
    return services.save_pool({**DAIRY_POOL, **kw}, actor=officer)


def ranked_pool(officer, enqueued, **kw: Any) -> Pool:
    pool = make_pool(officer, **kw)
    services.request_ranking(pool.id, actor=officer)
    drain(enqueued)
    return pool
