"""Server-side sessions: logout, log out everywhere, password change, deactivation, lifetime,
idle timeout, the account page and session fixation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts import services, sessions
from revive.accounts.models import Role, UserSession
from revive.db import utcnow
from revive.extensions import db
from tests.factories import PASSWORD, make_user

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36"
)
WECHAT_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 MicroMessenger/8.0.47"
)


def browser(app, user=None, *, ip="10.1.0.1", agent=CHROME_WINDOWS):
    """A test client of its own (its own cookies), signed in through the login form."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": ip, "HTTP_USER_AGENT": agent})
    if user is not None:
        resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


def signed_in(client) -> bool:
    resp = client.get("/")
    return resp.status_code == 200


def rows(user) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def copy_cookie(src, dst) -> None:
    """What a thief does with a copied cookie: the same signed session, another browser."""
    dst.set_cookie("session", src.get_cookie("session").value, domain="localhost")


# ---------------------------------------------------------------------------- logout


def test_logout_ends_the_session_on_the_server_not_only_in_the_cookie(app):
    user = make_user()
    phone = browser(app, user)
    thief = browser(app)
    copy_cookie(phone, thief)
    assert signed_in(thief)
    assert phone.post("/logout").status_code == 302
    assert not signed_in(thief)  # the copied cookie is dead too
    (row,) = rows(user)
    assert row.revoked_at is not None and row.revoke_reason == "logout"


def test_only_a_hash_of_the_token_is_stored(app):
    user = make_user()
    client = browser(app, user)
    with client.session_transaction() as sess:
        token = sess[sessions.SESSION_KEY]
    (row,) = rows(user)
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_a_cookie_without_a_server_session_is_not_signed_in(app):
    """The old cookie shape (``_user_id`` alone, as Flask-Login wrote it) signs nobody in."""
    user = make_user()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    assert not signed_in(client)


def test_a_session_token_signs_in_only_its_own_user(app):
    victim, other = make_user(), make_user()
    client = browser(app, other)
    with client.session_transaction() as sess:
        sess["_user_id"] = str(victim.id)  # forged with a leaked SECRET_KEY, say
    assert not signed_in(client)


# ---------------------------------------------------------------------------- everywhere


def test_log_out_everywhere_ends_every_session_of_the_user_only(app):
    user, colleague = make_user(), make_user()
    laptop, phone = browser(app, user), browser(app, user, agent=WECHAT_IPHONE)
    theirs = browser(app, colleague)
    resp = laptop.post("/account/sessions/revoke-all")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(theirs)
    assert {r.revoke_reason for r in rows(user)} == {"logout_all"}


def test_account_page_lists_live_sessions_with_device_ip_and_beijing_time(app):
    user = make_user()
    laptop = browser(app, user, ip="10.1.0.7")
    browser(app, user, ip="10.1.0.8", agent=WECHAT_IPHONE)
    ended = browser(app, user, ip="10.1.0.9")
    ended.post("/logout")
    phone = rows(user)[1]
    at = utcnow() - timedelta(minutes=30)
    phone.last_seen_at = phone.created_at = at
    db.session.commit()
    page = laptop.get("/account").get_data(as_text=True)
    assert "Chrome · Windows" in page and "微信内置浏览器 · iPhone" in page
    assert "10.1.0.7" in page and "10.1.0.8" in page
    assert "10.1.0.9" not in page  # logged out: not listed
    assert (at + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") in page  # Beijing time
    assert page.count("本设备") >= 1
    assert "退出所有设备" in page


def test_revoking_one_session_from_the_account_page(app):
    user = make_user()
    laptop, phone = browser(app, user), browser(app, user, agent=WECHAT_IPHONE)
    phone_row = rows(user)[1]
    assert laptop.post(f"/account/sessions/{phone_row.id}/revoke").status_code == 302
    assert not signed_in(phone)
    assert signed_in(laptop)
    db.session.refresh(phone_row)
    assert phone_row.revoke_reason == "revoked"


def test_revoking_the_current_session_signs_this_browser_out(app):
    user = make_user()
    laptop = browser(app, user)
    (row,) = rows(user)
    resp = laptop.post(f"/account/sessions/{row.id}/revoke")
    assert "/login" in resp.headers["Location"]
    assert not signed_in(laptop)


def test_nobody_revokes_another_users_session(app):
    user, intruder = make_user(), make_user(Role.PLATFORM_ADMIN)
    victim = browser(app, user)
    (row,) = rows(user)
    attacker = browser(app, intruder)
    assert attacker.post(f"/account/sessions/{row.id}/revoke").status_code == 404
    assert attacker.post("/account/sessions/999999999/revoke").status_code == 404
    assert signed_in(victim)


# ---------------------------------------------------------------------------- password, deactivation


def test_password_change_ends_every_other_session_and_keeps_this_one(app):
    user = make_user()
    laptop, phone = browser(app, user), browser(app, user, agent=WECHAT_IPHONE)
    resp = laptop.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "NewPass123", "confirm": "NewPass123"},
    )
    assert resp.status_code == 302
    assert signed_in(laptop)
    assert not signed_in(phone)
    reasons = [r.revoke_reason for r in rows(user)]
    assert reasons == [None, "password_changed"]


