"""The main navigation offers each role exactly the pages it may open."""

from __future__ import annotations

import re

import pytest

from revive.accounts.models import Role
from tests.factories import make_user


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_navigation_link_opens_for_the_role_that_sees_it(app, client, auth, role):
    auth.login(make_user(role))
    page = client.get("/").get_data(as_text=True)
    nav = page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    links = re.findall(r'href="([^"]+)"', nav)
    assert links, "the navigation has links"
    for href in links:
        assert client.get(href).status_code == 200, href


def test_links_follow_the_routes_rules(app, client, auth):
    auth.login(make_user(Role.ENTERPRISE))
    nav = client.get("/").get_data(as_text=True)
    assert "/evaluations/todo" in nav and "/review/" not in nav and "/matching/" not in nav
    assert 'href="/pool/intents"' in nav  # its own 对接申请, before any officer has acted
    auth.logout()
    auth.login(make_user(Role.OFFICER))
    nav = client.get("/").get_data(as_text=True)
    assert "/review/" in nav and "/evaluations/todo" not in nav
    assert 'href="/pool/intents"' not in nav
