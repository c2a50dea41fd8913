"""E-mail confirmation of self-registered enterprise accounts (accounts/confirm.py)."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import g

from revive.accounts import recovery
from revive.accounts.models import Organization, PasswordReset, Role, User
from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.extensions import db
from tests.accounts.test_views import FORM, flashes
from tests.factories import make_user
from tests.notifications.test_services import FakeSMTP
from workers import tasks

CONFIRM_LINK = re.compile(r"https://revive\.example\.cn/email/confirm/(\S+)")
LOGIN = {"email": FORM["email"], "password": FORM["password"]}


@pytest.fixture
def smtp(app, enqueued, monkeypatch):
    """SMTP configured (so registrations must confirm); the queued e-mails are sent by
    calling the worker's task, and FakeSMTP records them."""
    FakeSMTP.instances, FakeSMTP.fail_with = [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    monkeypatch.setitem(app.config, "REVIVE_BASE_URL", "https://revive.example.cn")

    def deliver() -> list:
        """The e-mails queued since the last call, sent."""
        for name, args in list(enqueued):
            if name == recovery.EMAIL_TASK:
                tasks.send_password_reset_email(*args)
        enqueued.clear()
        sent = [m for s in FakeSMTP.instances for m in s.sent]
        FakeSMTP.instances = []
        return sent

    return deliver


def fresh(app, ip: str = "10.50.0.1"):
    g.pop("_login_user", None)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def registered(app, form: dict | None = None):
    client = fresh(app)
    resp = client.post("/register", data=form or FORM)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


def token_from(message) -> str:
    return CONFIRM_LINK.search(message.get_content()).group(1)


def user_by_email(email: str) -> User:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def test_with_smtp_a_new_registration_signs_in_only_after_the_emailed_link(app, smtp):
    client = registered(app)
    assert any("验证邮件已发送到注册邮箱" in f for f in flashes(client.get("/login")))
    (message,) = smtp()
    assert message["To"].addresses[0].addr_spec == FORM["email"]
    assert "验证注册邮箱" in message["Subject"] and FORM["company_name"] in message.get_content()
    token = token_from(message)
    # the right password is not enough yet: 403 with the reason and a resend button
    resp = fresh(app).post("/login", data=LOGIN)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "邮箱尚未验证" in page and "重新发送验证邮件" in page
    assert user_by_email(FORM["email"]).last_login_at is None
    # the link's page confirms only on the button (a scanner's GET changes nothing)
    browser = fresh(app)
    assert browser.get(f"/email/confirm/{token}").status_code == 200
    assert user_by_email(FORM["email"]).email_confirmed_at is None
    done = browser.post(f"/email/confirm/{token}")
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    user = user_by_email(FORM["email"])
    assert user.email_confirmed_at is not None
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "confirm_email"))
    assert event is not None and event.entity_id == user.id
    assert fresh(app).post("/login", data=LOGIN).status_code == 302
    # once only
    again = fresh(app).get(f"/email/confirm/{token}")
    assert again.status_code == 410 and "已经验证过" in again.get_data(as_text=True)


def test_without_smtp_a_registration_signs_in_at_once(app, enqueued):
    registered(app)
    assert user_by_email(FORM["email"]).email_confirmed_at is not None
    assert fresh(app).post("/login", data=LOGIN).status_code == 302
    assert enqueued == []


def test_the_answer_is_the_same_for_a_taken_address(app, smtp):
    registered(app)
    smtp()
    other = {**FORM, "company_name": "另一家公司", "credit_code": "91110108MA01ABCDEN"}
    client = registered(app, other)
    assert any("验证邮件已发送到注册邮箱" in f for f in flashes(client.get("/login")))
    assert smtp() == []  # nothing is sent to the address's owner, nothing created


