"""今日待办 on the home of officers and university / college admins: what needs acting on, each
with what it is out of and a link (an officer's first page was the inventory funnel, the day's
work spread over a badge, a card and another tab; a university's tech-transfer director and a
college admin pieced theirs together from menu badges)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from revive.accounts.models import Role
from revive.db import utcnow
from revive.extensions import db
from revive.matching.models import MatchState
from tests.dashboard.helpers import make_demand, make_match
from tests.deals.helpers import make_overdue, make_world
from tests.factories import make_user


def _todo(html: str) -> dict[str, tuple[int, str, str]]:
    """key → (count, note, link) of each item shown."""
    out = {}
    for key, href, count, note in re.findall(
        r'data-todo-item="(\w+)">\s*<a href="([^"]+)"><span class="todo-count" data-count>([\d,]+)'
        r'</span>.*?<span class="todo-note">([^<]*)</span>',
        html,
        re.S,
    ):
        out[key] = (int(count.replace(",", "")), note, href.replace("&amp;", "&"))
    return out


@pytest.fixture
def world(app):
    return make_world()


def test_the_officers_home_starts_with_todays_work(world, client, auth):
    stalled = world.own_deal()
    stalled.stage_changed_at = utcnow() - timedelta(days=20)
    world.own_deal()  # moving: not stalled
    make_overdue(world.other_deal())
    demand = make_demand(world.ent_a, "耐盐碱水稻")
    patent = stalled.patent
    old = make_match(demand, patent)
    old.created_at = utcnow() - timedelta(days=5)
    make_match(make_demand(world.ent_b, "节水灌溉"), patent)
    make_match(
        demand, world.own_deal().patent, state=MatchState.REJECTED, by=world.officer, at=utcnow()
    )
    db.session.commit()

    auth.login(world.officer)
    html = client.get("/").get_data(as_text=True)
    items = _todo(html)
    assert list(items) == ["review", "overdue", "stalled", "unmet"]
    count, note, link = items["review"]
    assert count == 2 and "涉及 2 条开放需求" in note and "最早的已等待 5 天" in note
    assert link == "/review/"
    count, note, link = items["overdue"]
    assert count == 1 and "待高校答复的" in note and link == "/dashboard/overdue"
    count, note, link = items["stalled"]
    assert count == 1 and "您负责的 4 个进行中的对接中" in note
    assert link == f"/deals/?officer={world.officer.id}"
    assert items["unmet"][2] == "/dashboard/unmet"
    from revive.dashboard import activity

    figures = activity.unmet_figures()  # the unmet page's own figures
    assert items["unmet"][0] == figures.unmet
    assert f"开放需求 {figures.open_demands} 条中" in items["unmet"][1]
    assert 'class="todo-item urgent" data-todo-item="review"' in html


@pytest.mark.parametrize("role", [Role.INVENTOR, Role.ENTERPRISE, Role.REGULATOR])
def test_others_have_no_todo(world, client, auth, role):
    user = world.users.get(role) or make_user(role)
    auth.login(user)
    assert "data-todo" not in client.get("/").get_data(as_text=True)


def test_stalled_counts_days_as_the_deals_board_shows_them(world, client, auth):
    """「超过 14 天没有进展」 counted a deal the board showed as 「本阶段已停留 14 天」 (14 days and
    some hours): both now count whole days the same way, so only 15 days and more are over 14."""
    from revive.deals.queries import days_in_stage

    now = utcnow()
    shown_14 = world.own_deal()
    shown_14.stage_changed_at = now - timedelta(days=14, hours=23)
    shown_15 = world.own_deal()
    shown_15.stage_changed_at = now - timedelta(days=15, minutes=1)
    db.session.commit()

    auth.login(world.officer)
    board = client.get(f"/deals/?officer={world.officer.id}").get_data(as_text=True)
    assert days_in_stage(shown_14) == 14 and days_in_stage(shown_15) == 15
    assert "本阶段已停留 14 天" in board and "本阶段已停留 15 天" in board
    count, note, _link = _todo(client.get("/").get_data(as_text=True))["stalled"]
    assert count == 1  # the 15-day one only
    assert "在当前阶段已停留 15 天及以上" in note


@pytest.mark.parametrize("hours", [0, 1, 14 * 24 - 1, 14 * 24, 15 * 24 - 1, 15 * 24, 15 * 24 + 1])
def test_stalled_clause_is_the_boards_day_count(world, hours):
    """The SQL rule and the board's days_in_stage agree at every boundary."""
    import sqlalchemy as sa

    from revive.dashboard.todo import STALLED_DAYS
    from revive.deals.models import Deal
    from revive.deals.queries import days_in_stage, days_in_stage_over

    now = utcnow()
    deal = world.own_deal()
    deal.stage_changed_at = now - timedelta(hours=hours)
    db.session.commit()
    in_sql = db.session.scalar(
        sa.select(sa.func.count(Deal.id)).where(
            Deal.id == deal.id, days_in_stage_over(STALLED_DAYS, now)
        )
    )
    assert bool(in_sql) == (days_in_stage(deal, now) > STALLED_DAYS)


