"""Both directions agree: a patent page lists an open demand exactly when the demand's candidate
list may hold the patent (已入库, modes accepted, pair not rejected), and names the rule for a
close demand it leaves out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive import engine
from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.models import EntryStatus, ImplementationStatus, Willingness
from revive.matching import jobs
from revive.matching import pairs as matching_pairs
from revive.matching.models import DemandReading, Match, MatchState, MatchTier, RunScope
from tests.factories import make_org, make_patent, make_user
from tests.matching.helpers import BATTERY, decide_match, drain, entered, make_demand

SAME = {"title": BATTERY["title"], "abstract": BATTERY["abstract"]}
NEED = {
    "title": "高镍正极材料包覆改性技术",
    "description": "需要高镍三元正极材料的包覆改性技术，提高锂离子电池能量密度和循环寿命。",
}


@pytest.fixture
def world(app, enqueued):
    uni = make_org("甲大学")
    patents = {
        "open": entered(uni, transfer_modes=None, **SAME),
        "licence": entered(uni, transfer_modes="license", **SAME),
        "assign": entered(uni, transfer_modes="assignment", **SAME),
        "pending": make_patent(uni, status=EntryStatus.PENDING_SCHOOL, **SAME),
        "not_now": entered(uni, transfer_willingness=Willingness.NOT_NOW, **SAME),
        "sold": entered(uni, implementation_status=ImplementationStatus.TRANSFERRED, **SAME),
    }
    demands = {
        "any": make_demand(cooperation_modes=None, **NEED),
        "licence": make_demand(cooperation_modes="license", **NEED),
    }
    jobs.request_index_build()
    drain(enqueued)
    for d in demands.values():
        jobs.request_match_run(RunScope.DEMAND, d.id)
    drain(enqueued)
    return patents, demands


def _candidates() -> set[tuple[int, int]]:
    db.session.expire_all()
    return {
        (m.demand_id, m.patent_id)
        for m in db.session.scalars(sa.select(Match).where(Match.state != MatchState.REJECTED))
    }


def _patent_pages(officer, patents) -> tuple[set[tuple[int, int]], dict[tuple[int, int], str]]:
    listed, left_out = set(), {}
    for p in patents.values():
        found = matching_pairs.demands_for_patent(officer, p)
        listed |= {(d.id, p.id) for d, _, _ in found.listed}
        left_out.update({(d.id, p.id): rule for d, _, rule in found.left_out})
    return listed, left_out


def test_patent_pages_list_exactly_the_pairs_the_demands_may_propose(world):
    patents, demands = world
    officer = make_user(Role.OFFICER)
    listed, left_out = _patent_pages(officer, patents)
    assert listed == _candidates()
    assert listed == {
        (demands["any"].id, patents["open"].id),
        (demands["any"].id, patents["licence"].id),
        (demands["any"].id, patents["assign"].id),
        (demands["licence"].id, patents["open"].id),
        (demands["licence"].id, patents["licence"].id),
    }
    # every close pair not listed is named with its rule
    rule = left_out[(demands["licence"].id, patents["assign"].id)]
    assert rule == "合作方式不符：需求期望普通许可，专利可接受转让"
    assert (
        "专利尚未入库（当前：待学校审核）" in left_out[(demands["any"].id, patents["pending"].id)]
    )
    assert "暂不" in left_out[(demands["licence"].id, patents["not_now"].id)]
    assert "专利已转让，专利权已不属于本单位" in left_out[(demands["any"].id, patents["sold"].id)]
    assert not set(left_out) & listed


def test_a_rejected_pair_leaves_both_lists_and_an_accepted_one_stays(world):
    patents, demands = world
    officer = make_user(Role.OFFICER)
    pairs = {(m.demand_id, m.patent_id): m for m in db.session.scalars(sa.select(Match)).all()}
    decide_match(
        pairs[(demands["any"].id, patents["licence"].id)].id,
        "rejected",
        officer,
        reason_code="wrong_field",
    )
    decide_match(pairs[(demands["any"].id, patents["open"].id)].id, "accepted", officer)
    jobs.request_match_run(RunScope.ALL_DEMANDS)
    listed, left_out = _patent_pages(officer, patents)
    assert listed == _candidates()
    assert (demands["any"].id, patents["licence"].id) not in listed
    assert left_out[(demands["any"].id, patents["licence"].id)] == (
        "该组合已被技术经理人否决（领域不符），不再推荐"
    )
    found = matching_pairs.demands_for_patent(officer, patents["open"])
    assert demands["any"].id in found.accepted


def test_the_patent_page_names_the_rules(client, auth, world):
    patents, demands = world
    auth.login(make_user(Role.OFFICER))
    html = client.get(f"/patents/{patents['assign'].id}").get_data(as_text=True)
    panel = html.split('id="patent-demands"')[1].split("</section>")[0]
    listed, left = panel.split('id="patent-demands-left-out"')
    assert f'data-demand-id="{demands["any"].id}"' in listed
    assert f'data-demand-id="{demands["licence"].id}"' not in listed
    assert "未列入" in left and f'data-left-out-demand-id="{demands["licence"].id}"' in left
    assert "合作方式不符：需求期望普通许可，专利可接受转让" in left

    html = client.get(f"/patents/{patents['pending'].id}").get_data(as_text=True)
    panel = html.split('id="patent-demands"')[1].split("</section>")[0]
    assert "data-patent-rule" in panel and "专利尚未入库" in panel
    assert "<table" not in panel  # nothing listed: it is proposed to no demand
    # the rule said once (a designer read it again on every line, after a bare 「相似度 0.057」)
    assert panel.count("专利尚未入库") == 2  # the notice, and the heading of the close demands
    assert "data-rule" not in panel and "文本相似度" in panel
    auth.logout()
    owner = make_user(Role.UNIVERSITY_ADMIN, organization=patents["pending"].institution)
    auth.login(owner)  # the score is an officer's sorting aid, not a university's figure
    html = client.get(f"/patents/{patents['pending'].id}").get_data(as_text=True)
    assert "文本相似度" not in html.split('id="patent-demands"')[1].split("</section>")[0]


def test_the_patent_page_shows_each_listed_demands_own_strength(client, auth, world):
    """Each listed demand with what its own list says of the pair (its strength badge); a
    demand whose list does not hold the patent is not listed, however close it reads (the
    page used to list it by its own text similarity, marked 未进入该需求的候选)."""
    patents, demands = world
    auth.login(make_user(Role.OFFICER))
    html = client.get(f"/patents/{patents['open'].id}").get_data(as_text=True)
    panel = html.split('id="patent-demands"')[1].split("</section>")[0]
    assert "匹配强度" in panel and "文本相似度" in panel
    row = panel.split(f'data-demand-id="{demands["any"].id}"')[1].split("</tr>")[0]
    match = db.session.scalar(
        sa.select(Match).where(
            Match.demand_id == demands["any"].id, Match.patent_id == patents["open"].id
        )
    )
    assert match is not None and match.tier is not None
    assert f'data-tier="{match.tier.value}"' in row
    db.session.delete(match)  # as if the demand's own list had not ranked the patent
    db.session.commit()
    html = client.get(f"/patents/{patents['open'].id}").get_data(as_text=True)
    assert f'data-demand-id="{demands["any"].id}"' not in html
    assert "未进入该需求的候选" not in html


def test_the_patent_page_reads_a_short_demands_strength_as_its_list_does(client, auth, world):
    """A thin posting's strengths are shown on the short postings' measure on its own list;
    the patent page showed the same pair on the other measure (an SME trial)."""
    patents, demands = world
    match = db.session.scalar(
        sa.select(Match).where(
            Match.demand_id == demands["any"].id, Match.patent_id == patents["open"].id
        )
    )
    match.strength, match.tier = 0.8, MatchTier.STRONG
    reading = db.session.get(DemandReading, demands["any"].id)
    reading.is_thin = True
    db.session.commit()
    short = round(engine.shipped_reliability().observed(0.8, True) * 100)
    auth.login(make_user(Role.OFFICER))
    html = client.get(f"/patents/{patents['open'].id}").get_data(as_text=True)
    row = html.split(f'data-demand-id="{demands["any"].id}"')[1].split("</tr>")[0]
    listed = client.get(f"/matching/demands/{demands['any'].id}").get_data(as_text=True)
    assert f"实测约 {short}%" in row and f"实测约 {short}%" in listed


def test_a_weak_candidate_of_a_demand_is_on_the_patent_page_marked_weak(client, auth, world):
    """/patents/302 said 暂无相近的开放需求 while three demands listed it among their weak
    candidates: the page dropped text scores under 0.05, the demands kept their top 20."""
    patents, demands = world
    far = make_demand(
        title="直播带货短视频自动剪辑",
        description="自动识别商品讲解片段并加字幕的视频剪辑软件，支持批量处理。",
    )
    weak = Match(
        demand_id=far.id,
        patent_id=patents["open"].id,
        score=0.012,
        strength=0.01,
        tier=MatchTier.WEAK,
        rank=20,
    )
    db.session.add(weak)
    db.session.commit()
    officer = make_user(Role.OFFICER)
    found = matching_pairs.demands_for_patent(officer, patents["open"])
    assert far.id in {d.id for d, _, _ in found.listed}
    assert {d.id for d, _, _ in found.listed} == {
        d for d, p in _candidates() if p == patents["open"].id
    }
    auth.login(officer)
    html = client.get(f"/patents/{patents['open'].id}").get_data(as_text=True)
    panel = html.split('id="patent-demands"')[1].split("</section>")[0]
    shown, folded = panel.split("data-weak>")
    assert f'data-demand-id="{far.id}"' in folded and f'data-demand-id="{far.id}"' not in shown
    row = folded.split(f'data-demand-id="{far.id}"')[1].split("</tr>")[0]
    assert 'data-tier="weak"' in row and "显示较弱候选" in folded
    assert "暂无相近的开放需求" not in panel


def test_a_university_user_sees_the_rules_for_public_demands_only(client, auth, world):
    patents, demands = world
    uni = patents["assign"].institution
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    html = client.get(f"/patents/{patents['assign'].id}").get_data(as_text=True)
    assert "合作方式不符" in html  # the demands are public
