"""The enterprise's side of the loop in a real browser, with matching done by a real worker:

an enterprise posts a demand through the form → its demand page shows the matching progress
and reloads itself into the machine's suggestions (labelled as not yet reviewed) → it opens
the strongest one's public page and asks for an introduction with a message (申请对接) → the
officer finds the intent in the review queue and pushes it with a recommendation note → the
enterprise sees the note on its demand page and in its inbox → the university answers
愿意对接 on the deal page → the enterprise sees the answer → a second enterprise finds the
same patent by searching the pool in plain words.

Only the cast is seeded (tests/browser/helpers.seed_cast); every step is a person clicking.
Screenshots: /tmp/shots/<test name>/.
"""

from __future__ import annotations

import re

import pytest

from revive.accounts.models import OrgKind, Role
from tests.browser.helpers import (
    ANSWER,
    DEMAND,
    MATCH_TIMEOUT_MS,
    OTHERS,
    expect,
    menu_link,
    seed_cast,
)
from tests.browser.test_deal_flow import wait_until_matching_idle
from tests.factories import make_org, make_user

pytestmark = pytest.mark.browser

INTENT = "我们想了解该负极材料的中试情况和许可条件，希望与发明人团队交流。"
NOTE = "该团队已有中试线，循环寿命指标与贵公司要求接近，建议尽快安排交流。"
ANSWER_TEXT = "可安排发明人团队下周到企业交流，联系人张教授。"


