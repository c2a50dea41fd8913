"""Every page's headings form an outline a screen reader can walk: one ``h1`` first, and no level
skipped on the way down (an ``h2`` followed by an ``h4`` hides a level from anyone who jumps by
heading). Checked on the seeded demo, as each role, on every page reachable by following links
from the home page (each route once), so detail pages with real records are included."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask import g
from werkzeug.exceptions import HTTPException

from revive.accounts.models import Role, User
from revive.demo.seed import DEMO_PASSWORD
from revive.extensions import db

HREF = re.compile(r'href="(/[^"#]*)"')
# Links that change something or leave the HTML pages.
SKIP = re.compile(r"^/(static|logout|api/)|/(export|download|template)|\.(csv|xlsx|json|svg)\b")
MAX_PAGES = 120  # per role: every route once is far fewer


class _Headings(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.levels: list[tuple[int, str]] = []
        self._open: int | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        if re.fullmatch(r"h[1-6]", tag):
            self._open, self._text = int(tag[1]), ""

    def handle_data(self, data):
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag):
        if self._open is not None and tag == f"h{self._open}":
            self.levels.append((self._open, " ".join(self._text.split())[:30]))
            self._open = None


def outline_problems(html: str) -> list[str]:
    parser = _Headings()
    parser.feed(html)
    levels = parser.levels
    if not levels:
        return ["no heading"]
    problems = []
    if levels[0][0] != 1:
        problems.append(f"first heading is h{levels[0][0]} ({levels[0][1]})")
    if sum(1 for level, _ in levels if level == 1) > 1:
        problems.append("more than one h1")
    for (before, _), (level, text) in zip(levels, levels[1:], strict=False):
        if level > before + 1:
            problems.append(f"h{before} → h{level} ({text})")
    return problems


def test_outline_problems_finds_a_skipped_level():
    assert outline_problems("<h1>a</h1><h2>b</h2><h3>c</h3><h2>d</h2>") == []
    assert outline_problems("<h1>a</h1><h2>b</h2><h4>c</h4>") == ["h2 → h4 (c)"]
    assert outline_problems("<h2>a</h2>") == ["first heading is h2 (a)"]


def _crawl(app, client) -> dict[str, list[str]]:
    adapter = app.url_map.bind("localhost")
    seen_endpoints: set[str] = set()
    queue, visited, found = deque(["/"]), set(), {}
    while queue and len(visited) < MAX_PAGES:
        path = queue.popleft()
        if path in visited:
            continue
        visited.add(path)
        try:
            endpoint, _ = adapter.match(path.split("?")[0], method="GET")
        except HTTPException:
            continue
        if endpoint in seen_endpoints:
            continue
        seen_endpoints.add(endpoint)
        g.pop("_login_user", None)
        response = client.get(path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        problems = outline_problems(html)
        if problems:
            found[f"{path} ({endpoint})"] = problems
        for href in HREF.findall(html):
            href = href.replace("&amp;", "&")
            if not SKIP.search(href) and href not in visited:
                queue.append(href)
    return found


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_reachable_page_has_an_unbroken_heading_outline(ctx, role):
    email = db.session.scalar(sa.select(User.email).where(User.role == role).limit(1))
    client = ctx.test_client()
    client.post("/login", data={"email": email, "password": DEMO_PASSWORD})
    found = _crawl(ctx, client)
    assert not found, "\n".join(f"{page}: {'; '.join(p)}" for page, p in found.items())
