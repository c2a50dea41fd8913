"""A first impression that reads true, on a 1366×768 screen (the common office laptop):

- the officer's and the school admin's main menu is one row (every top-level item at the same
  offsetTop, nothing spilling out of the bar), its groups open as drop-downs and close again;
- the per-college table is not cut off on the right: it fits the page, or it sits in a scroll
  container that itself ends inside the window; the page never scrolls sideways.
"""

from __future__ import annotations

import pytest

from revive.accounts.models import Role
from revive.inventory.models import EntryStatus, Willingness
from tests.browser.helpers import expect
from tests.factories import make_college, make_org, make_patent, make_user

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1366, 768
COLLEGES = ("机械与电气工程学院", "材料科学与工程学院", "化学与环境工程学院", "信息科学与技术学院")
STATUSES = (
    EntryStatus.ENTERED,
    EntryStatus.PENDING_COLLEGE,
    EntryStatus.PENDING_SCHOOL,
    EntryStatus.RETURNED,
)

NAV_ROWS = """() => {
  const nav = document.querySelector('nav.mainnav');
  const items = Array.from(nav.children);
  const bar = document.querySelector('header.topbar').getBoundingClientRect();
  return {
    tops: [...new Set(items.map(e => e.offsetTop))],
    labels: items.map(e => (e.querySelector('summary') || e).textContent.trim()),
    overflow: nav.scrollWidth - nav.clientWidth,
    barHeight: bar.height,
    userboxTop: document.querySelector('.userbox').getBoundingClientRect().top - bar.top,
  };
}"""

TABLE_FIT = """(id) => {
  const table = document.getElementById(id);
  const wrap = table.closest('.table-wrap');
  const style = wrap ? getComputedStyle(wrap) : null;
  return {
    tableRight: table.getBoundingClientRect().right,
    wrapRight: wrap ? wrap.getBoundingClientRect().right : null,
    scrolls: !!wrap && ['auto', 'scroll'].includes(style.overflowX),
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
  };
}"""


@pytest.fixture
def campus(seed):
    uni = make_org("华北理工示范大学（呼和浩特校区）")
    colleges = [make_college(uni, name) for name in COLLEGES]
    for i in range(24):
        make_patent(uni, college=colleges[i % 4], status=STATUSES[i % len(STATUSES)])
    officer = make_user(Role.OFFICER, email="layout-officer@example.cn", name="白书航")
    admin = make_user(
        Role.UNIVERSITY_ADMIN, organization=uni, email="layout-admin@example.cn", name="董雅琴"
    )
    return {"uni": uni, "officer": officer, "admin": admin}


def _at_1366(people, label):
    person = people(label)
    person.page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    return person


def _assert_one_row(person):
    nav = person.page.evaluate(NAV_ROWS)
    assert len(nav["tops"]) == 1, f"the menu wraps: {nav}"
    assert nav["overflow"] <= 0, f"menu items spill out of the bar: {nav}"
    assert nav["barHeight"] < 80 and nav["userboxTop"] < 40, nav
    return nav["labels"]


def _assert_not_cut_off(person, table_id):
    expect(person.page.locator(f"#{table_id}")).to_be_visible()
    fit = person.page.evaluate(TABLE_FIT, table_id)
    fits = fit["tableRight"] <= fit["viewport"]
    scrolls = fit["scrolls"] and fit["wrapRight"] <= fit["viewport"]
    assert fits or scrolls, f"#{table_id} is cut off on the right: {fit}"
    assert fit["pageWidth"] <= fit["viewport"], f"the page scrolls sideways: {fit}"


