"""今日待办 on an officer's home: what needs acting on, each with what it is out of and a link
(an officer's first page was the inventory funnel, the day's work spread over a badge, a card
and another tab)."""

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


@pytest.mark.parametrize("role", [Role.UNIVERSITY_ADMIN, Role.ENTERPRISE, Role.REGULATOR])
def test_others_have_no_officers_todo(world, client, auth, role):
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