# ---------------------------------------------------------------------------- university side


def _university_side(world):
    """On 甲大学: review queues, deals awaiting an answer, a licence application, returned and
    draft patents, each split between the college admin's college (甲材料学院) and the rest of
    the university (甲化工学院 has no college admin, so the university reviews for it); and the
    same kinds of work at 乙大学, which nobody on the 甲 side may act on."""
    from revive.deals.models import Stage, UniversityResponse
    from revive.inventory.models import EntryStatus as S
    from revive.licensing.models import ApplicationStatus, LicenceApplication
    from tests.deals.helpers import advance, make_deal
    from tests.factories import make_patent
    from tests.licensing.helpers import make_declaration
    from tests.matching.helpers import entered

    now = utcnow()
    mine, other = world.college_a, world.other_college_a
    at_college = make_patent(world.uni_a, college=mine, status=S.PENDING_COLLEGE)
    at_college.status_changed_at = now - timedelta(days=2)
    at_school = make_patent(world.uni_a, college=mine, status=S.PENDING_SCHOOL)
    at_school.status_changed_at = now - timedelta(days=6)
    orphan = make_patent(world.uni_a, college=other, status=S.PENDING_COLLEGE)  # no college admin
    orphan.status_changed_at = now - timedelta(days=1)
    make_patent(world.uni_b, status=S.PENDING_SCHOOL)

    returned = make_patent(world.uni_a, college=mine, status=S.RETURNED)
    returned.status_changed_at = now - timedelta(days=4)
    make_patent(world.uni_a, college=other, status=S.RETURNED)
    draft = make_patent(world.uni_a, college=other, status=S.DRAFT)
    draft.status_changed_at = now - timedelta(days=9)
    make_patent(world.uni_b, status=S.DRAFT)

    world.own_deal()  # awaiting, in time
    make_overdue(world.own_deal())  # awaiting, overdue
    world.own_deal(response=UniversityResponse.INTERESTED)  # answered
    # unanswered, moved on by the officer after a phone call: still awaiting the answer
    advance(world.own_deal(), Stage.CONTACTED, actor=world.officer)
    make_deal(college=other, enterprise=world.ent_a, officer=world.officer)  # the university's
    make_overdue(world.other_deal())  # 乙大学

    for patent in (entered(world.uni_a, college=mine), entered(world.uni_b)):
        declaration = make_declaration(patent)
        db.session.add(
            LicenceApplication(
                declaration_id=declaration.id,
                patent_id=patent.id,
                enterprise_id=world.ent_a.id,
                status=ApplicationStatus.SUBMITTED,
                applicant_name="甲科技有限公司",
                contact_name="联系人",
                contact_phone="0471-1234567",
                intended_use="产线",
                terms_accepted=True,
                terms={},
            )
        )
    db.session.commit()


def _patents_of(institution_id, college_id=None) -> int:
    import sqlalchemy as sa

    from revive.inventory.models import Patent

    where = [Patent.institution_id == institution_id]
    if college_id is not None:
        where.append(Patent.college_id == college_id)
    return db.session.scalar(sa.select(sa.func.count(Patent.id)).where(*where))