def test_the_school_admins_home_fits_1366(people, campus):
    admin = _at_1366(people, "school-admin")
    admin.login(campus["admin"].email)
    labels = _assert_one_row(admin)
    assert labels[0] == "数据看板" and any(label.startswith("专利") for label in labels)
    _assert_not_cut_off(admin, "table-breakdown")  # 各学院盘点进度
    admin.shot("home-1366")

    # The 专利 group opens as a drop-down with the review queue and its count, and closes again.
    group = admin.page.locator(
        "details.navgroup", has=admin.page.locator("summary", has_text="专利")
    )
    group.locator("summary").click()
    queue = group.get_by_role("link", name="待我审核")
    expect(queue).to_be_visible()
    # 6 waiting for school review, and 6 for college review in colleges that have no college
    # admin (the school reviews those)
    assert "12" in queue.inner_text()
    admin.shot("menu-open")
    admin.page.mouse.click(WIDTH // 2, HEIGHT - 100)
    expect(queue).to_be_hidden()
    group.locator("summary").click()
    admin.page.keyboard.press("Escape")
    expect(queue).to_be_hidden()


def test_the_officers_home_and_per_college_table_fit_1366(people, campus):
    officer = _at_1366(people, "officer")
    officer.login(campus["officer"].email)
    _assert_one_row(officer)
    for table in officer.page.locator(".table-wrap table").all():
        _assert_not_cut_off(officer, table.get_attribute("id"))
    officer.shot("home-1366")

    officer.goto(f"/dashboard/breakdown?by=college&university={campus['uni'].id}")
    _assert_one_row(officer)
    _assert_not_cut_off(officer, "table-by-college")  # 12 columns: five rates
    officer.shot("by-college-1366")


PAGE_FIT = """() => ({
  pageWidth: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  keyword: (() => {
    const q = document.querySelector('.filters .grow');
    return q ? q.getBoundingClientRect().height : 0;
  })(),
})"""


def test_the_patent_list_and_its_menus_fit_a_320_px_phone(people, campus):
    """An accessibility review: at 320 px the list's date ranges made the whole page scroll
    sideways (364 px), the keyword field was 240 px tall, and a menu hanging from a group near
    the right edge ran off the screen."""
    admin = people("school-admin-phone")
    admin.page.set_viewport_size({"width": 320, "height": 700})
    admin.login(campus["admin"].email)
    admin.goto("/patents/")
    fit = admin.page.evaluate(PAGE_FIT)
    assert fit["pageWidth"] <= fit["viewport"], f"the page scrolls sideways: {fit}"
    assert fit["keyword"] < 100, fit
    admin.page.get_by_role("button", name="菜单").click()  # the menu folds behind it
    for group in admin.page.locator("details.navgroup").all():
        group.locator("summary").click()
        admin.page.wait_for_timeout(100)  # the toggle event (app.js places the menu) is async
        box = group.locator(".navmenu").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320, box
        admin.page.keyboard.press("Escape")
    admin.shot("patents-320")


def test_the_review_queue_reads_as_cards_on_a_phone(people, seed):
    """An accessibility review: on a 375 px phone each candidate was a 751 px table row whose
    decision controls were 68 px wide, the patent's title scrolled out of view."""
    from tests.matching.helpers import entered, make_demand
    from tests.review.helpers import make_match

    officer = make_user(Role.OFFICER, email="phone-officer@example.cn")
    demand = make_demand(title="锂电池正极材料回收")
    for i in range(2):
        make_match(demand, entered(title=f"一种锂电池正极材料的回收方法{i}"), 0.5 - i / 10)
    person = people("officer-phone")
    person.page.set_viewport_size({"width": 375, "height": 800})
    person.login(officer.email)
    person.goto("/review/")
    fit = person.page.evaluate(
        """() => {
          const row = document.querySelector('tr[data-match-id]');
          const title = row.querySelector('td[data-label="专利"] a').getBoundingClientRect();
          const reject = row.querySelector('details.reject');
          reject.open = true;
          const select = reject.querySelector('select').getBoundingClientRect();
          return {
            pageWidth: document.documentElement.scrollWidth,
            rowWidth: row.getBoundingClientRect().width,
            titleRight: title.right,
            selectWidth: select.width,
            selectHeight: select.height,
          };
        }"""
    )
    assert fit["pageWidth"] <= 375 and fit["rowWidth"] <= 375, fit
    assert fit["titleRight"] <= 375, fit  # the title in view beside its decision
    assert fit["selectWidth"] >= 250 and fit["selectHeight"] >= 44, fit
    person.shot("review-375")


USERBOX = """() => Array.from(document.querySelectorAll('.topbar a, .topbar button, .topbar summary'))
  .filter(e => e.offsetParent !== null && !e.matches('.brand')).map(e => {
  const r = e.getBoundingClientRect();
  // the lines its words sit on (a badge beside a word sits a few px lower: the same line)
  const tops = [];
  const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const box of range.getClientRects()) {
      if (box.width && !tops.some(top => Math.abs(top - box.top) < 8)) tops.push(box.top);
    }
  }
  return {text: e.textContent.trim(), lines: tops.length, width: r.width, right: r.right};
}).sort((a, b) => a.right - b.right)"""


def test_the_header_links_keep_their_words_on_a_375_px_phone(people, seed):
    """An SME tester's phone (375 px): a long name · role · company squeezed 消息 and 退出 to a
    character per line."""
    from tests.factories import make_org

    company = make_org(
        "内蒙古自治区某某农业科技发展股份有限公司（呼和浩特分公司）", kind="enterprise"
    )
    user = make_user(Role.ENTERPRISE, organization=company, name="欧阳明月", email="phone@e.cn")
    person = people("enterprise-375")
    person.page.set_viewport_size({"width": 375, "height": 700})
    person.login(user.email)
    person.goto("/")
    # The menu folds behind 菜单: the bar is one row of the brand, 消息 and 菜单
    links = person.page.evaluate(USERBOX)
    assert [link["text"][:2] for link in links] == ["消息", "菜单"], links
    for link in links:
        assert link["lines"] <= 1 and link["right"] <= 375, links
    person.shot("header-375")
    toggle = person.page.get_by_role("button", name="菜单")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    person.page.locator(".usermenu > summary").click()
    links = person.page.evaluate(USERBOX)
    assert {link["text"][:2] for link in links} >= {"消息", "账号", "退出"}, links
    for link in links:
        assert link["lines"] <= 1 and link["right"] <= 375, links
    person.shot("menu-open-375")


def test_an_enterprises_demand_list_reads_as_cards_on_a_phone(people, seed):
    """An SME tester at 375 px: titles wrapped every three characters and the 机器推荐 column
    was cut off; each demand is now a card with its fields labelled."""
    from tests.factories import make_org
    from tests.matching.helpers import make_demand

    company = make_org("某某节能科技有限公司", kind="enterprise")
    user = make_user(Role.ENTERPRISE, organization=company, email="list-375@e.cn")
    make_demand(company, title="水刺无纺布生产循环水的高效过滤与水质稳定处理工艺")
    for n in range(14):  # a trial's 15 demands: 2 showed, in a 560 px box inside the page
        make_demand(company, title=f"第 {n + 2} 条技术需求：工业废水深度处理")
    person = people("enterprise-list-375")
    person.page.set_viewport_size({"width": 375, "height": 700})
    person.login(user.email)
    person.goto("/demands/")
    fit = person.page.evaluate(
        """() => {
          const title = document.querySelector('td[data-label="需求"] a').getBoundingClientRect();
          const count = document.querySelector('td[data-label="机器推荐"]').getBoundingClientRect();
          const wrap = document.querySelector('.table-wrap');
          return {titleWidth: title.width, countRight: count.right,
                  page: document.documentElement.scrollWidth, viewport: window.innerWidth,
                  inner: wrap.scrollHeight - wrap.clientHeight};
        }"""
    )
    assert fit["page"] <= fit["viewport"] and fit["countRight"] <= fit["viewport"], fit
    assert fit["titleWidth"] > 200, fit  # the title has the card's width, not a column's
    assert fit["inner"] <= 1, fit  # the cards scroll with the page, not in a box of their own


CARDS_FIT = """() => {
  const rows = Array.from(document.querySelectorAll('main table.cards-on-phone tbody tr'));
  const cells = rows.flatMap(r => Array.from(r.children));
  return {
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    cards: rows.length,
    outside: cells.filter(c => c.getBoundingClientRect().right > window.innerWidth + 0.5)
      .map(c => c.textContent.trim().slice(0, 20)),
    heads: Array.from(document.querySelectorAll('main .cards-on-phone .card-head'))
      .map(c => Math.round(c.getBoundingClientRect().width)),
  };
}"""


def test_lists_read_as_cards_on_a_375_px_phone(people, campus):
    """A design review at 375 px: 成员管理 was 519 px wide; on 专利盘点 and 待我审核 titles
    wrapped every four characters and the status was off the screen; the audit log and 分层推广
    hid their last columns. Each row is now a card as wide as the screen, nothing beyond it."""
    college = campus["uni"].colleges[0]
    make_user(
        Role.INVENTOR,
        organization=campus["uni"],
        college=college,
        name="欧阳建国",
        email="ouyang.jianguo.inventor2@hbsf-campus.example.edu.cn",
    )
    make_user(Role.COLLEGE_ADMIN, organization=campus["uni"], college=college)
    for n in range(2):  # 分层推广: B (no evaluation yet, a high self-grade and TRL)
        make_patent(
            campus["uni"],
            college=college,
            status=EntryStatus.ENTERED,
            title=f"一种高强韧铝锂合金构件的低温时效强化工艺及其在航天薄壁结构件中的应用{n}",
            value_grade=5,
            trl=7,
            transfer_willingness=Willingness.WILLING,
            industry_code="C3130 钢压延加工",
        )
    admin = people("school-admin-375")
    admin.page.set_viewport_size({"width": 375, "height": 812})
    admin.login(campus["admin"].email)
    for path in ("/members", "/patents/", "/patents/review", "/audit/", "/evaluations/promotion"):
        admin.goto(path)
        fit = admin.page.evaluate(CARDS_FIT)
        assert fit["pageWidth"] <= fit["viewport"], (path, fit)
        assert fit["cards"] and not fit["outside"], (path, fit)
        assert all(width > 300 for width in fit["heads"]), (path, fit)  # a card's whole width
        admin.shot(path.strip("/").replace("/", "-") or "home")


STICKY_HEADER = """() => {
  const wrap = document.querySelector('#patent-list').closest('.table-wrap');
  const head = document.querySelector('#patent-list thead th');
  const rows = document.querySelectorAll('#patent-list tbody tr');
  window.scrollTo(0, rows[rows.length - 1].getBoundingClientRect().top + window.scrollY - 300);
  return {
    inner: wrap.scrollHeight - wrap.clientHeight,
    wrapBottom: wrap.getBoundingClientRect().bottom,
    headTop: head.getBoundingClientRect().top,
    scrolled: window.scrollY,
  };
}"""


def test_a_long_list_scrolls_with_the_page_under_a_sticky_header(people, campus):
    """A design review: the list scrolled inside a box of 70 % of the screen's height, so
    专利盘点 showed 9 of 50 rows with the pager right under it, which read as 9 results. The
    page scrolls; the header row stays at the top of the window."""
    admin = people("school-admin-1280")
    admin.page.set_viewport_size({"width": 1280, "height": 800})
    admin.login(campus["admin"].email)
    admin.goto("/patents/")
    fit = admin.page.evaluate(STICKY_HEADER)
    assert fit["inner"] <= 1, fit  # no box scrolling inside the page
    assert fit["scrolled"] > 500 and abs(fit["headTop"]) <= 1, fit
    admin.shot("patents-scrolled")


def test_the_phone_menu_folds_behind_a_button_and_opens_from_the_keyboard(people, campus):
    """A design review: on a phone the menu took three rows (~185 px) on every page. It folds
    behind 菜单 (aria-expanded), opens with the keyboard and closes with Esc; without script
    the menu shows as before."""
    admin = people("school-admin-menu-375")
    admin.page.set_viewport_size({"width": 375, "height": 812})
    admin.login(campus["admin"].email)
    admin.goto("/patents/")
    bar = admin.page.locator("header.topbar")
    nav = admin.page.locator("nav.mainnav")
    toggle = admin.page.get_by_role("button", name="菜单")
    assert bar.bounding_box()["height"] < 80
    expect(nav).to_be_hidden()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    admin.page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    expect(nav.get_by_role("link", name="数据看板")).to_be_visible()
    admin.shot("menu-open")
    admin.page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    assert toggle.get_attribute("aria-expanded") == "false"

    # Without script: no button, the menu in view
    context = admin.page.context.browser.new_context(
        java_script_enabled=False, viewport={"width": 375, "height": 812}
    )
    page = context.new_page()
    page.context.add_cookies(admin.page.context.cookies())
    page.goto(admin.base_url + "/patents/")
    expect(page.locator("nav.mainnav")).to_be_visible()
    expect(page.get_by_role("button", name="菜单")).to_be_hidden()
    context.close()


def test_the_officers_menu_with_new_badges_fits_1280(people, seed):
    """A design review: at 1280 px the officer's 需求 新 4 and 匹配 39 新 1 pushed 审计日志 into
    消息. The menu keeps its width; the person's name (a menu of 账号与安全 and 退出) gives
    way, and nothing overlaps."""
    from revive.db import utcnow
    from tests.matching.helpers import entered, make_demand
    from tests.review.helpers import make_match

    officer = make_user(Role.OFFICER, email="badges-officer@example.cn", name="白书航")
    demands = [make_demand(title=f"新需求{i}") for i in range(4)]
    patents = [entered(title=f"候选专利{i}") for i in range(10)]
    for demand in demands:
        for patent in patents:
            make_match(demand, patent, 0.5)
    make_match(
        demands[0], entered(title="意向专利"), 0.5, intent_at=utcnow(), intent_message="希望对接"
    )
    person = people("officer-1280")
    person.page.set_viewport_size({"width": 1280, "height": 800})
    person.login(officer.email)
    labels = _assert_one_row(person)
    assert any("新 4" in label for label in labels), labels
    assert any(label.startswith("匹配 4") and "新 1" in label for label in labels), labels
    fit = person.page.evaluate(
        """() => ({
          nav: document.querySelector('nav.mainnav').getBoundingClientRect().right,
          inbox: document.querySelector('.inbox-link').getBoundingClientRect().left,
          page: document.documentElement.scrollWidth,
        })"""
    )
    assert fit["nav"] < fit["inbox"] and fit["page"] <= 1280, fit
    person.page.locator(".usermenu > summary").click()
    expect(person.page.get_by_role("link", name="账号与安全")).to_be_visible()
    expect(person.page.get_by_role("button", name="退出")).to_be_visible()
    person.shot("menu-1280")


CHECKBOXES = """() => Array.from(document.querySelectorAll('.filters input[type=checkbox]')).map(box => {
  const label = box.closest('label');
  const range = document.createRange();
  range.selectNodeContents(label);
  const words = Array.from(range.getClientRects()).filter(r => r.left >= box.getBoundingClientRect().right);
  const b = box.getBoundingClientRect();
  const w = words[0];
  return {text: label.textContent.trim(), gap: w.left - b.right,
          dy: Math.abs((w.top + w.bottom) / 2 - (b.top + b.bottom) / 2), width: b.width};
})"""


@pytest.mark.parametrize("width", [1280, 375])
def test_filter_check_boxes_sit_beside_their_words(people, campus, width):
    """A design review: 仅看开放许可 (专利库) and 只看答复逾期 / 只看待高校答复 (供需对接) had their
    box 60–150 px away from their words (the box took a field's width)."""
    company = make_org("某某节能科技有限公司", kind="enterprise")
    buyer = make_user(Role.ENTERPRISE, organization=company, email=f"pool-{width}@e.cn")
    for email, path in ((buyer.email, "/pool/"), (campus["admin"].email, "/deals/")):
        person = people(f"{path.strip('/')}-{width}")
        person.page.set_viewport_size({"width": width, "height": 800})
        person.login(email)
        person.goto(path)
        boxes = person.page.evaluate(CHECKBOXES)
        assert boxes, path
        for box in boxes:
            assert 0 <= box["gap"] <= 12 and box["dy"] <= 4 and box["width"] <= 24, (path, boxes)
        person.shot("filters")


def test_a_patents_field_history_fits_a_375_px_phone(people, campus):
    """A design review: the 修改记录 table (field, old, new) made a patent's page 388 px wide on
    a 375 px phone; its long values now break inside the table."""
    from revive.inventory import services

    patent = services.create_patent(
        {
            "application_no": "CN202416893514.6",
            "title": "一种高强韧铝锂合金构件的低温时效强化工艺及其在航空航天大型薄壁结构件中的应用方法",
            "industry_code": "C3240 有色金属合金制造",
            "contact_email": "zhang.weiguo.materials-lab@hbsf-campus.example.edu.cn",
            "contact_phone": "13800000000",
            "college": campus["uni"].colleges[0].name,
        },
        institution_id=campus["uni"].id,
        actor=campus["admin"],
    )
    admin = people("school-admin-detail-375")
    admin.page.set_viewport_size({"width": 375, "height": 812})
    admin.login(campus["admin"].email)
    admin.goto(f"/patents/{patent.id}")
    expect(admin.page.locator(".timeline table.revisions")).to_be_visible()
    fit = admin.page.evaluate(PAGE_FIT)
    assert fit["pageWidth"] <= fit["viewport"], fit
    admin.page.locator(".timeline").scroll_into_view_if_needed()
    admin.shot("history")


BATCH_BAR = """() => {
  const bar = document.getElementById('batch-bar').getBoundingClientRect();
  const button = Array.from(document.querySelectorAll('#batch-bar button[name=action]'))
    .find(b => b.textContent.includes('学校审核通过')).getBoundingClientRect();
  const rows = document.querySelectorAll('#review-list tbody tr');
  return {
    barTop: bar.top, barBottom: bar.bottom, buttonTop: button.top, buttonBottom: button.bottom,
    lastRowTop: rows[rows.length - 1].getBoundingClientRect().top,
    viewport: window.innerHeight, pageWidth: document.documentElement.scrollWidth,
    position: getComputedStyle(document.getElementById('batch-bar')).position,
    tableBottom: document.getElementById('review-list').getBoundingClientRect().bottom,
  };
}"""


@pytest.mark.parametrize("width", [375, 1280])
def test_the_school_review_queue_selects_a_stage_and_keeps_its_batch_bar_in_reach(
    people, campus, width
):
    """A user trial on a phone (375 px): with the header row hidden behind the cards there was
    no select-all, and the batch buttons sat below a long list. Each stage of the page has its
    own select-all above the list; on a phone the batch bar sticks to the bottom of the window
    while the list scrolls. At 1280 px the bar stays where it was, under the list."""
    uni = campus["uni"]
    for i in range(20):
        make_patent(
            uni,
            college=uni.colleges[i % 4],
            status=EntryStatus.PENDING_SCHOOL,
            trl=5,
            value_grade=3,
            transfer_willingness=Willingness.WILLING,
        )
    for _ in range(2):  # no college: the university reviews them at 待学院审核
        make_patent(uni, status=EntryStatus.PENDING_COLLEGE)
    admin = people(f"school-admin-review-{width}")
    admin.page.set_viewport_size({"width": width, "height": 812})
    admin.login(campus["admin"].email)
    admin.goto("/patents/review")
    page = admin.page
    school = page.get_by_role("checkbox", name="待学校审核（26 件）")
    expect(school).to_be_visible()
    school.check()
    rows = page.locator('#review-list input[name="ids"]')
    states = rows.evaluate_all("bs => bs.map(b => [b.dataset.status, b.checked])")
    assert {s for s, on in states if on} == {"pending_school"}, states
    assert sum(on for _, on in states) == 26, states
    expect(page.locator("#selected-count")).to_have_text("（已选 26 条）")
    # 待学院审核 of colleges without an admin, and of no college, are the university's too
    college = page.get_by_role("checkbox", name="待学院审核（8 件）")
    college.check()
    expect(page.locator("#selected-count")).to_have_text("（已选 34 条）")
    page.locator('#review-list input[name="ids"][data-status="pending_college"]').first.uncheck()
    assert college.evaluate("b => b.indeterminate && !b.checked")
    college.check()  # a mixed box ticks the whole stage first, then clears it
    college.uncheck()
    expect(page.locator("#selected-count")).to_have_text("（已选 26 条）")

    # halfway down the list the batch bar is in view, its buttons usable
    page.locator("#review-list tbody tr").nth(12).scroll_into_view_if_needed()
    fit = page.evaluate(BATCH_BAR)
    assert fit["pageWidth"] <= width, fit
    if width == 375:
        assert fit["position"] == "sticky", fit
        assert fit["barBottom"] <= fit["viewport"] + 1 and fit["barTop"] < fit["lastRowTop"], fit
        assert fit["buttonTop"] >= fit["barTop"] and fit["buttonBottom"] <= fit["viewport"], fit
        assert fit["barBottom"] - fit["barTop"] <= fit["viewport"] / 2 + 1, fit  # half at most
    else:
        assert fit["position"] == "static" and fit["barTop"] > fit["tableBottom"], fit
    admin.shot("review-stage-ticked")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="学校审核通过").click()
    # the 6 of the campus lack their self-assessment: refused with the reason, the rest entered
    expect(page.locator(".flash")).to_contain_text("已学校审核通过并入库 20 件")
    expect(page.locator(".flash")).to_contain_text("6 件未处理")
    expect(page.get_by_role("checkbox", name="待学院审核（8 件）")).to_be_visible()
    admin.shot("review-approved")


