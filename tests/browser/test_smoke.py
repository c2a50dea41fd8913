"""Browser smoke: the login wall, and pages that run their scripts under the CSP without
console errors."""

from __future__ import annotations

import pytest

from revive.accounts.models import OrgKind, Role
from revive.app import SECURITY_HEADERS
from revive.inventory.models import EntryStatus
from tests.browser.helpers import expect
from tests.factories import make_org, make_patent, make_user

pytestmark = pytest.mark.browser


def test_anonymous_visitor_is_sent_to_the_login_form(people):
    visitor = people("anonymous")

    visitor.goto("/demands/")

    assert visitor.path() == "/login?next=%2Fdemands%2F"
    assert visitor.page.get_by_role("heading", name="登录 Revive").is_visible()
    assert visitor.page.get_by_text("请先登录").is_visible()
    visitor.shot("login-wall")


def test_dashboard_draws_its_charts_without_console_errors_or_csp_violations(people, seed):
    """Chart.js (vendored, /static) reads the chart data from JSON blocks; the ``people``
    fixture fails the test on any console error, uncaught error or CSP violation."""
    university = make_org("烟测大学")
    for status in (EntryStatus.ENTERED, EntryStatus.ENTERED, EntryStatus.PENDING_SCHOOL):
        make_patent(university, status=status)
    officer = make_user(Role.OFFICER, email="smoke-officer@example.cn")
    person = people("officer")

    person.login(officer.email)

    assert person.path() == "/"
    assert person.page.get_by_role("heading", name="数据看板").is_visible()
    canvases = person.page.locator("canvas[data-chart]")
    assert canvases.count() > 0
    drawn = person.page.evaluate(
        "() => window.Chart ? Object.keys(window.Chart.instances).length : 0"
    )
    assert drawn == canvases.count()
    person.shot("dashboard")

    person.goto("/demands/")
    assert person.page.get_by_role("heading", name="企业技术需求", exact=True).is_visible()
    person.shot("demands")


def test_the_harness_catches_a_csp_violation(people, live):
    """The console watcher is what the other tests rely on: an inline script under the app's
    CSP (served here from the live origin) must be reported, not pass silently."""
    person = people("probe")
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    person.page.route(
        f"{live.url}/csp-probe",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp},
            body="<!doctype html><title>probe</title><script>document.title = 'ran'</script>",
        ),
    )

    person.goto("/csp-probe")

    assert person.page.title() == "probe"  # the inline script was blocked
    assert any("script-src" in p for p in person.problems), person.problems
    person.problems.clear()  # seen; the fixture must not fail this test for it


def test_a_form_refused_before_its_view_comes_back_as_typed(people, seed):
    """A tester's demand with a NUL byte was answered by an error page: 回到首页 only, and the
    typed demand was gone. After a form was sent, 返回修改 goes back in history, which brings
    the form back as typed."""
    company = make_org("回退测试有限公司", kind=OrgKind.ENTERPRISE)
    poster = make_user(Role.ENTERPRISE, company, email="back@example.cn")
    person = people("enterprise")
    person.login(poster.email)
    page = person.page
    person.goto("/demands/new")
    page.get_by_label("需求名称", exact=True).fill("高温烟气余热回收")
    page.get_by_label("需求描述", exact=True).fill("需要一种回收\u0000烟气余热的装置")
    page.get_by_role("button", name="发布", exact=True).click()
    page.wait_for_load_state()
    back = page.locator("a[data-history-back]")
    if not back.is_visible():  # the browser dropped the NUL itself: nothing was refused
        pytest.skip("this browser strips NUL from typed text")
    assert "空字符" in page.content()
    person.problems.clear()  # the refused POST's 400 is reported on the console, as it should be
    back.click()
    page.wait_for_url("**/demands/new")
    expect(page.get_by_label("需求名称", exact=True)).to_have_value("高温烟气余热回收")


def test_ticking_the_whole_page_enables_the_batch_review_buttons(people, seed):
    """A tester ticked 全选本页 on the review page: every row was ticked, yet the count read
    「未选择」 and every batch button stayed disabled."""
    university = make_org("全选测试大学")
    for i in range(3):
        make_patent(university, status=EntryStatus.PENDING_SCHOOL, title=f"待审专利{i}")
    admin = make_user(Role.UNIVERSITY_ADMIN, university, email="checkall@example.edu.cn")
    person = people("university")
    person.login(admin.email)
    page = person.page
    person.goto("/patents/review")
    page.get_by_label("全选本页").check()
    expect(page.locator("#selected-count")).to_have_text("（已选 3 条）")
    buttons = page.locator("#batch-form button[name=action]")
    assert buttons.count() > 0
    for i in range(buttons.count()):
        expect(buttons.nth(i)).to_be_enabled()
