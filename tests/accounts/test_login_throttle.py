"""Login throttling after OWASP's device cookies: strangers cannot lock an owner, or a campus
behind one NAT address, out; attackers are still slowed down.

https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies
"""

from __future__ import annotations

import pytest
from flask import g

from tests.factories import PASSWORD, make_user

WRONG = "Wrong12345"
NAT = "10.20.0.1"
LIMITED = "登录失败次数过多"


def attempt(client, email: str, password: str, ip: str):
    g.pop("_login_user", None)  # tests share one app context: no user left over in ``g``
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def stranger(app, email: str, password: str = WRONG, ip: str = "203.0.113.9"):
    """Each attempt from a fresh client: no cookies, as a script would send it."""
    return attempt(app.test_client(), email, password, ip)


def owners_browser(app, user, ip: str = "10.2.0.1"):
    """The owner's browser after one ordinary sign-in (and sign-out): it holds a device cookie."""
    client = app.test_client()
    assert attempt(client, user.email, PASSWORD, ip).status_code == 302
    g.pop("_login_user", None)
    assert client.post("/logout").status_code == 302
    return client


def test_strangers_50_failures_from_another_ip_do_not_stop_the_owners_trusted_device(app):
    owner = make_user()
    browser = owners_browser(app, owner)
    answers = [stranger(app, owner.email).status_code for _ in range(50)]
    assert answers.count(429) >= 40  # the stranger is throttled…
    resp = attempt(browser, owner.email, PASSWORD, "10.2.0.1")
    assert resp.status_code == 302  # …the owner's browser is not
    assert "/login" not in resp.headers["Location"]
    # A typo on the trusted device is an ordinary failure there, not a refusal.
    g.pop("_login_user", None)
    browser.post("/logout")
    assert attempt(browser, owner.email, WRONG, "10.2.0.1").status_code == 200


def test_the_owners_trusted_device_works_from_a_new_address_too(app):
    owner = make_user()
    browser = owners_browser(app, owner, ip="10.2.0.1")
    for _ in range(15):
        stranger(app, owner.email)
    assert attempt(browser, owner.email, PASSWORD, "172.16.5.5").status_code == 302


def test_an_attacker_is_refused_even_with_the_right_password_on_an_untrusted_client(app):
    owner = make_user()
    for _ in range(10):
        assert stranger(app, owner.email).status_code == 200
    resp = stranger(app, owner.email, PASSWORD, ip="198.51.100.7")  # another address, too
    assert resp.status_code == 429
    text = resp.get_data(as_text=True)
    assert LIMITED in text and "此前成功登录过该账号的浏览器上仍可正常登录" in text
    assert int(resp.headers["Retry-After"]) == 15 * 60


def test_25_users_behind_one_nat_one_failing_many_times_do_not_block_the_other_24(app):
    users = [make_user() for _ in range(25)]
    clumsy, others = users[0], users[1:]
    answers = [stranger(app, clumsy.email, ip=NAT).status_code for _ in range(60)]
    assert 429 in answers  # the failing account is throttled for untrusted clients
    for user in others:  # first sign-in from these browsers: untrusted clients, same NAT
        assert stranger(app, user.email, WRONG, ip=NAT).status_code == 200  # a typo each
        resp = stranger(app, user.email, PASSWORD, ip=NAT)
        assert resp.status_code == 302, user.email


def test_password_spraying_from_one_address_is_throttled_but_trusted_devices_pass(app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_LOGIN_IP_MAX_FAILURES", 30)
    victims = [make_user() for _ in range(31)]
    owner = make_user()
    browser = owners_browser(app, owner, ip=NAT)
    for user in victims[:30]:  # one guess per account: no account limit is reached
        assert stranger(app, user.email, ip=NAT).status_code == 200
    assert stranger(app, victims[30].email, PASSWORD, ip=NAT).status_code == 429
    assert stranger(app, victims[30].email, PASSWORD, ip="10.3.0.1").status_code == 302
    assert attempt(browser, owner.email, PASSWORD, NAT).status_code == 302


def test_a_trusted_device_has_a_limit_of_its_own_that_locks_only_itself(app):
    owner = make_user()
    browser = owners_browser(app, owner)
    for _ in range(10):
        assert attempt(browser, owner.email, WRONG, "10.2.0.1").status_code == 200
    assert attempt(browser, owner.email, PASSWORD, "10.2.0.1").status_code == 429
    # Those failures were the device's: other (untrusted) clients are not refused for them.
    assert stranger(app, owner.email, PASSWORD).status_code == 302


def test_a_device_cookie_trusts_the_browser_for_its_own_account_only(app):
    owner, other = make_user(), make_user()
    browser = owners_browser(app, owner)
    for _ in range(10):
        stranger(app, other.email)
    assert attempt(browser, other.email, PASSWORD, "10.2.0.1").status_code == 429


def test_a_forged_device_cookie_is_an_untrusted_client(app):
    owner = make_user()
    for _ in range(10):
        stranger(app, owner.email)
    client = app.test_client()
    client.set_cookie("revive_device", "W1sxLCAiYWJjIl1d.forged.signature", domain="localhost")
    assert attempt(client, owner.email, PASSWORD, "10.2.0.1").status_code == 429


def test_the_device_cookie_is_httponly_lax_and_long_lived(app):
    owner = make_user()
    resp = stranger(app, owner.email, PASSWORD)
    (cookie,) = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("revive_device=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Max-Age=31536000" in cookie


@pytest.mark.parametrize("email", ["owner", "nobody@example.cn"])
def test_refusals_look_the_same_for_existing_and_unknown_addresses(app, email):
    owner = make_user()
    address = owner.email if email == "owner" else email
    answers = [stranger(app, address).status_code for _ in range(11)]
    assert answers == [200] * 10 + [429]


def test_unknown_address_and_wrong_password_do_the_same_work(app, monkeypatch):
    """No enumeration by timing: the same statements and the same hash checks, in order."""
    import sqlalchemy as sa

    from revive.accounts import passwords
    from revive.extensions import db

    owner = make_user()
    hashes: list[str] = []
    real = passwords.check_password_hash
    monkeypatch.setattr(
        passwords, "check_password_hash", lambda h, p: hashes.append("hash") or real(h, p)
    )

    def statements(email: str) -> list[str]:
        seen: list[str] = []

        def spy(conn, cursor, statement, *args):
            seen.append(statement.split()[0])

        sa.event.listen(db.engine, "before_cursor_execute", spy)
        try:
            assert stranger(app, email, ip="10.30.0.1").status_code == 200
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", spy)
        return seen

    wrong, unknown = statements(owner.email), statements("nobody@example.cn")
    assert wrong == unknown
    assert hashes == ["hash", "hash"]


def test_accepting_an_invitation_trusts_the_browser(app):
    from revive.accounts import services
    from revive.accounts.models import Role

    admin = make_user(Role.UNIVERSITY_ADMIN)
    _, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="new@uni.edu.cn",
        name="新老师",
        role=Role.INVENTOR,
    )
    client = app.test_client()
    resp = client.post(
        f"/invite/{token}",
        data={"name": "新老师", "password": "Tiao-lv9Hu", "confirm": "Tiao-lv9Hu"},
    )
    assert resp.status_code == 302
    assert any(c.startswith("revive_device=") for c in resp.headers.getlist("Set-Cookie"))
    for _ in range(10):
        stranger(app, "new@uni.edu.cn")
    g.pop("_login_user", None)
    client.post("/logout")
    assert attempt(client, "new@uni.edu.cn", "Tiao-lv9Hu", "10.2.0.1").status_code == 302
