"""The pool's pages and the enterprise's demand page: what each viewer sees, the intent form,
the demand's status while matching and after, the officers' tools, the settings page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from revive import engine
from revive.accounts.models import Role
from revive.deals.models import Deal
from revive.demands.models import Demand
from revive.extensions import db
from revive.matching import indexes, jobs, manual
from revive.matching.models import (
    DemandReading,
    Match,
    MatchSource,
    MatchState,
    MatchTier,
    RunScope,
)
from revive.notifications.models import Notification
from revive.review import services as review
from revive.settings import services as settings
from tests.matching.helpers import cut_text, decide_match, drain, make_demand
from tests.pool.conftest import SILICON, abstaining_demand, match_now
from tests.pool.test_services import SILICON_DEMAND

PRIVATE_TEXT = ("0471-7654321", "secret.contact@nkut.edu.cn", "王老师", "某保密合作企业", "88.52")


def _section(html: str, section_id: str) -> str:
    return html.split(f'id="{section_id}"')[1].split("</section>")[0]


# ---------------------------------------------------------------------------- search, page


@pytest.mark.parametrize("role", list(Role))
def test_every_role_searches_the_pool_and_never_sees_drafts(client, auth, world, role):
    auth.login(world.users[role])
    html = client.get("/pool/?q=硅碳负极").get_data(as_text=True)
    assert SILICON["title"] in html and "按相关程度排序" in html
    assert "草稿专利" not in html and "待审核的硅碳负极专利" not in html


def test_a_word_the_patents_do_not_use_finds_by_text_or_suggests_theirs(client, auth, world):
    """Seen by a new user: 羊 and 养羊 found nothing while the patents say 肉羊 and 羔羊. One
    character the engine cannot rank is looked up in the text; a word found nowhere gets
    the patents' own words that share two consecutive characters with it, as links — never
    words sharing one character only (explore2 F15: 砂轮 → 两轮、涡轮). An empty result says no
    order ("最新入库在前" of nothing)."""
    auth.login(world.enterprise)
    html = client.get("/pool/?q=硅").get_data(as_text=True)
    assert SILICON["title"] in html
    html = client.get("/pool/?q=硅胶垫").get_data(as_text=True)
    assert "没有找到符合条件的专利" in html
    assert "data-suggestions" not in html  # 硅碳 shares 硅 only
    total = html.split('id="pool-total"')[1].split("</p>")[0]
    assert "0 件" in total and "最新入库在前" not in total and "排序" not in total
    # filters that leave nothing: the patents' words sharing 负极 are suggested, as links
    html = client.get(f"/pool/?q=负极&university={world.uni_b.id}").get_data(as_text=True)
    hint = html.split("data-suggestions")[1].split("</p>")[0]
    assert "负极材料" in hint and 'href="/pool/?q=' in hint
    assert "硅碳" not in hint and "最新入库在前" not in html


def test_a_patent_not_offered_now_says_what_that_means_for_matching(client, auth, world):
    """暂不 patents are in the pool and open to intents, but matching never proposes them: the
    page says so, or the enterprise sees two answers that contradict each other."""
    from revive.inventory.models import Willingness

    patent = world.patents["water"]
    auth.login(world.enterprise)
    assert "data-not-now" not in client.get(f"/pool/patents/{patent.id}").get_data(as_text=True)
    patent.transfer_willingness = Willingness.NOT_NOW
    db.session.commit()
    page = client.get(f"/pool/patents/{patent.id}").get_data(as_text=True)
    assert "data-not-now" in page and "不会出现在企业需求的自动匹配结果中" in page


def test_a_patent_whose_term_ended_says_so_to_the_enterprise(client, auth, world):
    from datetime import date

    from revive.inventory.models import PatentType

    patent = world.patents["water"]
    auth.login(world.enterprise)
    assert 'id="term-ended"' not in client.get(f"/pool/patents/{patent.id}").get_data(as_text=True)
    patent.patent_type, patent.filing_date = PatentType.UTILITY, date(2014, 5, 27)
    db.session.commit()
    page = client.get(f"/pool/patents/{patent.id}").get_data(as_text=True)
    assert "保护期已于 2024-05-27 届满" in page and "无需许可" in page


def test_the_nav_offers_the_pool(client, auth, world):
    auth.login(world.enterprise)
    nav = client.get("/").get_data(as_text=True).split('<nav class="mainnav"')[1]
    assert 'href="/pool/"' in nav.split("</nav>")[0]


def test_bad_search_parameters_never_fail(client, auth, world):
    auth.login(world.enterprise)
    for query in (
        "trl_min=abc&trl_max=-3",
        "page=99999999999",
        "mode=x&tier=9&university=x",
        "q=" + "长" * 500,
        "industry=%25&region=_",
    ):
        assert client.get(f"/pool/?{query}").status_code == 200, query


def test_the_public_page_shows_what_a_company_needs_and_nothing_private(client, auth, world):
    auth.login(world.enterprise)
    p = world.patents["silicon"]
    html = client.get(f"/pool/patents/{p.id}").get_data(as_text=True)
    assert p.title in html and "TRL 6" in html and "普通许可、开放许可" in html
    assert _section(html, "patent-terms").count("面议") == 1  # the price is not public
    assert world.users[Role.INVENTOR].name in _section(html, "patent-team")
    assert "内蒙古自治区呼和浩特市" in html and "材料学院" in html
    for secret in PRIVATE_TEXT:
        assert secret not in html, secret
    assert "★" not in html  # the university's self-rating is internal
    assert 'id="intent-form"' in html


def test_open_licence_terms_show_on_the_public_page(client, auth, world):
    auth.login(world.enterprise)
    html = client.get(f"/pool/patents/{world.patents['water'].id}").get_data(as_text=True)
    licence = html.split('id="patent-licence"')[1].split("</dd>")[0]
    assert "开放许可" in licence and "许可期内提供技术指导" in licence and "许可条件" in licence


@pytest.mark.parametrize("key", ["draft", "pending"])
def test_a_patent_outside_the_pool_is_a_404(client, auth, world, key):
    auth.login(world.enterprise)
    response = client.get(f"/pool/patents/{world.patents[key].id}")
    assert response.status_code == 404
    assert world.patents[key].title not in response.get_data(as_text=True)


def test_only_enterprises_get_the_intent_form(client, auth, world):
    auth.login(world.officer)
    html = client.get(f"/pool/patents/{world.patents['silicon'].id}").get_data(as_text=True)
    assert 'id="intent-form"' not in html and "申请对接面向企业用户" in html


# ---------------------------------------------------------------------------- anonymous


def test_anonymous_visitors_are_sent_to_log_in_while_the_pool_is_private(client, world):
    response = client.get("/pool/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/pool/patents").status_code == 401


def test_anonymous_visitors_browse_when_the_admin_opens_the_pool(client, auth, world):
    auth.login(world.users[Role.PLATFORM_ADMIN])
    assert "对未登录访客公开专利库" in client.get("/admin/settings/").get_data(as_text=True)
    client.post("/admin/settings/", data={"public_pool": ["0", "1"]})
    assert settings.public_pool() is True
    auth.logout()
    html = client.get("/pool/?q=硅碳负极").get_data(as_text=True)
    assert SILICON["title"] in html and "注册企业账号" in html
    page = client.get(f"/pool/patents/{world.patents['silicon'].id}").get_data(as_text=True)
    assert 'id="intent-form"' not in page and "/login?next=" in page
    for secret in PRIVATE_TEXT:
        assert secret not in page
    assert client.get(f"/pool/patents/{world.patents['draft'].id}").status_code == 404
    response = client.post(
        f"/pool/patents/{world.patents['silicon'].id}/intents", data={"message": "好"}
    )
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/api/v1/pool/patents?q=硅碳").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) == 0


# ---------------------------------------------------------------------------- intents


def test_an_intent_from_the_patent_page_lands_on_the_demand_page(client, auth, world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    auth.login(world.enterprise)
    p = world.patents["silicon"]
    response = client.post(
        f"/pool/patents/{p.id}/intents",
        data={"demand": str(demand.id), "message": "请安排与发明人团队交流"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/demands/{demand.id}#demand-intents")
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    intents = _section(html, "demand-intents")
    assert p.title in intents and "请安排与发明人团队交流" in intents and "审核中" in intents
    assert "已申请对接，审核中" in client.get(f"/pool/patents/{p.id}").get_data(as_text=True)
    listed = client.get("/pool/intents").get_data(as_text=True)
    assert "请安排与发明人团队交流" in listed and demand.title in listed
    # closed, the demand's intents leave the officers' queue: they no longer read 审核中
    assert (
        client.post(f"/demands/{demand.id}/close", data={"reason": "方向调整"}).status_code == 302
    )
    listed = client.get("/pool/intents").get_data(as_text=True)
    assert "需求已关闭，不再审核" in listed and "审核中" not in listed


def test_an_intent_with_a_new_demand(client, auth, world):
    auth.login(world.enterprise)
    p = world.patents["battery"]
    page = client.get(f"/pool/patents/{p.id}").get_data(as_text=True)
    assert manual.default_demand_title(p) in page  # prefilled
    response = client.post(
        f"/pool/patents/{p.id}/intents",
        data={"demand": "new", "new_demand_title": "引进高镍正极", "message": "希望了解工艺"},
    )
    assert response.status_code == 302
    demand = db.session.scalar(sa.select(Demand).where(Demand.title == "引进高镍正极"))
    assert demand.enterprise_id == world.ent.id and demand.description == "希望了解工艺"


@pytest.mark.parametrize(
    "data",
    [
        {"demand": "new", "new_demand_title": "x", "message": ""},
        {"demand": "new", "new_demand_title": "x", "message": "长" * 1001},
        {"demand": "new", "new_demand_title": "", "message": "好"},
        {"demand": "new", "new_demand_title": "引进 revive-verify。com", "message": "好"},
        {"demand": "", "message": "好"},
        {"message": "好"},
    ],
)
def test_a_bad_intent_is_shown_again_with_the_reason(client, auth, world, data):
    auth.login(world.enterprise)
    response = client.post(f"/pool/patents/{world.patents['silicon'].id}/intents", data=data)
    assert response.status_code == 422
    assert 'class="flash flash-danger"' in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Match.id))) == 0


def test_a_second_intent_on_the_same_pair_is_refused_with_a_message(client, auth, world):
    demand = make_demand(world.ent)
    auth.login(world.enterprise)
    url = f"/pool/patents/{world.patents['silicon'].id}/intents"
    client.post(url, data={"demand": str(demand.id), "message": "好"})
    response = client.post(url, data={"demand": str(demand.id), "message": "再来"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已就这条需求申请过对接" in page


def test_an_intent_for_another_enterprises_demand_is_a_404(client, auth, world):
    theirs = make_demand(world.ent_b)
    auth.login(world.enterprise)
    response = client.post(
        f"/pool/patents/{world.patents['silicon'].id}/intents",
        data={"demand": str(theirs.id), "message": "好"},
    )
    assert response.status_code == 404 and theirs.title not in response.get_data(as_text=True)


# ---------------------------------------------------------------------------- the demand page


def test_the_demand_page_shows_progress_then_labelled_suggestions(client, auth, world, enqueued):
    auth.login(world.enterprise)
    form = {**SILICON_DEMAND, "visibility": "public"}
    response = client.post("/demands/new", data=form)
    demand_id = int(response.headers["Location"].rsplit("/", 1)[1])
    html = client.get(f"/demands/{demand_id}").get_data(as_text=True)
    status = _section(html, "demand-progress")
    assert "data-run-progress" in status and 'data-active="1"' in status
    assert "js/run-progress.js" in status and "<script>" not in status  # CSP: a file
    assert "正在为您匹配" in status and "data-previous-results" not in status  # nothing yet
    drain(enqueued)
    html = client.get(f"/demands/{demand_id}").get_data(as_text=True)
    assert 'data-active="1"' not in html
    suggestions = _section(html, "demand-suggestions")
    assert "机器推荐，尚未经技术经理人审核" in suggestions
    first = suggestions.split('class="suggestion"')[1]
    assert SILICON["title"] in first and "经人工判定" in first and "确实切合需求" in first
    assert re.search(r"依据强度相近的 [\d,]+ 对人工判定", first)  # the share's denominator
    # the tiers' bands in words a phone shows (an SME read 「中」 beside 「约 8%」)
    from revive.matching.strength import threshold_text, thresholds

    bar, strong = thresholds()
    legend = suggestions.split("data-tier-legend>")[1].split("</p>")[0]
    assert f"强 ≥ {threshold_text(strong)}" in legend and f"低于 {threshold_text(bar)}" in legend
    assert "TRL 6" in first and "普通许可、开放许可" in first and "未声明开放许可" in first
    for secret in PRIVATE_TEXT:
        assert secret not in html
    assert "data-unmet" not in html
    # an edit sends it to matching again: until that run ends, what is listed is the previous
    # run's (an SME tester read the old 描述较短 prompt beside 排队中 after adding detail)
    client.post(
        f"/demands/{demand_id}/edit",
        data={**form, "description": form["description"] + "，要求循环寿命提升一倍"},
    )
    status = _section(client.get(f"/demands/{demand_id}").get_data(as_text=True), "demand-progress")
    assert 'data-active="1"' in status and "data-previous-results" in status


def test_a_thin_multi_need_posting(client, auth, world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    match_now(enqueued, demand.id)
    reading = db.session.get(DemandReading, demand.id)
    reading.is_thin = True
    reading.needs = [{"label": "硅碳负极", "text": "…"}, {"label": "污水处理", "text": "…"}]
    db.session.commit()
    auth.login(world.enterprise)
    html = _section(
        client.get(f"/demands/{demand.id}").get_data(as_text=True), "demand-suggestions"
    )
    assert "data-thin" in html and f"/demands/{demand.id}/edit" in html
    assert "子需求 1：硅碳负极" in html and "子需求 2：污水处理" in html
    assert "data-elsewhere-legend" in html  # the dashed chips said in words (no hover)


def test_a_demand_that_abstains_shows_its_weak_candidates_on_request(client, auth, world):
    """Issue 13: 暂无合适专利, with the weak candidates only on request (folded, labelled 弱);
    a weak candidate whose patent has left the pool is not shown."""
    demand = abstaining_demand(
        world, {world.patents["silicon"]: 0.04, world.patents["draft"]: 0.05}
    )
    auth.login(world.enterprise)
    html = _section(
        client.get(f"/demands/{demand.id}").get_data(as_text=True), "demand-suggestions"
    )
    assert "data-no-suggestions" in html and "#demand-progress" in html  # said once, above
    assert 'class="suggestion"' not in html  # nothing recommended at once
    weak = html.split("data-weak")[1].split("</details>")[0]
    assert "显示较弱的候选（1 件" in weak
    assert SILICON["title"] in weak and 'data-tier="weak"' in weak
    bar = cut_text(engine.shipped_model().bar)
    assert "约 4% 确实切合需求" in weak and f"“弱”：模型估计低于 {bar}" in weak
    assert world.patents["draft"].title not in html


def test_an_unmet_demand_says_so_with_what_to_do(client, auth, world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND, cooperation_modes="license", expected_trl=7)
    match_now(enqueued, demand.id)
    for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id)).all():
        decide_match(m.id, "rejected", world.officer, reason_code="other", comment="内部原因XYZ")
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    unmet = html.split("data-unmet")[1].split("</div>")[0]
    assert "暂无合适专利" in unmet and "补充技术细节" in unmet
    assert "普通许可" in unmet and "TRL 7" in unmet and "订阅新专利提醒" in unmet
    assert "内部原因XYZ" not in html and "其他" not in _section(html, "demand-progress")
    counts = _section(html, "demand-progress")
    assert 'data-count="declined">' in counts and 'data-count="under_review">0<' in counts
    assert "data-no-suggestions" in _section(html, "demand-suggestions")


def test_alerts_toggle_on_the_demand_page(client, auth, world):
    demand = make_demand(world.ent)
    auth.login(world.enterprise)
    assert 'data-alerts="on"' in client.get(f"/demands/{demand.id}").get_data(as_text=True)
    response = client.post(f"/demands/{demand.id}/alerts", data={"subscribed": "0"})
    assert response.status_code == 302
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert 'data-alerts="off"' in html and "已取消新专利提醒" in html


def test_other_viewers_never_see_the_enterprises_panel(client, auth, world, enqueued):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    match_now(enqueued, demand.id)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert 'id="demand-suggestions"' not in html and 'id="demand-matches"' not in html
    auth.logout()
    auth.login(world.ent_b_user)
    assert client.get(f"/demands/{demand.id}").status_code == 404


# ---------------------------------------------------------------------------- officers


def test_the_queue_shows_the_intent_and_pushing_sends_the_note(client, auth, world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    m = manual.submit_intent(
        world.enterprise, world.patents["silicon"].id, "请安排交流", demand_id=demand.id
    )
    auth.login(world.officer)
    html = client.get("/review/").get_data(as_text=True)
    row = html.split(f'data-match-id="{m.id}"')[1].split("</tr>")[0]
    assert "企业申请对接" in row and "请安排交流" in row and "附说明采纳" in row
    assert "企业申请对接 1 条" in html
    client.post(
        f"/review/matches/{m.id}/decision",
        data={"decision": "accepted", "comment": "团队可提供中试样品", "version": m.version},
    )
    deal = db.session.scalar(sa.select(Deal).where(Deal.match_id == m.id))
    assert deal.note == "团队可提供中试样品"
    auth.logout()
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    pushed = _section(html, "demand-pushed")
    assert "团队可提供中试样品" in pushed and world.patents["silicon"].title in pushed
    assert "已推送" in _section(html, "demand-intents")
    note = db.session.scalar(
        sa.select(Notification).where(Notification.organization_id == world.ent.id)
    )
    assert "团队可提供中试样品" in note.body
    deal_page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "团队可提供中试样品" in deal_page and "请安排交流" in deal_page


def test_an_officer_searches_and_adds_a_patent_by_hand(client, auth, world):
    demand = make_demand(world.ent, **SILICON_DEMAND)
    auth.login(world.officer)
    html = client.get(f"/review/demands/{demand.id}/candidates").get_data(as_text=True)
    assert SILICON["title"] in html and "草稿专利" not in html  # searched with the title
    html = client.get(f"/review/demands/{demand.id}/candidates?q=污水").get_data(as_text=True)
    assert world.patents["water"].title in html
    response = client.post(
        f"/review/demands/{demand.id}/candidates",
        data={"patent_id": str(world.patents["water"].id), "note": "可现场考察"},
    )
    assert response.status_code == 302
    m = db.session.scalar(sa.select(Match).where(Match.demand_id == demand.id))
    assert m.source == MatchSource.OFFICER and m.note == "可现场考察"
    queue = client.get("/review/").get_data(as_text=True)
    row = queue.split(f'data-match-id="{m.id}"')[1].split("</tr>")[0]
    assert "技术经理人添加" in row and "可现场考察" in row
    bad = client.post(
        f"/review/demands/{demand.id}/candidates",
        data={"patent_id": str(world.patents["draft"].id)},
    )
    assert bad.status_code == 404
    long = client.post(
        f"/review/demands/{demand.id}/candidates",
        data={"patent_id": str(world.patents["water"].id), "note": "长" * 2001},
    )
    assert long.status_code == 422


def test_adding_to_a_closed_demand_is_a_404(client, auth, world):
    demand = make_demand(world.ent)
    demand.status, demand.closed_at = "closed", demand.created_at
    db.session.commit()
    auth.login(world.officer)
    assert client.get(f"/review/demands/{demand.id}/candidates").status_code == 404


def test_a_pick_without_an_index_reads_as_added_by_hand(client, auth, world, monkeypatch):
    monkeypatch.setattr(indexes, "load_active_index", lambda: None)
    demand = make_demand(world.ent)
    m = manual.add_candidate(world.officer, demand.id, world.patents["water"].id, "看看")
    auth.login(world.officer)
    row = client.get("/review/").get_data(as_text=True).split(f'data-match-id="{m.id}"')[1]
    assert "人工添加" in row.split("</tr>")[0]
    assert m.state == MatchState.CANDIDATE and jobs.active_build() is not None
    assert RunScope.DEMAND.value == "demand"


# ---------------------------------------------------------------------------- explore2


def _machine(demand, patent, strength: float, tier: MatchTier, reasons=("硅碳",)) -> Match:
    """A machine candidate of ``demand`` for ``patent`` as a run stores it."""
    m = Match(
        demand_id=demand.id,
        patent_id=patent.id,
        score=0.1,
        strength=strength,
        tier=tier,
        reasons=list(reasons),
        source=MatchSource.MACHINE,
    )
    db.session.add(m)
    db.session.commit()
    return m


def _checked(form_html: str) -> str:
    """The value of the radio button checked in a form."""
    return form_html.split(" checked")[0].rsplit('value="', 1)[1].split('"')[0]


def test_the_patent_page_calls_only_listed_candidates_machine_suggestions(client, auth, world):
    """explore2 F4: a hidden weak candidate (below the bar, nowhere on the demand page) was
    called 已在机器推荐中, and the intent form chose the newest demand instead of the one the
    patent suits best."""
    patent = world.patents["silicon"]
    suits = make_demand(world.ent, title="硅碳负极循环寿命", description="硅碳负极体积膨胀")
    weak = make_demand(world.ent, title="涂层面料在线监测", description="涂层面料生产在线监测")
    newest = make_demand(world.ent, title="储能热失控预警", description="锂电池储能热失控")
    _machine(suits, patent, 0.2, MatchTier.MEDIUM)
    _machine(weak, patent, 0.01, MatchTier.WEAK)
    auth.login(world.enterprise)
    html = client.get(f"/pool/patents/{patent.id}").get_data(as_text=True)
    pairs = html.split('class="intent-pairs"')[1].split("</ul>")[0]
    listed = pairs.split(f'data-demand-id="{suits.id}"')[1].split("</li>")[0]
    hidden = pairs.split(f'data-demand-id="{weak.id}"')[1].split("</li>")[0]
    assert "已在机器推荐中" in listed
    assert "已在机器推荐中" not in hidden
    assert "仅为弱候选" in hidden and "需求页默认不展示" in hidden
    assert f'data-demand-id="{newest.id}"' not in pairs
    assert _checked(html.split('id="intent-form"')[1]) == str(suits.id)
    # what the demand pages show agrees: listed on the first, only folded on the second
    shown = _section(
        client.get(f"/demands/{suits.id}").get_data(as_text=True), "demand-suggestions"
    )
    assert 'class="suggestion"' in shown and patent.title in shown
    folded = _section(
        client.get(f"/demands/{weak.id}").get_data(as_text=True), "demand-suggestions"
    )
    assert 'class="suggestion"' not in folded and "data-weak" in folded


def test_without_a_candidate_the_intent_form_still_starts_on_the_newest_demand(client, auth, world):
    older = make_demand(world.ent, title="旧需求", description="硅碳负极")
    newest = make_demand(world.ent, title="新需求", description="硅碳负极")
    auth.login(world.enterprise)
    html = client.get(f"/pool/patents/{world.patents['battery'].id}").get_data(as_text=True)
    assert _checked(html.split('id="intent-form"')[1]) == str(newest.id) != str(older.id)


def test_weak_and_keywordless_candidates_are_worded_without_contradiction(client, auth, world):
    """explore2 F6: the weak list said "这些专利与您的需求有共同的词" above cards saying
    "无明显共同关键词", and a 中 card without a keyword did not say what it rests on."""
    demand = make_demand(world.ent, title="城市污水处理厂污泥减量", description="污泥减量化方法")
    _machine(demand, world.patents["water"], 0.1, MatchTier.MEDIUM, reasons=())
    _machine(demand, world.patents["irrigation"], 0.02, MatchTier.WEAK, reasons=())
    _machine(demand, world.patents["battery"], 0.03, MatchTier.WEAK, reasons=("处理",))
    auth.login(world.enterprise)
    html = _section(
        client.get(f"/demands/{demand.id}").get_data(as_text=True), "demand-suggestions"
    )
    medium = html.split(f'data-patent-id="{world.patents["water"].id}"')[1].split("</article>")[0]
    assert "无明显共同关键词" in medium and "强度仅依据整体文字的相近程度" in medium
    weak = html.split("data-weak")[1].split("</details>")[0]
    intro = weak.split('class="help"')[1].split("</p>")[0]
    assert "有共同的词" not in intro and "没有明显的共同关键词" in intro
    keywordless = weak.split(f'data-patent-id="{world.patents["irrigation"].id}"')[1]
    assert "无明显共同关键词（强度仅依据整体文字的相近程度" in keywordless.split("</article>")[0]
    # every weak card with a keyword: the intro does not speak of ones without
    demand = abstaining_demand(world, {world.patents["silicon"]: 0.04})
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    intro = html.split("data-weak")[1].split('class="help"')[1].split("</p>")[0]
    assert "有些相近" in intro and "共同关键词" not in intro


def test_a_strength_near_the_bar_is_never_rounded_onto_its_other_side(
    client, auth, world, app, monkeypatch
):
    """explore2 F7: a stored 0.0758 read "约有 8% 的可能…（低于 8% 为“弱”）"."""
    monkeypatch.setitem(app.config, "REVIVE_MATCH_BAR", 0.08)
    monkeypatch.setitem(app.config, "REVIVE_MATCH_STRONG", 0.3)
    demand = abstaining_demand(world, {world.patents["silicon"]: 0.0758})
    auth.login(world.enterprise)
    weak = client.get(f"/demands/{demand.id}").get_data(as_text=True).split("data-weak")[1]
    assert "约 7.6% 确实切合需求" in weak and "“弱”：模型估计低于 8%" in weak
    assert "约 8% 确实" not in weak
    auth.logout()
    auth.login(world.officer)
    staff = _section(client.get(f"/demands/{demand.id}").get_data(as_text=True), "demand-matches")
    assert "弱 7.6%" in staff and "弱 8%" not in staff


def test_a_push_without_a_note_shows_no_empty_note_and_the_grade_is_labelled(client, auth, world):
    """explore2 F13: "推荐说明： （未填写）" was shown to the customer; F12: the inventor's
    self-assessment stars were unlabelled on the deal page; F10: the budget shows with
    thousands separators."""
    from decimal import Decimal

    demand = make_demand(world.ent, **SILICON_DEMAND, budget=Decimal("123456.50"))
    m = manual.submit_intent(
        world.enterprise, world.patents["silicon"].id, "请安排交流", demand_id=demand.id
    )
    review.decide(m.id, "accepted", world.officer)
    deal = db.session.scalar(sa.select(Deal).where(Deal.match_id == m.id))
    assert not deal.note
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    pushed = _section(html, "demand-pushed")
    assert world.patents["silicon"].title in pushed
    assert "推荐说明" not in pushed and "未填写" not in pushed
    assert "123,456.50 万元" in html
    deal_page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "预算 123,456.50 万元" in deal_page
    # the self-rating is private to the university side and staff (a security review)
    assert "发明人自评" not in deal_page
    auth.logout()
    auth.login(world.officer)
    deal_page = client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "发明人自评" in deal_page.split('class="stars"')[0].rsplit("·", 1)[1]


def test_an_open_licence_the_university_accepts_but_has_not_declared(client, auth, world):
    """explore2 F14: "可接受的转化方式 …开放许可" beside "开放许可 未声明开放许可"."""
    auth.login(world.enterprise)
    silicon = world.patents["silicon"]  # license, open_license; no declaration
    page = client.get(f"/pool/patents/{silicon.id}").get_data(as_text=True)
    licence = page.split('id="patent-licence"')[1].split("</dd>")[0]
    assert "愿意开放许可，尚未发布开放许可声明" in licence and "未声明开放许可" not in licence
    listing = client.get("/pool/").get_data(as_text=True)
    item = listing.split(f'data-patent-id="{silicon.id}"')[1].split("</li>")[0]
    assert "愿意开放许可，尚未发布开放许可声明" in item and "未声明开放许可" not in item
    battery = listing.split(f'data-patent-id="{world.patents["battery"].id}"')[1]
    assert "未声明开放许可" in battery.split("</li>")[0]  # 转让 only: nothing to declare


def test_an_unmet_demand_gives_its_advice_once(client, auth, world, enqueued):
    """explore2 F18: "暂无合适专利" and the same advice appeared twice on one page."""
    demand = make_demand(world.ent, **SILICON_DEMAND)
    match_now(enqueued, demand.id)
    for m in db.session.scalars(sa.select(Match).where(Match.demand_id == demand.id)).all():
        decide_match(m.id, "rejected", world.officer, reason_code="other", comment="内部")
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "data-unmet" in html
    assert html.count(f'href="/demands/{demand.id}/edit">补充技术细节') == 1
    assert html.count("暂无合适专利") == 1
    # a clear technical request is not told patents cannot find it people or marketing, nor to
    # avoid product codes it does not use (an SME trial read both as not being understood)
    assert "data-not-technology" not in html and "产品型号" not in html
    # explore2 F8: a posting about staff or marketing hears that patents will not help
    demand.description += "。人才：光伏材料方面的专家1名"
    db.session.commit()
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert "data-not-technology" in html and "人才、营销方案" in html


def test_a_short_posting_is_told_what_its_strength_was_seen_to_mean(client, auth, world):
    """A tester posted only 「永磁同步电机」 and read 「这件专利很可能正是您要找的技术（可能性超过
    95%）」 under 「您的需求描述较短」. Out of fold on the real postings, the short postings' pairs
    rated that high were relevant well under it (about 70 % then, 90 % now): the page says that, for short
    postings apart, and asks for detail (engine/reliability.py)."""
    from revive.matching.models import DemandReading, Match, MatchSource, MatchTier
    from tests.matching.helpers import make_demand

    demand = make_demand(world.ent, title="永磁同步电机", description="永磁同步电机")
    db.session.add(DemandReading(demand_id=demand.id, is_thin=True, content_words=1))
    db.session.add(
        Match(
            demand_id=demand.id,
            patent_id=world.patents["silicon"].id,
            score=0.4,
            strength=0.9946,
            tier=MatchTier.STRONG,
            reasons=["永磁同步电机"],
            source=MatchSource.MACHINE,
        )
    )
    db.session.commit()
    auth.login(world.enterprise)
    html = _section(
        client.get(f"/demands/{demand.id}").get_data(as_text=True), "demand-suggestions"
    )
    from revive.matching.strength import SEEN_GAP

    seen = engine.shipped_reliability().observed(0.9946, True)
    # measured well under the strength (0.90 for session 41's model, 0.7 before): the page
    # states the measured share
    assert 0.5 < seen < 0.9946 - SEEN_GAP
    assert f"<span data-seen>约 {round(seen * 100)}%</span> 确实切合需求" in html
    assert "需求描述较短的一类" in html and "补充技术细节后判断更准" in html
    assert "95%" not in html and "99%" not in html


def test_a_posting_in_english_is_asked_for_chinese(client, auth, world):
    """A tester's English posting got 暂无 and the advice to add detail; the same text in
    Chinese found its patent at 强. Matching reads Chinese: the page says so."""
    english = make_demand(
        world.ent,
        title="Lithium battery thermal runaway early warning",
        description="We need an early warning method for thermal runaway of lithium batteries.",
    )
    mixed = make_demand(
        world.ent,
        title="锂电池热失控预警",
        description="需要一种锂电池热失控的早期预警方法，可监测 CO2 和 H2 等特征气体（BMS 集成）。",
    )
    auth.login(world.enterprise)
    html = client.get(f"/demands/{english.id}").get_data(as_text=True)
    assert "data-foreign" in html and "改用中文描述" in html
    html = client.get(f"/demands/{mixed.id}").get_data(as_text=True)
    assert "data-foreign" not in html


def test_the_page_says_when_more_are_under_review_than_it_lists(client, auth, world):
    from revive.inventory.models import EntryStatus, Willingness
    from revive.matching.models import Match, MatchSource, MatchTier
    from tests.factories import make_patent

    demand = make_demand(world.ent, title="电池回收", description="废旧锂电池回收")
    for _ in range(12):
        patent = make_patent(
            world.uni, status=EntryStatus.ENTERED, transfer_willingness=Willingness.WILLING
        )
        db.session.add(
            Match(
                demand_id=demand.id,
                patent_id=patent.id,
                score=0.3,
                strength=0.5,
                tier=MatchTier.STRONG,
                source=MatchSource.MACHINE,
            )
        )
    db.session.commit()
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert 'data-count="suggested">10<' in html and 'data-count="under_review">12<' in html
    assert "至多列出 10 件" in html and 'data-count="unlisted">2<' in html


def test_an_unmet_demand_puts_what_to_do_above_its_empty_fields(client, auth, world):
    """UX review (e-post-zero-m): eleven rows of 「—」 came before the match status, pushing
    暂无合适专利 below the fold on a phone. The status comes first; empty optional fields are
    named in one line instead of one 「—」 row each."""
    demand = abstaining_demand(world, {world.patents["silicon"]: 0.04})
    auth.login(world.enterprise)
    html = client.get(f"/demands/{demand.id}").get_data(as_text=True)
    assert html.count('id="demand-progress"') == 1 and html.count('id="demand-suggestions"') == 1
    assert html.index("data-unmet") < html.index('id="demand-details"')
    assert html.index('id="demand-details"') < html.index('id="demand-suggestions"')
    details = _section(html, "demand-details")
    assert "<dd>—</dd>" not in details
    missing = details.split("data-missing-fields>")[1].split("</p>")[0]
    assert "未填写：" in missing and "预算" in missing and "截止日期" in missing


def test_weak_candidates_are_visibly_subdued():
    """UX review (e-weak-d.p1): weak candidates looked like strong ones but for a tiny 弱 tag;
    the stylesheet greys them out (muted border, background and title)."""
    css = (Path(__file__).parents[2] / "revive/static/css/app.css").read_text("utf-8")
    rule = css.split('.suggestion[data-tier="weak"] {')[1].split("}")[0]
    assert "background" in rule and "border-left" in rule
