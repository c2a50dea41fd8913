"""Password recovery: reset by e-mail (忘记密码) and reset by an admin."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from revive.accounts import recovery
from revive.accounts.models import PasswordReset, Role, User, UserSession
from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.extensions import db
from tests.factories import PASSWORD, make_org, make_user

NEW = "Fresh-pass42"
LINK = re.compile(r"(?:https?://[^\s]+)?/password/reset/([A-Za-z0-9_\-]+)")


def fresh(app, ip: str = "10.40.0.1"):
    g.pop("_login_user", None)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def signed_in_browser(app, user, password: str = PASSWORD, ip: str = "10.40.0.1"):
    client = fresh(app, ip)
    resp = client.post("/login", data={"email": user.email, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    return client


def signed_in(client) -> bool:
    g.pop("_login_user", None)
    return client.get("/").status_code == 200


def can_log_in(app, user, password: str) -> bool:
    g.pop("_login_user", None)
    resp = fresh(app, "10.41.0.1").post("/login", data={"email": user.email, "password": password})
    return resp.status_code == 302


def ask(app, email: str, ip: str = "10.40.0.1"):
    return fresh(app, ip).post("/password/forgot", data={"email": email})


def logged_token(caplog) -> str:
    (match,) = [m for r in caplog.records if (m := LINK.search(r.getMessage()))]
    caplog.clear()
    return match.group(1)


def resets(user) -> list[PasswordReset]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(PasswordReset).where(PasswordReset.user_id == user.id).order_by("id")
        )
    )


def flashes(resp) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', resp.get_data(as_text=True))


@pytest.fixture
def link_log(caplog):
    caplog.set_level(logging.INFO, logger="revive.accounts.recovery")
    return caplog


# ---------------------------------------------------------------------------- by e-mail


def test_login_page_links_to_forgot_password(client):
    assert "/password/forgot" in client.get("/login").get_data(as_text=True)
    assert client.get("/password/forgot").status_code == 200


def test_forgot_password_answers_the_same_whatever_the_address(app, link_log):
    active, inactive = make_user(), make_user(is_active_flag=False)
    answers = []
    for email in (active.email, "nobody@example.cn", inactive.email):
        resp = ask(app, email)
        shown = fresh(app).post("/password/forgot", data={"email": email}, follow_redirects=True)
        answers.append((resp.status_code, resp.headers["Location"], tuple(flashes(shown))))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 302 and "尚未配置邮件发送" in answers[0][2][0]  # no SMTP here
    # Only the active account got links (one per request), nobody else.
    assert len(resets(active)) == 2 and resets(inactive) == []
    assert db.session.scalar(sa.select(sa.func.count(PasswordReset.id))) == 2


def test_without_smtp_the_link_is_logged_at_info_for_the_operator(app, link_log):
    user = make_user()
    shown = fresh(app).post("/password/forgot", data={"email": user.email}, follow_redirects=True)
    # an operator's users were told the link had been e-mailed
    (said,) = [f for f in flashes(shown) if "邮件" in f]
    assert "尚未配置邮件发送" in said and "已发送" not in said
    link_log.clear()
    ask(app, user.email)
    token = logged_token(link_log)
    assert fresh(app).get(f"/password/reset/{token}").status_code == 200
    ask(app, "nobody@example.cn")
    assert not any(LINK.search(r.getMessage()) for r in link_log.records)


def test_the_logged_link_never_takes_the_askers_host(app, link_log, monkeypatch):
    """The anonymous request chooses its Host header: a trial had the operator's log say
    http://evil.example/password/reset/<a real user's token>, for the operator to pass on."""
    user = make_user()
    fresh(app).post(
        "/password/forgot", data={"email": user.email}, headers={"Host": "evil.example"}
    )
    (logged,) = [r.getMessage() for r in link_log.records if "/password/reset/" in r.getMessage()]
    assert "evil.example" not in logged and "请在前面加上本站地址" in logged
    link_log.clear()
    # nor the mount point a forged SCRIPT_NAME says (gunicorn took it from a trusted proxy)
    fresh(app).post(
        "/password/forgot",
        data={"email": user.email},
        environ_overrides={"SCRIPT_NAME": "//evil.example"},
    )
    (logged,) = [r.getMessage() for r in link_log.records if "/password/reset/" in r.getMessage()]
    assert "evil.example" not in logged and logged.split(": ", 1)[1].startswith("/password/")
    link_log.clear()
    monkeypatch.setitem(app.config, "REVIVE_BASE_URL", "https://revive.example.cn")
    fresh(app).post(
        "/password/forgot", data={"email": user.email}, headers={"Host": "evil.example"}
    )
    (logged,) = [r.getMessage() for r in link_log.records if "/password/reset/" in r.getMessage()]
    assert "https://revive.example.cn/password/reset/" in logged and "evil.example" not in logged