def test_the_university_admins_home_starts_with_todays_work(world, client, auth):
    _university_side(world)
    admin = world.users[Role.UNIVERSITY_ADMIN]
    auth.login(admin)
    html = client.get("/").get_data(as_text=True)
    items = _todo(html)
    assert list(items) == ["patent_review", "answers", "licences", "returned", "drafts"]
    assert html.index("今日待办") < html.index('aria-label="关键指标"')

    count, note, link = items["patent_review"]
    assert count == 2 and link == "/patents/review"
    assert "待学校审核 1 件" in note and "待学院审核 1 件（未指定学院或学院没有管理员" in note
    assert "最早的已等待 6 天" in note

    count, note, link = items["answers"]
    assert count == 4  # two of 甲材料学院 (one overdue), one moved on unanswered, one of 甲化工学院
    assert "其中逾期未答复 1 个（逾期数 / 待答复数：25.0%（1 / 4））" in note
    # the link lists exactly the deals counted (it led to the overdue one only: a trial)
    assert link == "/deals/?awaiting=1"
    board = client.get(link).get_data(as_text=True)
    assert board.count("data-deal-id=") == count

    assert items["licences"][0] == 1
    assert items["licences"][2] == "/open-licences/applications?status=submitted"

    total = _patents_of(world.uni_a.id)
    count, note, link = items["returned"]
    assert count == 2 and f"本校盘点的 {total} 件专利中" in note and "最早的已退回 4 天" in note
    assert link == "/patents/?status=returned"
    count, note, link = items["drafts"]
    assert count == 1 and "最早的已 9 天未提交" in note and link == "/patents/?status=draft"
    assert 'class="todo-item urgent" data-todo-item="patent_review"' in html
    assert 'class="todo-item urgent" data-todo-item="answers"' in html
    assert "data-todo-empty" not in html

    for _key, (_count, _note, href) in items.items():  # where the work is done, for this user
        assert client.get(href).status_code == 200, href


def test_the_college_admins_todo_is_their_college(world, client, auth):
    _university_side(world)
    auth.login(world.users[Role.COLLEGE_ADMIN])
    items = _todo(client.get("/").get_data(as_text=True))
    assert list(items) == ["patent_review", "answers", "licences", "returned", "drafts"]

    count, note, link = items["patent_review"]
    assert count == 1 and "等待学院审核的 1 件" in note and "最早的已等待 2 天" in note
    assert link == "/patents/review"
    count, note, _link = items["answers"]
    assert count == 3 and "推送给本学院专利" in note and "（1 / 3）" in note
    assert items["licences"][0] == 1
    total = _patents_of(world.uni_a.id, world.college_a.id)
    count, note, _link = items["returned"]
    assert count == 1 and f"本学院盘点的 {total} 件专利中" in note
    assert items["drafts"][0] == 0 and "未提交" not in items["drafts"][1]
    for _key, (_count, _note, href) in items.items():
        assert client.get(href).status_code == 200, href


def test_the_todo_counts_match_the_menu_badges(world, client, auth):
    """The same queues as the menu: a count here never contradicts the badge beside 待我审核,
    供需对接 or 许可实施申请. The 供需对接 badge counted only 已推荐 deals, so a deal an officer
    moved to 已接洽 after a phone call, still unanswered, was in 今日待办 and the overdue page
    but not in the badge."""
    from revive.navigation import COUNTS

    _university_side(world)
    for role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN):
        user = world.users[role]
        auth.login(user)
        items = _todo(client.get("/").get_data(as_text=True))
        auth.logout()
        assert items["patent_review"][0] == COUNTS["patent_review"](user)
        assert items["answers"][0] == COUNTS["deal_answers"](user)
        assert items["licences"][0] == COUNTS["licence_applications"](user)
    assert COUNTS["deal_answers"](world.users[Role.UNIVERSITY_ADMIN]) == 4  # 已接洽 one included


def test_nothing_due_says_so(client, auth, app):
    """An empty state instead of a row of zeros."""
    admin = make_user(Role.UNIVERSITY_ADMIN)
    auth.login(admin)
    html = client.get("/").get_data(as_text=True)
    assert "data-todo-item" not in html
    assert "今天没有需要您处理的事项：待我审核的专利、待答复的对接" in html
    assert "data-todo-empty" in html


def test_the_admins_todo_does_not_grow_with_the_data(world, app):
    """One aggregate statement per item, whatever the number of patents and deals."""
    import sqlalchemy as sa

    from revive.dashboard.todo import admin_todo
    from revive.inventory.models import EntryStatus as S
    from tests.factories import make_patent

    admin = world.users[Role.UNIVERSITY_ADMIN]

    def statements() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", count)
        try:
            with app.test_request_context("/"):
                admin_todo(admin)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    _university_side(world)
    db.session.expire_all()
    before = statements()
    for status in (S.PENDING_SCHOOL, S.DRAFT, S.RETURNED) * 3:
        make_patent(world.uni_a, college=world.college_a, status=status)
    make_overdue(world.own_deal())
    world.own_deal()
    db.session.expire_all()
    assert statements() == before <= 5
