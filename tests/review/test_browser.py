"""The review queue in a real browser (Chromium, the app's CSP): review.js's tick-all and
counter, the client-side check on bulk reject, a bulk reject and a single accept with their
flash messages, and the stacked chart of the statistics page. Uses the harness of
tests/browser (a live server + worker; its fixtures are imported in conftest.py)."""

from __future__ import annotations

import pytest

from revive.accounts.models import Role
from tests.factories import make_college, make_org, make_user
from tests.matching.helpers import entered, make_demand, make_enterprise
from tests.review.helpers import make_match

pytestmark = pytest.mark.browser


def test_officer_works_through_the_queue(people, seed):
    uni = make_org("浏览器审核大学")
    college = make_college(uni, "浏览器材料学院")
    ent = make_enterprise("浏览器审核企业")
    battery = make_demand(ent, title="浏览器电池需求", industry="新能源", expected_trl=6)
    water = make_demand(ent, title="浏览器污水需求", industry="环保")
    p1 = entered(uni, college=college, title="浏览器正极专利", trl=4)
    p2 = entered(uni, college=college, title="浏览器隔膜专利", trl=7)
    p3 = entered(uni, college=college, title="浏览器膜反应器专利")
    m1, m2 = make_match(battery, p1, 0.61), make_match(battery, p2, 0.42)
    m3 = make_match(water, p3, 0.5)
    m4 = make_match(water, p1, 0.3)
    officer = make_user(Role.OFFICER, email="review-officer@example.cn")
    person = people("officer")
    person.login(officer.email)

    person.goto("/review/")
    page = person.page
    assert page.get_by_role("heading", name="匹配审核", exact=True).is_visible()
    group = page.locator(f"#demand-{battery.id}")
    assert group.get_by_text("低于期望").count() == 1  # TRL 4 < 6; TRL 7 is not flagged
    group.get_by_label("勾选该需求的全部候选").check()
    assert page.locator("#review-selected-count").inner_text() == "（已勾选 2 条）"
    person.shot("ticked")

    page.get_by_role("button", name="批量否决").click()  # no reason chosen
    assert page.locator("#bulk-error").inner_text() == "否决时请选择原因"
    assert person.path() == "/review/"
    page.get_by_label("否决原因（批量否决时必选）").select_option("too_early")
    page.get_by_role("button", name="批量否决").click()  # confirm dialog: accepted
    page.wait_for_load_state()
    assert page.get_by_text("已否决 2 条候选匹配。").is_visible()
    assert page.locator(f'tr[data-match-id="{m1.id}"]').count() == 0
    assert page.locator(f'tr[data-match-id="{m2.id}"]').count() == 0
    person.shot("bulk-rejected")

    row = page.locator(f'tr[data-match-id="{m4.id}"]')
    row.get_by_text("否决…").click()  # opens the <details> with the reason form
    row.get_by_label("原因", exact=True).select_option("other")
    row.get_by_label("说明（原因为“其他”时必填）").fill("企业已有成熟供应商")
    person.shot("single-reject-form")
    row.get_by_role("button", name="确认否决").click()
    page.wait_for_load_state()
    assert page.get_by_text("已否决（其他）").is_visible()

    row = page.locator(f'tr[data-match-id="{m3.id}"]')
    row.get_by_role("button", name="采纳").click()
    page.wait_for_load_state()
    assert page.get_by_text("已采纳并推送给企业和高校").is_visible()
    person.shot("accepted")

    person.goto("/review/rejections")
    canvases = page.locator("canvas[data-chart]")
    assert canvases.count() == 1
    drawn = page.evaluate("() => window.Chart ? Object.keys(window.Chart.instances).length : 0")
    assert drawn == 1
    assert page.locator("#table-universities").get_by_text("浏览器审核大学").is_visible()
    person.shot("rejections")