def test_only_a_hash_of_the_token_is_stored(app, link_log):
    user = make_user()
    ask(app, user.email)
    token = logged_token(link_log)
    (reset,) = resets(user)
    assert reset.token_hash == hashlib.sha256(token.encode()).hexdigest()
    row = " ".join(str(v) for v in db.session.execute(sa.select(PasswordReset.__table__)).one())
    assert token not in row


def test_the_link_sets_a_new_password_once_and_ends_every_session(app, link_log):
    user = make_user()
    laptop, phone = signed_in_browser(app, user), signed_in_browser(app, user)
    ask(app, user.email)
    token = logged_token(link_log)
    browser = fresh(app)
    page = browser.get(f"/password/reset/{token}")
    assert page.status_code == 200 and user.email in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    resp = browser.post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert not signed_in(laptop) and not signed_in(phone)
    reasons = {s.revoke_reason for s in db.session.scalars(sa.select(UserSession))}
    assert reasons == {"password_reset"}
    assert can_log_in(app, user, NEW) and not can_log_in(app, user, PASSWORD)
    again = fresh(app).post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert again.status_code == 410 and "已使用过" in again.get_data(as_text=True)
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "user"))
    assert (event.action, event.actor_id, event.data["via"]) == ("password_reset", user.id, "email")


def test_using_one_link_voids_the_others(app, link_log):
    user = make_user()
    ask(app, user.email)
    first = logged_token(link_log)
    ask(app, user.email)
    second = logged_token(link_log)
    assert fresh(app).get(f"/password/reset/{first}").status_code == 200  # both usable
    fresh(app).post(f"/password/reset/{second}", data={"password": NEW, "confirm": NEW})
    resp = fresh(app).get(f"/password/reset/{first}")
    assert resp.status_code == 410 and "取代" in resp.get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "message"),
    [("short1", "至少 8 位"), ("password123", "过于常见"), ("onlyletters", "字母和数字")],
)
def test_the_new_password_follows_the_policy(app, link_log, password, message):
    user = make_user(email="wang@example.cn")
    ask(app, user.email)
    token = logged_token(link_log)
    resp = fresh(app).post(
        f"/password/reset/{token}", data={"password": password, "confirm": password}
    )
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert resets(user)[0].used_at is None  # still usable
    assert can_log_in(app, user, PASSWORD)


def test_links_expire_after_the_configured_minutes(app, link_log):
    user = make_user()
    ask(app, user.email)
    token = logged_token(link_log)
    (reset,) = resets(user)
    assert reset.expires_at - reset.created_at == timedelta(minutes=30)
    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = fresh(app).post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 410 and "已过期" in resp.get_data(as_text=True)
    assert can_log_in(app, user, PASSWORD)