TIER_LABELS = """() => {
  const canvas = document.querySelector('canvas[data-chart="chart-promotion-tiers"]');
  const chart = Chart.getChart(canvas);
  const scale = chart.scales.y;
  const ctx = canvas.getContext('2d');
  ctx.font = Chart.helpers.toFont(scale.options.ticks.font).string;
  const ticks = scale.ticks.map(t => [].concat(t.label));
  const widest = Math.max(...ticks.flat().map(line => ctx.measureText(line).width));
  const full = chart.data.labels;
  const long = full.findIndex(l => l.startsWith('C3360'));
  const dataset = chart.data.datasets.findIndex(d => d.data[long] > 0);
  chart.tooltip.setActiveElements([{datasetIndex: dataset, index: long}], {x: 0, y: 0});
  chart.update();
  return {
    left: scale.left, room: scale.width, widest, ticks, full,
    tooltip: chart.tooltip.title, pageWidth: document.documentElement.scrollWidth,
  };
}"""


@pytest.mark.parametrize("width", [375, 1280])
def test_the_promotion_tiers_chart_keeps_its_industry_names_readable(people, campus, width):
    """A user trial on a phone (375 px): the 分层推广 chart's industry names ran off the
    canvas's left edge (「) 金属表面处理及热处理加工」). They wrap into the room the chart
    leaves them (two lines at most, then 「…」) and the tooltip gives the whole name; at 1280 px
    each name is one line, as before."""
    college = campus["uni"].colleges[0]
    industries = (
        "C3360 金属表面处理及热处理加工",
        "N7726 土壤污染治理与修复服务",
        "C3670 汽车零部件及配件制造",
        "I6513 应用软件开发",
    )
    for industry in industries:  # B 推荐推广: no evaluation yet, a high self-grade and TRL
        make_patent(
            campus["uni"],
            college=college,
            status=EntryStatus.ENTERED,
            value_grade=5,
            trl=7,
            transfer_willingness=Willingness.WILLING,
            industry_code=industry,
        )
    admin = people(f"school-admin-tiers-{width}")
    admin.page.set_viewport_size({"width": width, "height": 812})
    admin.login(campus["admin"].email)
    admin.goto("/evaluations/promotion")
    canvas = admin.page.locator('canvas[data-chart="chart-promotion-tiers"]')
    canvas.scroll_into_view_if_needed()
    admin.page.wait_for_function(
        "() => Chart.getChart(document.querySelector('canvas[data-chart]'))"
    )
    fit = admin.page.evaluate(TIER_LABELS)
    assert fit["pageWidth"] <= width, fit
    assert fit["left"] >= 0 and fit["widest"] <= fit["room"], fit  # nothing cut off
    for lines, name in zip(fit["ticks"], fit["full"], strict=True):
        shown = "".join(lines).removesuffix("…").replace(" ", "")
        assert name.replace(" ", "").startswith(shown) and len(lines) <= 2, (lines, name)
    assert fit["tooltip"] == ["C3360 金属表面处理及热处理加工"], fit
    if width == 1280:
        assert all(len(lines) == 1 for lines in fit["ticks"]), fit
    else:
        assert any(len(lines) == 2 for lines in fit["ticks"]), fit
    admin.shot("tiers-chart")
