"""Alert pages: the unsubscribe link (no login, says what it did), the account page's
switches, and the menu badges that count what arrived since the user last opened a queue."""

from __future__ import annotations

import re

import sqlalchemy as sa

from revive.alerts import services
from revive.alerts.models import AlertKind
from revive.audit.models import AuditEvent
from revive.extensions import db
from revive.matching import manual
from revive.pool import status
from tests.factories import make_user
from tests.matching.helpers import make_demand, make_enterprise


def _nav(html: str) -> str:
    return html.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]


def _new_badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge info nav-new" aria-label="([^"]+)">', _nav(html))


# ---------------------------------------------------------------------------- unsubscribe


def test_the_unsubscribe_link_works_without_logging_in_and_says_so(world, client):
    token = services.unsubscribe_token(world.ent_user.id, AlertKind.MATCHES)
    resp = client.get(f"/alerts/unsubscribe/{token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "已退订“新专利匹配提醒”" in html and "账号与安全" in html
    assert not services.subscribed(world.ent_user.id, AlertKind.MATCHES)
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "alerts_unsubscribe")
    )
    assert event.actor_id == world.ent_user.id and event.entity_id == world.ent_user.id


def test_one_click_unsubscribe_posts_without_a_csrf_token(world, app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    token = services.unsubscribe_token(world.officer.id, AlertKind.QUEUE)
    resp = client.post(f"/alerts/unsubscribe/{token}", data="List-Unsubscribe=One-Click")
    assert resp.status_code == 200
    assert not services.subscribed(world.officer.id, AlertKind.QUEUE)


def test_a_broken_link_is_a_chinese_404(world, client):
    resp = client.get("/alerts/unsubscribe/not-a-token")
    assert resp.status_code == 404 and "退订链接无效" in resp.get_data(as_text=True)


def test_the_account_page_turns_alerts_back_on(world, client, auth):
    services.unsubscribe(services.unsubscribe_token(world.ent_user.id, AlertKind.MATCHES))
    auth.login(world.ent_user)
    page = client.get("/account").get_data(as_text=True)
    assert 'id="alert-preferences"' in page and 'data-alert-state="off"' in page
    resp = client.post("/alerts/preferences", data={"kind": "matches", "subscribed": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("#alert-preferences")
    assert services.subscribed(world.ent_user.id, AlertKind.MATCHES)
    # A kind the role does not get is refused with a message, nothing written.
    client.post("/alerts/preferences", data={"kind": "queue", "subscribed": "0"})
    assert services.subscribed(world.ent_user.id, AlertKind.QUEUE)


def test_officers_switch_both_kinds_and_other_roles_have_none(world, client, auth):
    auth.login(world.officer)
    page = client.get("/account").get_data(as_text=True)
    assert page.count("data-alert-kind=") == 2
    client.post("/alerts/preferences", data={"kind": "queue", "subscribed": "0"})
    assert not services.subscribed(world.officer.id, AlertKind.QUEUE)
    auth.logout()
    auth.login(make_user())  # a university admin
    assert 'id="alert-preferences"' not in client.get("/account").get_data(as_text=True)
    assert client.post("/alerts/preferences", data={"kind": "matches"}).status_code == 403


# ---------------------------------------------------------------------------- badges


def test_an_officer_sees_new_demands_until_opening_the_list(world, client, auth):
    auth.login(world.officer)
    assert "1 条新需求" in _new_badges(client.get("/").get_data(as_text=True))
    assert client.get("/demands/").status_code == 200
    assert not _new_badges(client.get("/").get_data(as_text=True))


def test_an_officer_sees_new_intents_until_opening_the_review_queue(world, client, auth):
    manual.submit_intent(world.ent_user, world.old["water"].id, "想了解", demand_id=world.demand.id)
    auth.login(world.officer)
    client.get("/demands/")
    badges = _new_badges(client.get("/").get_data(as_text=True))
    assert "1 件新的对接申请" in badges and "1 项新内容" in badges  # the item and its group
    client.get("/review/")
    assert not _new_badges(client.get("/").get_data(as_text=True))


def _suggested(listing: str) -> int:
    """The 机器推荐 column of the enterprise's (one-demand) list."""
    found = re.findall(r'data-suggested="(\d+)"', listing)
    assert len(found) == 1, found
    return int(found[0])


def test_an_enterprise_sees_new_suggestions_on_its_demands(world, client, auth):
    auth.login(world.ent_user)
    before = _suggested(client.get("/demands/").get_data(as_text=True))  # seen: the first ones
    assert not _new_badges(client.get("/").get_data(as_text=True))
    world.enter_new()
    html = client.get("/").get_data(as_text=True)
    assert "1 件新推荐（含新专利提醒）" in _new_badges(html)
    listing = client.get("/demands/").get_data(as_text=True)
    assert 'data-new-suggestions="1"' in listing
    assert not _new_badges(client.get("/").get_data(as_text=True))
    listing = client.get("/demands/").get_data(as_text=True)
    assert "data-new-suggestions" not in listing
    # the column keeps counting what the demand page lists once the badge is gone
    assert _suggested(listing) == before + 1
    ov = status.demand_overview(world.ent_user, world.demand)
    assert _suggested(listing) == ov.suggestion_count


# ---------------------------------------------------------------------------- what "seen" means
# User trials: the 新 badges never cleared. The page a badge pointed at still showed it (the
# stamp came after the page was drawn), and opening the new things themselves from the
# inbox's links (a demand's matches, an intent's match page, the enterprise's demand page)
# stamped nothing, so they counted as new for good.


def test_the_page_the_badge_points_at_shows_it_cleared(world, client, auth):
    auth.login(world.officer)
    assert "1 条新需求" in _new_badges(client.get("/").get_data(as_text=True))
    assert not _new_badges(client.get("/demands/").get_data(as_text=True))
    # stored, not only this page's drawing: a later visit still counts nothing
    assert not _new_badges(client.get("/").get_data(as_text=True))


def test_an_officer_who_opened_a_new_demand_from_the_inbox_has_seen_it(world, client, auth):
    later = make_demand(make_enterprise(), title="秸秆饲料发酵工艺")
    auth.login(world.officer)
    assert "2 条新需求" in _new_badges(client.get("/").get_data(as_text=True))
    assert client.get(f"/matching/demands/{later.id}").status_code == 200  # the notice's link
    assert "1 条新需求" in _new_badges(client.get("/").get_data(as_text=True))
    assert client.get(f"/demands/{world.demand.id}").status_code == 200  # its page
    assert not _new_badges(client.get("/").get_data(as_text=True))
    # per user: the other officer has seen neither
    auth.logout()
    auth.login(world.officer2)
    assert "2 条新需求" in _new_badges(client.get("/").get_data(as_text=True))


def test_an_officer_who_opened_an_intent_from_the_inbox_has_seen_it(world, client, auth):
    match = manual.submit_intent(
        world.ent_user, world.old["water"].id, "想了解", demand_id=world.demand.id
    )
    auth.login(world.officer)
    client.get("/demands/")
    assert "1 件新的对接申请" in _new_badges(client.get("/").get_data(as_text=True))
    assert client.get(f"/matching/matches/{match.id}").status_code == 200
    assert not _new_badges(client.get("/").get_data(as_text=True))


def test_an_enterprise_that_opened_its_demand_has_seen_its_new_suggestions(world, client, auth):
    auth.login(world.ent_user)
    client.get("/demands/")
    world.enter_new()
    assert "1 件新推荐（含新专利提醒）" in _new_badges(client.get("/").get_data(as_text=True))
    # the 新入库专利 notice's link: the demand's page, which lists the suggestion
    page = client.get(f"/demands/{world.demand.id}").get_data(as_text=True)
    assert not _new_badges(page)
    assert not _new_badges(client.get("/").get_data(as_text=True))
    assert "data-new-suggestions" not in client.get("/demands/").get_data(as_text=True)