def test_a_wrong_password_says_nothing_about_confirmation(app, smtp):
    registered(app)
    resp = fresh(app).post("/login", data={**LOGIN, "password": "Wrong-pass1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "邮箱尚未验证" not in page and "邮箱或密码错误" in page


def test_resend_voids_the_old_link_and_is_limited(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_CONFIRM_RESEND_PER_HOUR", 2)
    registered(app)
    (first,) = smtp()
    browser = fresh(app)
    assert browser.post("/login", data=LOGIN).status_code == 403
    assert browser.post("/email/confirm/resend").status_code == 302
    second = smtp()[-1]
    assert token_from(second) != token_from(first)
    old = fresh(app).get(f"/email/confirm/{token_from(first)}")
    assert old.status_code == 410 and "最新的一封" in old.get_data(as_text=True)
    assert browser.post("/email/confirm/resend").status_code == 302
    assert browser.post("/email/confirm/resend").status_code == 302
    assert any("每小时最多重新发送 2 次" in f for f in flashes(browser.get("/login")))
    assert fresh(app).post(f"/email/confirm/{token_from(smtp()[-1])}").status_code == 302


def test_resend_needs_the_right_password_first(app, smtp):
    registered(app)
    smtp()
    resp = fresh(app).post("/email/confirm/resend")
    assert resp.status_code == 302
    assert smtp() == []


def test_an_expired_link_is_refused_in_chinese(app, smtp):
    registered(app)
    token = token_from(smtp()[0])
    db.session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    resp = fresh(app).get(f"/email/confirm/{token}")
    assert resp.status_code == 410 and "已过期" in resp.get_data(as_text=True)


def test_the_confirmation_link_cannot_set_a_password_nor_a_reset_link_confirm(app, smtp):
    registered(app)
    token = token_from(smtp()[0])
    assert fresh(app).get(f"/password/reset/{token}").status_code == 410
    _, reset = recovery.issue_admin_reset(
        make_user(Role.ENTERPRISE).id, actor=make_user(Role.PLATFORM_ADMIN)
    )
    assert fresh(app).get(f"/email/confirm/{reset}").status_code == 410


def test_an_expired_registration_no_longer_holds_the_company(app, smtp):
    """A squatter registers a real company with an address they never confirm: once the link
    has expired, the company registers itself (the code, the name and an address freed)."""
    registered(app, {**FORM, "email": "squatter@example.com"})
    smtp()
    real = {**FORM, "email": "real@example.com"}
    taken = fresh(app).post("/register", data=real)  # answered as any registration is
    assert taken.status_code == 302 and user_by_email("real@example.com") is None
    db.session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    registered(app, real)
    assert user_by_email("squatter@example.com") is None
    orgs = db.session.scalars(
        sa.select(Organization).where(Organization.credit_code == "91350100M000100Y43")
    ).all()
    assert len(orgs) == 1 and user_by_email("real@example.com").organization_id == orgs[0].id
    assert fresh(app).post(f"/email/confirm/{token_from(smtp()[-1])}").status_code == 302


def test_a_confirmed_or_pending_registration_is_kept(app, smtp):
    registered(app)  # link still valid: the code stays taken
    smtp()
    resp = fresh(app).post("/register", data={**FORM, "email": "real@example.com"})
    assert resp.status_code == 302 and user_by_email("real@example.com") is None
    assert user_by_email(FORM["email"]) is not None


def test_an_emailed_password_reset_also_proves_the_mailbox(app, smtp):
    registered(app)
    smtp()
    fresh(app).post("/password/forgot", data={"email": FORM["email"]})
    body = smtp()[-1].get_content()
    token = re.search(r"https://revive\.example\.cn/password/reset/(\S+)", body).group(1)
    new = "Fresh-pass42"
    fresh(app).post(f"/password/reset/{token}", data={"password": new, "confirm": new})
    assert user_by_email(FORM["email"]).email_confirmed_at is not None
    assert fresh(app).post("/login", data={**LOGIN, "password": new}).status_code == 302


def test_the_member_list_shows_an_unconfirmed_address(app, smtp, client, auth):
    registered(app)
    user = user_by_email(FORM["email"])
    auth.login(make_user(Role.PLATFORM_ADMIN))
    page = client.get(f"/members?org={user.organization_id}").get_data(as_text=True)
    assert FORM["email"] in page and "邮箱未验证" in page


def test_with_confirmation_a_registered_company_answers_like_a_new_one(app, smtp):
    """A security review registered an address, then the same credit code with a fresh address:
    the second answer told whether the first address had an account."""
    registered(app)
    smtp()
    again = fresh(app).post("/register", data={**FORM, "email": "second@example.com"})
    assert again.status_code == 302 and smtp() == []
    assert user_by_email("second@example.com") is None


def test_registrations_are_limited_per_client_address(app, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_REGISTER_PER_IP", 2)
    from tests.demands.helpers import credit_code

    codes = [credit_code() for _ in range(3)]
    client = fresh(app, "10.60.0.1")
    for n, code in enumerate(codes[:2]):
        form = {
            **FORM,
            "email": f"r{n}@example.com",
            "company_name": f"公司{n}",
            "credit_code": code,
        }
        assert client.post("/register", data=form).status_code == 302
    form = {**FORM, "email": "r9@example.com", "company_name": "公司9", "credit_code": codes[2]}
    capped = client.post("/register", data=form)
    assert capped.status_code == 429 and capped.headers["Retry-After"] == "3600"
    assert "每小时最多注册 2 次" in capped.get_data(as_text=True)
    assert fresh(app, "10.60.0.2").post("/register", data=form).status_code == 302


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("company_name", "请立即访问 http://evil.example/x 领取补贴有限公司"),
        ("contact_name", "www.x.cn"),
    ],
)
def test_no_links_in_the_names_the_confirmation_email_quotes(app, smtp, field, value):
    resp = fresh(app).post("/register", data={**FORM, field: value})
    assert resp.status_code == 422 and "不能包含网址" in resp.get_data(as_text=True)
    assert smtp() == []
