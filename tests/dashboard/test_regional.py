"""The regional picture: funnel, contracts and unmet demands by region and by pool."""

from __future__ import annotations

import pytest

from revive.accounts.models import OrgKind, Role
from revive.clock import utcnow
from revive.extensions import db
from revive.pools.models import MemberState, Pool, PoolDemand, PoolPatent
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
