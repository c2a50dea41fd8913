"""Both directions agree: a patent page lists an open demand exactly when the demand's candidate
list may hold the patent (已入库, modes accepted, pair not rejected), and names the rule for a
close demand it leaves out."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.models import EntryStatus, ImplementationStatus, Willingness
from revive.matching import jobs
from revive.matching import pairs as matching_pairs
from revive.matching.models import Match, MatchState, RunScope
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


def test_the_patent_page_shows_each_listed_demands_own_strength(client, auth, world):
    """The page ranks demands by text similarity (reverse direction); beside it stands what
    the demand's own list says of the pair: its strength badge, or that the demand did not
    rank the patent at all, so a 0.06 similarity does not read as a recommendation."""
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
    row = html.split(f'data-demand-id="{demands["any"].id}"')[1].split("</tr>")[0]
    assert "未进入该需求的候选" in row


def test_a_university_user_sees_the_rules_for_public_demands_only(client, auth, world):
    patents, demands = world
    uni = patents["assign"].institution
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    html = client.get(f"/patents/{patents['assign'].id}").get_data(as_text=True)
    assert "合作方式不符" in html  # the demands are public