def test_password_change_service_keeps_only_the_given_session(app):
    user = make_user()
    for _ in range(3):
        sessions.start_session(user, ip="10.1.0.1", user_agent=None)
    keep = rows(user)[0].id
    ended = services.change_password(
        user, current_password=PASSWORD, new_password="NewPass123", keep_session_id=keep
    )
    assert ended == 2
    assert [r.id for r in rows(user) if r.revoked_at is None] == [keep]


def test_deactivation_ends_all_sessions_for_good(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    member = make_user(Role.INVENTOR, organization=admin.organization)
    laptop, phone = browser(app, member), browser(app, member, agent=WECHAT_IPHONE)
    services.set_user_active(member.id, False, actor=admin)
    services.set_user_active(member.id, True, actor=admin)  # reactivated: still signed out
    assert not signed_in(laptop) and not signed_in(phone)
    assert {r.revoke_reason for r in rows(member)} == {"deactivated"}


# ---------------------------------------------------------------------------- limits


def test_session_ends_after_its_absolute_lifetime(app):
    user = make_user()
    client = browser(app, user)
    (row,) = rows(user)
    assert row.expires_at - row.created_at == timedelta(hours=12)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert not signed_in(client)


def test_session_ends_when_idle_longer_than_the_idle_timeout(app):
    user = make_user()
    client = browser(app, user)
    (row,) = rows(user)
    row.last_seen_at = utcnow() - timedelta(minutes=119)
    db.session.commit()
    assert signed_in(client)  # 119 minutes idle: still fine, and now seen again
    row = rows(user)[0]
    row.last_seen_at = utcnow() - timedelta(minutes=121)
    db.session.commit()
    assert not signed_in(client)


def test_lifetime_and_idle_timeout_are_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_SESSION_LIFETIME_HOURS", 2)
    monkeypatch.setitem(app.config, "REVIVE_SESSION_IDLE_MINUTES", 5)
    user = make_user()
    client = browser(app, user)
    (row,) = rows(user)
    assert row.expires_at - row.created_at == timedelta(hours=2)
    row.last_seen_at = utcnow() - timedelta(minutes=6)
    db.session.commit()
    assert not signed_in(client)


def test_last_seen_is_written_at_most_once_a_minute(app):
    user = make_user()
    client = browser(app, user)
    (row,) = rows(user)
    seen = row.last_seen_at
    for _ in range(3):
        assert signed_in(client)
    assert rows(user)[0].last_seen_at == seen  # within the minute: no write
    row = rows(user)[0]
    row.last_seen_at = seen - timedelta(seconds=61)
    db.session.commit()
    client.environ_base["REMOTE_ADDR"] = "10.1.0.99"
    assert signed_in(client)
    row = rows(user)[0]
    assert row.last_seen_at > seen and row.ip == "10.1.0.99"


@pytest.mark.usefixtures("_data_dir")
def test_session_settings_defaults_from_the_environment(monkeypatch):
    from revive.config import load_config

    monkeypatch.delenv("REVIVE_SESSION_LIFETIME_HOURS", raising=False)
    monkeypatch.setenv("REVIVE_SESSION_IDLE_MINUTES", "30")
    cfg = load_config()
    assert cfg["REVIVE_SESSION_LIFETIME_HOURS"] == 12
    assert cfg["REVIVE_SESSION_IDLE_MINUTES"] == 30
    assert cfg["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)


# ---------------------------------------------------------------------------- fixation


def test_every_login_gets_a_new_session_token(app):
    user = make_user()
    client = app.test_client()
    with client.session_transaction() as sess:
        sess[sessions.SESSION_KEY] = "planted-by-an-attacker"
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as sess:
        first = sess[sessions.SESSION_KEY]
    assert first != "planted-by-an-attacker"
    client.post("/logout")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    with client.session_transaction() as sess:
        assert sess[sessions.SESSION_KEY] != first
    assert len(rows(user)) == 2


def test_ended_sessions_are_pruned_after_a_week(app):
    user = make_user()
    sessions.start_session(user, ip=None, user_agent=None)
    old = rows(user)[0]
    old.expires_at = utcnow() - timedelta(days=8)
    db.session.commit()
    sessions.start_session(user, ip=None, user_agent=None)
    (left,) = rows(user)
    assert left.expires_at > utcnow()


# ---------------------------------------------------------------------------- a form sent late


def test_a_form_sent_after_the_session_ended_says_it_was_not_saved(app):
    """An SME tester filled in a demand, was signed out in another tab, pressed 发布 and met a
    bare 请先登录 with an empty form after login. The login page now says the text was not
    saved and how to get it back, and leads back to the form's page (not the POST-only
    action it was sent to)."""
    user = make_user(Role.ENTERPRISE)
    client = browser(app, user)
    sessions.revoke_user_sessions(user.id, "logout")
    db.session.commit()
    resp = client.post(
        "/demands/new",
        data={"title": "耐盐碱水稻", "description": "需要一种耐盐碱水稻品种"},
        headers={"Referer": "http://localhost/demands/new"},
    )
    assert resp.status_code == 302 and "/login?next=" in resp.headers["Location"]
    assert "%2Fdemands%2Fnew" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "刚才提交的内容没有保存" in page and "返回" in page
    # a plain visit still just asks to sign in
    page = client.get("/demands/new", follow_redirects=True).get_data(as_text=True)
    assert "请先登录" in page and "没有保存" not in page
