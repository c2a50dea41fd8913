"""The regional picture: funnel, contracts and unmet demands by region and by pool."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import OrgKind, Role
from revive.clock import utcnow
from revive.extensions import db
from revive.inventory.models import Patent
from revive.pools.models import MemberState, Pool, PoolDemand, PoolPatent
from tests.dashboard.helpers import TableScan
from tests.deals.helpers import make_deal, sign
from tests.factories import make_org, make_user
from tests.matching.helpers import entered, make_demand


@pytest.fixture
def picture(app):
    hohhot = make_org("呼和浩特示范大学", region="内蒙古自治区呼和浩特市")
    jiangsu = make_org("无锡示范大学", region="江苏省无锡市")
    ent = make_org("包头稀土企业", kind=OrgKind.ENTERPRISE, region="内蒙古自治区包头市")
    a = entered(hohhot, title="一种稀土永磁材料")
    entered(jiangsu, title="一种污水处理装置")
    demand = make_demand(ent, title="稀土永磁需求")
    pool = Pool(name="稀土", description="稀土永磁", key_terms="稀土")
    db.session.add(pool)
    db.session.flush()
    db.session.add_all(
        [
            PoolPatent(
                pool_id=pool.id, patent_id=a.id, state=MemberState.INCLUDED, decided_at=utcnow()
            ),
            PoolDemand(
                pool_id=pool.id,
                demand_id=demand.id,
                state=MemberState.INCLUDED,
                decided_at=utcnow(),
            ),
        ]
    )
    db.session.commit()
    officer = make_user(Role.OFFICER)
    sign(make_deal(patent=a, enterprise=ent, officer=officer), actor=officer)
    return {"pool": pool, "regulator": make_user(Role.REGULATOR)}


def test_regulator_sees_funnel_contracts_and_unmet_by_region_and_pool(client, auth, picture):
    auth.login(picture["regulator"])
    resp = client.get("/dashboard/regions")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    for text in (
        "各地区转化漏斗",
        "各产业专利池转化漏斗",
        "各地区合同数与金额",
        "各地区未满足的需求",
    ):
        assert text in page
    assert "呼和浩特市" in page and "江苏省" in page and "稀土" in page
    assert "入库率（入库数 / 盘点数）" in page
    assert 'data-chart="chart-breakdown-rates"' in page


def test_filters_narrow_and_bad_values_are_ignored(client, auth, picture):
    auth.login(picture["regulator"])
    page = client.get("/dashboard/regions?region=内蒙古自治区呼和浩特市").get_data(as_text=True)
    assert "无锡示范大学" not in page and "江苏省" in page  # the filter still offers it
    assert "全平台 · 呼和浩特市" in page
    pool_page = client.get(f"/dashboard/regions?pool={picture['pool'].id}").get_data(as_text=True)
    assert "产业专利池「稀土」" in pool_page
    for bad in ("region=火星", "pool=abc", "pool=999999", "region=&pool=", "pool=99999999999999"):
        assert client.get(f"/dashboard/regions?{bad}").status_code == 200


def test_regional_tables_export(client, auth, picture):
    auth.login(picture["regulator"])
    for key in ("by-region", "by-pool", "contracts-region", "unmet-pool"):
        resp = client.get(f"/dashboard/export/{key}.csv?region=内蒙古自治区呼和浩特市")
        assert resp.status_code == 200, key


def test_universities_and_enterprises_have_no_regional_picture(client, auth, picture):
    uni = make_org("某大学")
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    assert client.get("/dashboard/regions").status_code == 403


def _include(pool, patent) -> None:
    db.session.add(
        PoolPatent(
            pool_id=pool.id, patent_id=patent.id, state=MemberState.INCLUDED, decided_at=utcnow()
        )
    )
    db.session.commit()


def test_pool_contract_shares_divide_by_distinct_contracts(client, auth, picture):
    """A contract whose patent is in two pools counted twice in 「占合同数（/ 合同总数）」's
    denominator (the pool rows were summed): 1 contract in 2 pools read 50% + 50%. The shares are
    now of the distinct contracts, the 合计 row counts each contract once and the contracts on
    patents in no pool have a row of their own; amounts of 0 export as 0.00."""
    from tests.dashboard.test_exports import download

    rare_earth = picture["pool"]
    motors = Pool(name="永磁电机", description="电机", key_terms="电机")
    empty = Pool(name="盐碱地", description="盐碱地改良", key_terms="盐碱")
    db.session.add_all([motors, empty])
    db.session.commit()
    a = db.session.scalars(
        sa.select(PoolPatent.patent_id).where(PoolPatent.pool_id == rare_earth.id)
    ).one()
    _include(motors, db.session.get(Patent, a))  # the signed patent is in two pools now
    officer = make_user(Role.OFFICER)
    outside = entered(make_org("包头示范大学", region="内蒙古自治区包头市"), title="一种风机")
    sign(make_deal(patent=outside, officer=officer), actor=officer, amount_wan="30")
    free = entered(make_org("赤峰示范大学", region="内蒙古自治区赤峰市"), title="一种牧草")
    sign(make_deal(patent=free, officer=officer), actor=officer, amount_wan="0", confirm_free="1")

    auth.login(picture["regulator"])
    html = client.get("/dashboard/regions").get_data(as_text=True)
    scan = TableScan()
    scan.feed(html)
    rows = scan.tables["table-contracts-pool"]
    assert rows[0] == [
        "产业专利池",
        "合同数（一份合同可计入多个池）",
        "占合同数（/ 合同总数，不重复计）",
        "金额（万元）",
    ]
    body = {r[0]: r[1:] for r in rows[1:]}
    assert body["永磁电机"] == ["1", "33.3%（1 / 3）", "120.50"]  # was 1 / 2: 1 + 1 + 0
    assert body["稀土"] == ["1", "33.3%（1 / 3）", "120.50"]
    assert body["盐碱地"] == ["0", "0.0%（0 / 3）", "0.00"]
    assert body["未纳入产业专利池"] == ["2", "66.7%（2 / 3）", "30.00"]
    assert body["合计"] == ["3", "100.0%（3 / 3）", "150.50"]  # distinct contracts
    assert "一件专利可属于多个池" in html

    file_rows = download(client, "/dashboard/export/contracts-pool.csv")
    by_name = {r[0]: r[1:] for r in file_rows[1:]}
    assert by_name["盐碱地"] == ["0", "0.0%（0 / 3）", "0.00"]
    assert by_name["合计"] == ["3", "100.0%（3 / 3）", "150.50"]
    regions = {r[0]: r[1:] for r in download(client, "/dashboard/export/contracts-region.csv")}
    assert regions["赤峰市"] == ["1", "33.3%（1 / 3）", "0.00"]  # a free licence: 0.00, not 0

    # one pool chosen: its contracts are the whole, no 「未纳入」 row
    chosen = client.get(f"/dashboard/regions?pool={motors.id}").get_data(as_text=True)
    scan = TableScan()
    scan.feed(chosen)
    assert [r[0] for r in scan.tables["table-contracts-pool"][1:]] == ["永磁电机", "合计"]
    assert scan.tables["table-contracts-pool"][-1][1:3] == ["1", "100.0%（1 / 1）"]


def test_regional_charts_group_regions_chart_amounts_and_keep_red_for_bad_news(
    client, auth, picture
):
    """UX review (o-regions-d): contracts and pools were drawn in alarm red, cities (呼和浩特市)
    sat beside provinces (江苏省) without a word, and amounts were only in the tables."""
    from tests.dashboard.test_pages import get

    _, scan = get(client, auth, picture["regulator"], "/dashboard/regions")
    blocks = scan.json_blocks()
    contracts = blocks["chart-contracts-region"]
    assert [d["label"] for d in contracts["datasets"]] == ["内蒙古自治区内（按盟市）：合同数"]
    assert all(d["backgroundColor"] != "var(--chart-5)" for d in contracts["datasets"])
    amount = blocks["chart-contracts-region-amount"]
    assert amount["labels"] == ["呼和浩特市"] and amount["datasets"][0]["data"][0] > 0
    pools = blocks["chart-contracts-pool-amount"]
    assert pools["labels"][0] == "稀土" and pools["datasets"][0]["data"][0] > 0
    assert "var(--chart-5)" not in str(blocks["chart-pool-entered"])
    unmet = blocks["chart-unmet-region"]
    assert unmet["datasets"][0]["backgroundColor"] == "var(--chart-5)"  # unmet: bad news
    page = client.get("/dashboard/regions").get_data(as_text=True)
    assert "地区口径：内蒙古自治区内按盟市统计，区外按省（直辖市、自治区）归并" in page
