"""Pool and roadshow pages: define, rank, curate with reasons, funnel and charts, export, roadshow
with a print page, an .xlsx hand-out and evaluation invitations for the attending enterprises."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from openpyxl import load_workbook

from revive.accounts.models import OrgKind, Role
from revive.evaluations.models import EvaluationInvite
from revive.extensions import db
from revive.pools.models import MemberState, Pool, PoolPatent, Roadshow
from tests.factories import make_org, make_user
from tests.matching.helpers import drain
from tests.pools.helpers import DAIRY_POOL, build_index, ranked_pool, world


def _members(pool):
    return {
        m.patent_id: m
        for m in db.session.scalars(sa.select(PoolPatent).where(PoolPatent.pool_id == pool.id))
    }


def test_officer_defines_a_pool_and_the_ranking_is_queued(app, client, auth, enqueued):
    w = world()
    build_index(enqueued)
    auth.login(w["officer"])
    resp = client.post("/pools/new", data={**DAIRY_POOL, "industry_codes": "C144, A0311"})
    assert resp.status_code == 302
    pool = db.session.scalar(sa.select(Pool))
    assert pool.codes == ["C144", "A0311"]
    assert any(name == "pools.run" for name, _ in enqueued)
    drain(enqueued)
    page = client.get(f"/pools/{pool.id}?tab=candidates").get_data(as_text=True)
    assert w["patents"]["dairy"].application_no in page
    assert "<mark" in page  # the reasons are highlighted in the title / abstract
    assert "纳入" in page and "排除" in page


def test_bad_definition_is_a_422_in_chinese(app, client, auth):
    auth.login(make_user(Role.OFFICER))
    resp = client.post(
        "/pools/new", data={"name": "乳业", "description": "乳", "industry_codes": "牛奶"}
    )
    assert resp.status_code == 422
    assert "行业代码" in resp.get_data(as_text=True)


def test_curation_from_the_page_then_funnel_tiers_and_export(app, client, auth, enqueued):
    w = world()
    build_index(enqueued)
    pool = ranked_pool(w["officer"], enqueued)
    rows = _members(pool)
    dairy = rows[w["patents"]["dairy"].id]
    auth.login(w["officer"])
    resp = client.post(
        f"/pools/{pool.id}/members", data={"kind": "patent", "act": f"include:{dairy.id}"}
    )
    assert resp.status_code == 302
    cow = rows[w["patents"]["cow"].id]
    client.post(
        f"/pools/{pool.id}/members",
        data={"kind": "patent", "decision": "exclude", "member_ids": [str(cow.id)]},
    )
    db.session.expire_all()
    assert dairy.state == MemberState.INCLUDED and cow.state == MemberState.EXCLUDED
    page = client.get(f"/pools/{pool.id}").get_data(as_text=True)
    assert "转化漏斗" in page and "入库率（入库数 / 盘点数）" in page
    assert 'data-chart="chart-conversion"' in page and "示例农业大学" in page
    xlsx = client.get(f"/pools/{pool.id}/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "状态" and any(r[0] == "已纳入" for r in values[1:])
    csv = client.get(f"/pools/{pool.id}/export.csv?what=demands")
    assert csv.status_code == 200 and "需求名称" in csv.get_data(as_text=True)


def test_regulator_reads_but_cannot_curate_and_others_are_refused(app, client, auth, enqueued):
    w = world()
    build_index(enqueued)
    pool = ranked_pool(w["officer"], enqueued)
    auth.login(make_user(Role.REGULATOR))
    page = client.get(f"/pools/{pool.id}?tab=candidates").get_data(as_text=True)
    assert "重新排序" not in page and 'name="act"' not in page
    assert client.post(f"/pools/{pool.id}/rank").status_code == 403
    auth.logout()
    auth.login(make_user(Role.ENTERPRISE, organization=make_org("企业甲", kind=OrgKind.ENTERPRISE)))
    assert client.get(f"/pools/{pool.id}").status_code == 403
    assert client.get("/pools/999999").status_code == 403


def test_roadshow_for_a_pool_prints_one_page_per_patent_and_invites(app, client, auth, enqueued):
    w = world()
    build_index(enqueued)
    pool = ranked_pool(w["officer"], enqueued)
    rows = _members(pool)
    chosen = [w["patents"]["dairy"].id, w["patents"]["cow"].id]
    w["patents"]["dairy"].asking_price, w["patents"]["dairy"].price_public = 245, False
    w["patents"]["cow"].asking_price, w["patents"]["cow"].price_public = 88, True
    db.session.commit()
    auth.login(w["officer"])
    client.post(
        f"/pools/{pool.id}/members",
        data={
            "kind": "patent",
            "decision": "include",
            "member_ids": [str(rows[i].id) for i in chosen],
        },
    )
    make_user(
        Role.UNIVERSITY_ADMIN, organization=w["uni"], name="技转办王老师", phone="0471-1234567"
    )
    ent = make_org("草原乳业有限公司", kind=OrgKind.ENTERPRISE)
    form = client.get(f"/roadshows/new?pool_id={pool.id}").get_data(as_text=True)
    assert "一种益生菌发酵乳的制备方法" in form and "草原乳业有限公司" in form
    posted = {
        "pool_id": str(pool.id),
        "title": "乳业专场",
        "held_on": "2026-12-20",
        "place": "呼和浩特",
        "patent_ids": [str(i) for i in chosen],
        "enterprise_ids": [str(ent.id)],
    }
    resp = client.post("/roadshows/new", data=posted)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    roadshow = db.session.scalar(sa.select(Roadshow))
    printed = client.get(f"/roadshows/{roadshow.id}/print").get_data(as_text=True)
    assert printed.count('class="roadshow-sheet"') == 2
    assert "技转办王老师" in printed and "0471-1234567" in printed
    # the hand-out goes to enterprises: only a price the university made public
    assert "88.00 万元" in printed and "245.00 万元" not in printed
    xlsx = client.get(f"/roadshows/{roadshow.id}/export.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.max_row == 3 and sheet["L1"].value.startswith("联系人")
    client.post(f"/roadshows/{roadshow.id}/invite")
    invites = db.session.scalars(sa.select(EvaluationInvite)).all()
    assert {(i.patent_id, i.enterprise_id) for i in invites} == {(p, ent.id) for p in chosen}
    # The same form again (back and resubmit; a concurrency test had four copies): the one.
    again = client.post("/roadshows/new", data=posted)
    assert again.status_code == 302 and again.location.endswith(f"/roadshows/{roadshow.id}")
    assert len(db.session.scalars(sa.select(Roadshow)).all()) == 1
    assert "未重复登记" in client.get(again.location).get_data(as_text=True)


def test_roadshow_caps_and_refuses_patents_not_entered(app, client, auth):
    officer = make_user(Role.OFFICER)
    auth.login(officer)
    base = {"tier": "A", "title": "路演", "held_on": "2026-12-20", "place": "包头"}
    resp = client.post(
        "/roadshows/new", data={**base, "patent_ids": [str(i) for i in range(1, 80)]}
    )
    assert resp.status_code == 422 and "一次最多处理" in resp.get_data(as_text=True)
    resp = client.post("/roadshows/new", data={**base, "patent_ids": ["999999"]})
    assert resp.status_code == 422 and "只能路演已入库的专利" in resp.get_data(as_text=True)
    resp = client.post("/roadshows/new", data={**base, "tier": "Z", "patent_ids": ["1"]})
    assert resp.status_code == 422


def test_menu_lists_the_pool_pages_for_staff(app, client, auth):
    auth.login(make_user(Role.OFFICER))
    page = client.get("/pools/").get_data(as_text=True)
    assert re.search(r'href="/pools/"[^>]*aria-current="page"', page)
    assert 'href="/roadshows/"' in page
