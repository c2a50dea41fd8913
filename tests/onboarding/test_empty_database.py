"""A fresh deployment: migrations on an empty database, no demo data, ``revive create-admin``,
and every page the platform admin can open works — nothing to show is not an error.

Runs on an app of its own (a file database made by the migrations, as `docker compose up`
does), not the shared test app whose tables come from the models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import g
from flask_migrate import upgrade

from revive.accounts.models import Role
from revive.extensions import db
from tests.apps import other_app

PASSWORD = "First-admin-2026"
# GET routes without arguments that answer with something other than a page on purpose.
REDIRECTS = {
    "accounts.login": "a signed-in user is sent to the dashboard",
    "accounts.register": "a signed-in user is sent to the dashboard",
    "_favicon": "the icon is a static file",
}
NEEDS_QUERY = {"licensing.new": "declares an open licence of the patent named by ?patent_id="}


@pytest.fixture
def fresh(tmp_path) -> Iterator:
    app = other_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}",
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "SECRET_KEY": "fresh-deployment",
        }
    )
    with app.app_context():
        upgrade()  # what the web container runs before gunicorn
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def _pages(app, role) -> list[tuple[str, str]]:
    """GET rules without arguments that ``role`` may open (its roles_required admits it)."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.arguments or "GET" not in (rule.methods or ()):
            continue
        allowed = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        if (allowed is None or role in allowed) and rule.endpoint not in NEEDS_QUERY:
            out.append((rule.endpoint, rule.rule))
    return sorted(out, key=lambda item: item[1])


def _walk(app, client, role) -> list[str]:
    problems = []
    for endpoint, path in _pages(app, role):
        g.pop("_login_user", None)
        response = client.get(path)
        expected = 302 if endpoint in REDIRECTS else 200
        if response.status_code != expected:
            problems.append(f"{path} ({endpoint}): {response.status_code}")
    return problems


def test_a_fresh_deployment_starts_empty_and_every_admin_page_works(fresh, tmp_path):
    from revive.accounts.models import Organization, User
    from revive.onboarding.cli import create_admin_command

    assert db.session.query(User).count() == 0
    assert db.session.query(Organization).count() == 0

    secret = tmp_path / "admin-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    result = fresh.test_cli_runner().invoke(
        create_admin_command,
        [
            "--email",
            "admin@province.gov.cn",
            "--name",
            "平台管理员",
            "--password-file",
            str(secret),
        ],
    )
    assert result.exit_code == 0, result.output

    client = fresh.test_client()
    login = client.post("/login", data={"email": "admin@province.gov.cn", "password": PASSWORD})
    assert login.status_code == 302 and "/login" not in login.headers["Location"]

    assert len(_pages(fresh, Role.PLATFORM_ADMIN)) > 40
    problems = _walk(fresh, client, Role.PLATFORM_ADMIN)
    assert not problems, "\n".join(problems)
    # The way forward is there: register institutions.
    home = client.get("/institutions/").get_data(as_text=True)
    assert "还没有登记任何高校或科研院所" in home


@pytest.mark.parametrize("role", [Role.OFFICER, Role.REGULATOR], ids=lambda r: r.value)
def test_staff_pages_work_on_an_empty_platform(fresh, role):
    """The first accounts the admin makes (officers, the regulator) meet an empty platform too."""
    from revive.accounts import services

    admin = services.create_platform_admin(email="a@x.cn", name="管理员", password=PASSWORD)
    services.create_staff_user(
        actor=admin, email="staff@x.cn", name="某人", role=role, password=PASSWORD
    )
    client = fresh.test_client()
    client.post("/login", data={"email": "staff@x.cn", "password": PASSWORD})
    problems = _walk(fresh, client, role)
    assert not problems, "\n".join(problems)