def test_enterprise_finds_asks_and_hears_back(people, seed, live):
    cast = seed_cast("ent")
    second = make_org("草原储能科技有限公司", kind=OrgKind.ENTERPRISE, region="内蒙古自治区")
    second_email = make_user(Role.ENTERPRISE, second, email="cto@caoyuan.cn", name="储能公司").email
    patent_title = ANSWER["title"]

    # -- the enterprise posts a demand
    enterprise = people("enterprise")
    enterprise.login(cast.enterprise_email)
    page = enterprise.page
    menu_link(enterprise, "我的需求").click()
    page.get_by_role("link", name="发布需求").click()
    page.get_by_label("需求名称", exact=True).fill(DEMAND["title"])
    page.get_by_label("需求描述", exact=True).fill(DEMAND["description"])
    page.get_by_label("量化技术指标", exact=True).fill(DEMAND["target_specs"])
    page.get_by_label("普通许可", exact=True).check()
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.get_by_role("heading", name=DEMAND["title"], level=1)).to_be_visible()
    demand_path = enterprise.path()
    assert re.fullmatch(r"/demands/\d+", demand_path), demand_path
    progress = page.locator("#demand-progress")
    expect(progress).to_be_visible()
    enterprise.shot("demand-posted")

    # -- the page polls the run and reloads into the suggestions (first run: index build too)
    suggestions = page.locator("#demand-suggestions")
    expect(suggestions).to_contain_text("机器推荐，尚未经技术经理人审核")
    first = suggestions.locator("article.suggestion").first
    expect(first).to_contain_text(patent_title, timeout=MATCH_TIMEOUT_MS)
    expect(first).to_contain_text(
        "确实切合需求"
    )  # its strength is past where the model is calibrated
    expect(first.locator("[data-tier]").first).to_have_attribute(
        "data-tier", re.compile("strong|medium")
    )
    for other in OTHERS:  # unrelated patents are not suggested
        expect(suggestions.get_by_text(other["title"])).to_have_count(0)
    expect(page.locator("[data-run-progress][data-active='1']")).to_have_count(0)
    enterprise.shot("suggestions")

    # -- it opens the patent's public page and asks for an introduction
    first.get_by_role("link", name=patent_title).click()
    expect(page.get_by_role("heading", name=patent_title, level=1)).to_be_visible()
    assert enterprise.path().startswith("/pool/patents/")
    patent_path = enterprise.path()
    expect(page.locator("#patent-team")).to_be_visible()
    form = page.locator("#intent-form")
    expect(form.get_by_label(DEMAND["title"])).to_be_checked()
    form.get_by_label(re.compile("^对接说明")).fill(INTENT)
    enterprise.shot("intent-form")
    form.get_by_role("button", name="申请对接").click()
    expect(page.get_by_text("已提交对接申请")).to_be_visible()
    assert enterprise.path() == f"{demand_path}#demand-intents"
    intents = page.locator("#demand-intents")
    expect(intents.get_by_role("row").filter(has_text=patent_title)).to_contain_text("审核中")
    enterprise.shot("intent-sent")

    # -- the officer sees the intent in the queue and pushes it with a note
    officer = people("officer")
    officer.login(cast.officer_email)
    wait_until_matching_idle(officer)
    menu_link(officer, "匹配审核").click()
    group = officer.page.locator("section.review-demand").filter(
        has=officer.page.get_by_role("heading", name=DEMAND["title"])
    )
    expect(group).to_contain_text("企业申请对接 1 条")
    row = group.get_by_role("row").filter(has_text=patent_title)
    expect(row).to_contain_text("企业申请对接")
    expect(row).to_contain_text(INTENT)
    officer.shot("queue-intent")
    row.get_by_text("附说明采纳…").click()
    row.get_by_label("推荐说明（随推送同时发给企业和高校，请用双方都适用的措辞）").fill(NOTE)
    row.get_by_role("button", name="采纳并推送").click()
    expect(officer.page.get_by_text("已采纳并推送给企业和高校")).to_be_visible()
    officer.shot("pushed")

    # -- the enterprise sees the note on its demand page and in its inbox
    enterprise.goto(demand_path)
    pushed = page.locator("#demand-pushed")
    expect(pushed).to_contain_text(patent_title)
    expect(pushed.locator("[data-note]")).to_contain_text(NOTE)
    expect(intents.get_by_role("row").filter(has_text=patent_title)).to_contain_text("已推送")
    enterprise.shot("note-received")
    page.get_by_role("link", name=re.compile(r"^消息")).click()
    notice = page.get_by_role(
        "button", name=f"为您的需求“{DEMAND['title']}”推荐了专利：{patent_title}"
    )
    expect(notice).to_be_visible()
    expect(page.locator("main")).to_contain_text(NOTE)
    enterprise.shot("inbox")

    # -- the university answers on the deal page
    university = people("university")
    university.login(cast.university_email)
    university.page.get_by_role("link", name=re.compile(r"^消息")).click()
    university.page.get_by_role(
        "button", name=f"企业需求“{DEMAND['title']}”匹配到贵校专利：{patent_title}"
    ).click()
    expect(university.page.locator("#deal-note")).to_contain_text(NOTE)
    expect(university.page.locator("#deal-intent")).to_contain_text(INTENT)
    respond = university.page.locator("#respond")
    respond.get_by_label("说明").fill(ANSWER_TEXT)
    respond.get_by_role("button", name="愿意对接").click()
    expect(university.page.locator("#deal-response")).to_contain_text("愿意对接")
    university.shot("answered")

    enterprise.goto(demand_path)
    progress_row = page.locator("#demand-deals").get_by_role("row").filter(has_text=patent_title)
    expect(progress_row).to_contain_text("愿意对接")
    enterprise.shot("answer-seen")

    # -- a second enterprise finds the same patent by searching the pool
    other = people("second-enterprise")
    other.login(second_email)
    menu_link(other, "专利库").click()
    other.page.get_by_label("想解决什么问题").fill("硅碳负极 体积膨胀 循环寿命")
    other.page.get_by_role("button", name="搜索").click()
    results = other.page.locator("#pool-results")
    expect(results).to_contain_text("按相关程度排序")
    hit = results.locator("li.pool-item").first
    expect(hit).to_contain_text(patent_title)
    other.shot("search")
    hit.get_by_role("link", name=patent_title).click()
    assert other.path() == patent_path
    expect(other.page.locator("#intent-form")).to_be_visible()
    expect(other.page.get_by_text(DEMAND["title"])).to_have_count(0)  # not its demand
    other.shot("public-page")