def test_link_lifetime_is_a_setting(app, link_log, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_PASSWORD_RESET_MINUTES", 10)
    user = make_user()
    ask(app, user.email)
    (reset,) = resets(user)
    assert reset.expires_at - reset.created_at == timedelta(minutes=10)


@pytest.mark.parametrize("token", ["x", "a" * 5000, "%00", "..%2F..%2Flogin", "ü"])
def test_bad_tokens_get_410_never_500(client, token):
    for method in ("get", "post"):
        resp = getattr(client, method)(f"/password/reset/{token}")
        # a NUL anywhere in a request is refused at the edge (revive.input_guard): 400
        expected = (400,) if token == "%00" else (404, 410)
        assert resp.status_code in expected, (method, token, resp.status_code)


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", "x" * 300 + "@example.cn"])
def test_bad_addresses_get_422(client, email):
    resp = client.post("/password/forgot", data={"email": email})
    assert resp.status_code == 422


def test_reset_requests_are_limited_per_address_silently(app, link_log):
    user = make_user()
    for n in range(4):
        resp = ask(app, user.email, ip=f"10.42.0.{n}")
        assert resp.status_code == 302
    assert len(resets(user)) == 3  # the fourth within the hour sent nothing, said the same


def test_reset_requests_are_limited_per_client_with_429(app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_RESET_MAX_PER_IP", 3)
    for n in range(3):
        assert ask(app, f"someone{n}@example.cn", ip="10.43.0.1").status_code == 302
    resp = ask(app, "another@example.cn", ip="10.43.0.1")
    assert resp.status_code == 429
    assert "重置密码的请求过于频繁" in resp.get_data(as_text=True)
    assert ask(app, "another@example.cn", ip="10.43.0.2").status_code == 302


def test_completing_a_reset_trusts_the_browser_while_strangers_are_throttled(app, link_log):
    user = make_user()
    for n in range(10):  # a stranger has locked untrusted clients out of the account
        fresh(app, f"203.0.113.{n}").post(
            "/login", data={"email": user.email, "password": "Wrong12345"}
        )
    ask(app, user.email)
    token = logged_token(link_log)
    browser = fresh(app)
    browser.post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    g.pop("_login_user", None)
    resp = browser.post("/login", data={"email": user.email, "password": NEW})
    assert resp.status_code == 302
    assert not can_log_in(app, user, NEW)  # an untrusted client still gets 429


def test_with_smtp_the_worker_emails_the_link_and_the_queue_carries_only_the_id(
    app, enqueued, monkeypatch
):
    import smtplib

    from tests.notifications.test_services import FakeSMTP
    from workers import tasks

    FakeSMTP.instances, FakeSMTP.fail_with = [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    monkeypatch.setitem(app.config, "REVIVE_BASE_URL", "https://revive.example.cn")
    user = make_user()
    assert ask(app, user.email).status_code == 302
    ask(app, "nobody@example.cn")
    (reset,) = resets(user)
    assert enqueued == [("notifications.password_reset_email", (reset.id,))]
    tasks.send_password_reset_email(reset.id)
    tasks.send_password_reset_email(reset.id)  # twice: sent once
    (message,) = [m for s in FakeSMTP.instances for m in s.sent]
    assert message["To"].addresses[0].addr_spec == user.email
    body = message.get_content()
    assert "重置" in body and "30 分钟" in body
    token = re.search(r"https://revive\.example\.cn/password/reset/(\S+)", body).group(1)
    resp = fresh(app).post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 302 and can_log_in(app, user, NEW)


def test_a_broker_outage_does_not_change_the_answer(app, monkeypatch):
    from revive import queue
    from revive.errors import ServiceUnavailable

    def down(*args):
        raise ServiceUnavailable()

    monkeypatch.setattr(queue, "enqueue", down)
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    user = make_user()
    known, unknown = ask(app, user.email), ask(app, "nobody@example.cn")
    assert known.status_code == unknown.status_code == 302


# ---------------------------------------------------------------------------- by an admin


def test_university_admin_resets_a_member_with_a_link_shown_once(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    member = make_user(Role.INVENTOR, organization=admin.organization)
    laptop = signed_in_browser(app, member)
    console = signed_in_browser(app, admin)
    resp = console.post(f"/members/{member.id}/reset-password")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    page = resp.get_data(as_text=True)
    token = LINK.search(page).group(1)
    assert "只显示这一次" in page
    assert console.get("/members").get_data(as_text=True).count(token) == 0  # shown once
    assert not signed_in(laptop)  # the member's sessions ended…
    assert not can_log_in(app, member, PASSWORD)  # …and the old password is void
    (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.entity == "user"))
    assert (event.action, event.entity_id, event.actor_id, event.organization_id) == (
        "password_reset_link",
        member.id,
        admin.id,
        admin.organization_id,
    )
    (reset,) = resets(member)
    assert reset.expires_at - reset.created_at == timedelta(hours=24)
    assert reset.issued_by_id == admin.id
    resp = fresh(app).post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 302 and can_log_in(app, member, NEW)
    events = list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
    assert (events[-1].action, events[-1].actor_id, events[-1].data["via"]) == (
        "password_reset",
        member.id,
        "admin",
    )


def test_an_admin_reset_voids_earlier_links(app, link_log):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    member = make_user(Role.INVENTOR, organization=admin.organization)
    ask(app, member.email)
    emailed = logged_token(link_log)
    recovery.issue_admin_reset(member.id, actor=admin)
    assert fresh(app).get(f"/password/reset/{emailed}").status_code == 410


def test_university_admin_resets_only_members_of_their_university(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    stranger = make_user(Role.INVENTOR, organization=make_org())
    officer = make_user(Role.OFFICER)
    console = signed_in_browser(app, admin)
    for user in (stranger, officer):
        assert console.post(f"/members/{user.id}/reset-password").status_code == 403
        assert resets(user) == [] and can_log_in(app, user, PASSWORD)
    assert console.post("/members/999999999/reset-password").status_code == 404


@pytest.mark.parametrize("role", [Role.INVENTOR, Role.COLLEGE_ADMIN, Role.ENTERPRISE, Role.OFFICER])
def test_other_roles_cannot_reset_anybody(app, role):
    actor = make_user(role)
    colleague = make_user(
        Role.INVENTOR if actor.organization is None else actor.role,
        organization=actor.organization,
    )
    assert signed_in_browser(app, actor).post(
        f"/members/{colleague.id}/reset-password"
    ).status_code in (403, 404)
    assert resets(colleague) == []


def test_platform_admin_resets_anyone(app):
    platform = make_user(Role.PLATFORM_ADMIN)
    console = signed_in_browser(app, platform)
    for user in (
        make_user(Role.OFFICER),
        make_user(Role.ENTERPRISE),
        make_user(Role.UNIVERSITY_ADMIN),
        make_user(Role.PLATFORM_ADMIN),
    ):
        resp = console.post(f"/members/{user.id}/reset-password")
        assert resp.status_code == 200, user.role
        assert LINK.search(resp.get_data(as_text=True))
        assert len(resets(user)) == 1


def test_nobody_resets_their_own_or_a_deactivated_account_this_way(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    gone = make_user(Role.INVENTOR, organization=admin.organization, is_active_flag=False)
    console = signed_in_browser(app, admin)
    for user in (admin, gone):
        resp = console.post(f"/members/{user.id}/reset-password", follow_redirects=True)
        assert resp.status_code == 200
        assert resets(user) == []
    assert can_log_in(app, admin, PASSWORD)


def test_a_link_of_a_deactivated_account_is_unusable(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    member = make_user(Role.INVENTOR, organization=admin.organization)
    _, token = recovery.issue_admin_reset(member.id, actor=admin)
    from revive.accounts import services

    services.set_user_active(member.id, False, actor=admin)
    resp = fresh(app).post(f"/password/reset/{token}", data={"password": NEW, "confirm": NEW})
    assert resp.status_code == 410 and "已停用" in resp.get_data(as_text=True)
    assert db.session.get(User, member.id).is_active is False


def test_expired_links_are_pruned_after_a_month(app, link_log):
    user = make_user()
    ask(app, user.email)
    (old,) = resets(user)
    old.expires_at = utcnow() - timedelta(days=31)
    db.session.commit()
    ask(app, "nobody@example.cn")  # any request prunes, whatever the address
    assert resets(user) == []
