"""Personal API tokens: made on the account page (shown once, stored hashed), Bearer requests
without CSRF acting as the user within the token's scope, expiry, revocation by the owner and
the owner's managers, deactivation, and the audit trail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts import services, tokens
from revive.accounts.models import ApiToken, Role, TokenScope
from revive.audit.models import AuditEvent
from revive.db import utcnow
from revive.errors import ValidationFailed
from revive.extensions import db
from tests.factories import PASSWORD, make_org, make_user
from tests.security.world import sign_in


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(user, scope=TokenScope.WRITE, **kw) -> str:
    return tokens.create_token(actor=user, name=kw.pop("name", "同步"), scope=scope, **kw)[1]


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.entity == "api_token", AuditEvent.action == action)
            .order_by(AuditEvent.id)
        )
    )


# ---------------------------------------------------------------------------- the account page


def test_a_token_is_shown_once_and_only_its_hash_is_stored(app, client, auth):
    user = make_user(Role.UNIVERSITY_ADMIN)
    auth.login(user)
    expires = (tokens.today_beijing() + timedelta(days=30)).isoformat()
    resp = client.post(
        "/account/tokens",
        data={"name": "科技处系统", "scope": "read", "expires_on": expires, "password": PASSWORD},
    )
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    html = resp.get_data(as_text=True)
    token = re.search(r'value="(rvk_[^"]+)"', html).group(1)
    assert html.count(token) == 1  # in the one read-only field, nowhere else (title, links)
    assert "<title>账号与安全 · Revive" in html
    row = db.session.scalar(sa.select(ApiToken))
    assert row.token_hash == tokens.hash_token(token) and token not in row.token_hash
    assert row.prefix == token[:10] and row.scope == TokenScope.READ
    # valid through the chosen day, Beijing time (midnight after it, UTC+8)
    assert row.expires_at == tokens.end_of_day(tokens.today_beijing() + timedelta(days=30))
    assert row.expires_at.hour == 16
    # The page lists it afterwards, without the token.
    page = client.get("/account").get_data(as_text=True)
    assert "科技处系统" in page and f"{row.prefix}…" in page and token not in page
    assert (tokens.today_beijing() + timedelta(days=30)).isoformat() in page  # 有效期至
    (created,) = events("create")
    assert created.actor_id == user.id and created.organization_id == user.organization_id
    assert created.data["scope"] == "read" and created.data["prefix"] == row.prefix
    assert token not in str(created.data)


def test_the_form_offers_the_default_expiry_and_needs_the_csrf_token(app, csrf_client):
    user = make_user(Role.ENTERPRISE)
    sign_in(csrf_client, user.id)
    page = csrf_client.get("/account").get_data(as_text=True)
    default = (tokens.today_beijing() + timedelta(days=90)).isoformat()
    assert f'value="{default}"' in page
    refused = csrf_client.post(
        "/account/tokens", data={"name": "x", "scope": "read", "expires_on": default}
    )
    assert refused.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "scope": "read"}, "请填写令牌名称"),
        ({"name": "x", "scope": "admin"}, "请选择权限"),
        ({"name": "x", "scope": "read", "expires_on": "明年"}, "日期格式应为"),
        ({"name": "x", "scope": "read", "expires_on": "2000-01-01"}, "有效期不能早于今天"),
        ({"name": "x", "scope": "read", "expires_on": "2999-01-01"}, "有效期最长 365 天"),
        ({"name": "x" * 101, "scope": "read"}, "名称过长"),
        # a stolen session cookie alone does not make a token that outlives the session
        ({"name": "x", "scope": "read", "password": ""}, "请输入当前密码"),
        ({"name": "x", "scope": "read", "password": "wrong-Passw0rd"}, "当前密码不正确"),
    ],
)
def test_bad_token_forms_are_refused_in_chinese(app, client, auth, form, message):
    auth.login(make_user(Role.INVENTOR))
    form.setdefault("expires_on", tokens.default_expiry_date().isoformat())
    form.setdefault("password", PASSWORD)
    resp = client.post("/account/tokens", data=form)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_a_user_holds_at_most_twenty_live_tokens(app):
    user = make_user(Role.OFFICER)
    for n in range(tokens.MAX_LIVE_TOKENS):
        new_token(user, name=f"t{n}")
    with pytest.raises(ValidationFailed, match="最多同时持有 20 个"):
        new_token(user)


# ---------------------------------------------------------------------------- bearer requests


def test_a_bearer_token_acts_as_its_user_without_csrf(app, client, enqueued):
    user = make_user(Role.UNIVERSITY_ADMIN)
    token = new_token(user)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        listed = client.get("/api/v1/patents", headers=bearer(token))
        body = {"application_no": "201710601862.3", "title": "一种污水脱氮工艺"}
        created = client.post("/api/v1/patents", json=body, headers=bearer(token))
        # The same write from a browser session without the CSRF token is still refused.
        browser = app.test_client()
        sign_in(browser, user.id)
        forged = browser.post("/api/v1/patents", json=body)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "no-store"
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["institution"]["id"] == user.organization_id
    assert forged.status_code == 400
    assert "Set-Cookie" not in listed.headers  # no session is opened for a token
    row = db.session.scalar(sa.select(ApiToken))
    assert row.last_used_at is not None


@pytest.mark.parametrize(
    ("header", "hint"), [(None, None), ("Token rvk_abc", "收到的是「Token …」，应为 Bearer")]
)
def test_a_write_without_a_token_is_told_to_bring_one(csrf_client, header, hint):
    """An integrator's POST without a token (or with "Token" for "Bearer") read the web form's
    「页面已过期或表单令牌无效」 as a 400."""
    headers = {"Authorization": header} if header else {}
    resp = csrf_client.post("/api/v1/patents", json={"title": "x"}, headers=headers)
    body = resp.get_json()
    assert resp.status_code == 401 and body["error"] == "unauthorized"
    assert "Authorization: Bearer" in body["message"] and "表单" not in body["message"]
    assert (hint in body["message"]) if hint else "收到的是" not in body["message"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_read_token_may_not_write(app, client):
    token = new_token(make_user(Role.UNIVERSITY_ADMIN), scope=TokenScope.READ)
    assert client.get("/api/v1/patents", headers=bearer(token)).status_code == 200
    resp = client.post("/api/v1/notifications/read-all", headers=bearer(token))
    assert resp.status_code == 403
    assert resp.get_json()["error"] == "forbidden" and "只读" in resp.get_json()["message"]


def test_the_role_of_the_tokens_user_still_decides(app, client):
    token = new_token(make_user(Role.ENTERPRISE))
    assert client.get("/api/v1/review/queue", headers=bearer(token)).status_code == 403


@pytest.mark.parametrize(
    "header",
    ["Bearer rvk_unknown", "Bearer ", "bearer rvk_x", "Bearer a b"],
)
def test_unknown_tokens_are_a_401_json(app, client, header):
    resp = client.get("/api/v1/patents", headers={"Authorization": header})
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "unauthorized"


def test_a_bad_token_wins_over_a_signed_in_session(app, client, auth):
    """A Bearer request is authenticated by the token alone, never by the cookie beside it."""
    auth.login(make_user(Role.OFFICER))
    assert client.get("/api/v1/patents").status_code == 200
    resp = client.get("/api/v1/patents", headers=bearer("rvk_nothing"))
    assert resp.status_code == 401


def test_the_header_does_nothing_on_pages(app, client, auth):
    token = new_token(make_user(Role.OFFICER))
    resp = client.get("/demands/", headers=bearer(token))
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_an_expired_token_is_a_401(app, client):
    user = make_user(Role.OFFICER)
    token = new_token(user)
    row = db.session.scalar(sa.select(ApiToken))
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = client.get("/api/v1/patents", headers=bearer(token))
    assert resp.status_code == 401 and "过期" in resp.get_json()["message"]


def test_deactivating_a_user_revokes_their_tokens(app, client):
    uni = make_org("甲大学")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni)
    member = make_user(Role.INVENTOR, organization=uni)
    token = new_token(member)
    assert client.get("/api/v1/patents", headers=bearer(token)).status_code == 200
    services.set_user_active(member.id, False, actor=admin)
    resp = client.get("/api/v1/patents", headers=bearer(token))
    assert resp.status_code == 401
    row = db.session.scalar(sa.select(ApiToken))
    assert row.revoke_reason == "deactivated" and row.revoked_by_id == admin.id
    (revoked,) = events("revoke")
    assert revoked.actor_id == admin.id and revoked.data["reason"] == "deactivated"
    # Reactivation does not bring the token back.
    services.set_user_active(member.id, True, actor=admin)
    assert client.get("/api/v1/patents", headers=bearer(token)).status_code == 401


def test_a_deactivated_users_token_is_refused_even_if_not_revoked(app, client):
    user = make_user(Role.OFFICER)
    token = new_token(user)
    user.is_active_flag = False  # e.g. set directly in the database
    db.session.commit()
    resp = client.get("/api/v1/patents", headers=bearer(token))
    assert resp.status_code == 401 and "停用" in resp.get_json()["message"]


# ---------------------------------------------------------------------------- revocation


def test_the_owner_revokes_a_token_on_the_account_page(app, client, auth):
    user = make_user(Role.ENTERPRISE)
    token = new_token(user)
    auth.login(user)
    row = db.session.scalar(sa.select(ApiToken))
    resp = client.post(f"/account/tokens/{row.id}/revoke")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account")
    assert client.get("/api/v1/demands", headers=bearer(token)).status_code == 401
    (revoked,) = events("revoke")
    assert revoked.actor_id == user.id and revoked.data["reason"] == "owner"
    again = client.post(f"/account/tokens/{row.id}/revoke", follow_redirects=True)
    assert "已被撤销" in again.get_data(as_text=True)


def test_a_university_admin_sees_and_revokes_only_their_members_tokens(app, client, auth):
    uni, other = make_org("甲大学"), make_org("乙大学")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni)
    member = make_user(Role.INVENTOR, organization=uni, name="甲发明人")
    stranger = make_user(Role.INVENTOR, organization=other, name="乙发明人")
    new_token(member, name="甲的令牌")
    new_token(stranger, name="乙的令牌")
    mine, theirs = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id)).all()
    auth.login(admin)
    page = client.get("/members/tokens").get_data(as_text=True)
    assert "甲的令牌" in page and "乙的令牌" not in page
    assert client.get(f"/members/tokens?org={other.id}").status_code == 403
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    resp = client.post(f"/account/tokens/{mine.id}/revoke", data={"back": "members"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/members/tokens")
    db.session.expire_all()
    assert mine.revoke_reason == "admin" and mine.revoked_by_id == admin.id
    assert theirs.revoked_at is None


def test_the_platform_admin_sees_everyones_tokens(app, client, auth):
    uni = make_org("甲大学")
    new_token(make_user(Role.INVENTOR, organization=uni), name="甲的令牌")
    new_token(make_user(Role.OFFICER), name="专员的令牌")
    auth.login(make_user(Role.PLATFORM_ADMIN))
    page = client.get("/members/tokens").get_data(as_text=True)
    assert "甲的令牌" in page and "专员的令牌" in page
    one = client.get(f"/members/tokens?org={uni.id}").get_data(as_text=True)
    assert "甲的令牌" in one and "专员的令牌" not in one


def test_nobody_else_may_revoke_a_token(app, client, auth):
    owner = make_user(Role.OFFICER)
    new_token(owner)
    row = db.session.scalar(sa.select(ApiToken))
    auth.login(make_user(Role.OFFICER))
    assert client.post(f"/account/tokens/{row.id}/revoke").status_code == 404
    db.session.expire_all()
    assert row.revoked_at is None


def test_a_401_from_the_api_says_which_scheme_it_accepts(app, client):
    """RFC 6750: an anonymous API call is told to send a bearer token; a refused token is
    told it is invalid. Pages keep the login redirect."""
    anonymous = client.get("/api/v1/patents")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="Revive API"'
    refused = client.get("/api/v1/patents", headers=bearer("rv_not_a_token"))
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].endswith('error="invalid_token"')
    page = client.get("/patents/")
    assert page.status_code == 302 and "WWW-Authenticate" not in page.headers


def test_the_public_description_ignores_a_token_it_does_not_need(client):
    for url in ("/api/v1/openapi.json", "/healthz"):
        assert client.get(url, headers=bearer("rv_stale_token")).status_code == 200, url


def test_changing_or_resetting_the_password_revokes_tokens_and_pending_reset_links(
    app, client, auth
):
    """A security review: tokens made with a stolen cookie outlived the victim's clean-up
    (password change, admin reset, reset by e-mail), and a reset link asked for before a
    password change still set a new password after it."""
    from revive.accounts import recovery, services
    from revive.accounts.models import PasswordReset

    user = make_user(Role.INVENTOR)
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=user.organization)
    _, token = tokens.create_token(actor=user, name="同步", scope=TokenScope.WRITE)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/patents", headers=headers).status_code == 200
    recovery.request_password_reset(user.email, ip="203.0.113.9")
    link = db.session.scalar(sa.select(PasswordReset).where(PasswordReset.user_id == user.id))

    auth.login(user)
    changed = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "N3w-Secret-2026",
            "confirm": "N3w-Secret-2026",
        },
        follow_redirects=True,
    )
    assert "1 个 API 令牌已撤销" in changed.get_data(as_text=True)
    auth.logout()
    assert client.get("/api/v1/patents", headers=headers).status_code == 401
    db.session.expire_all()
    assert db.session.get(PasswordReset, link.id).revoked_at is not None
    (revoked,) = events("revoke")
    assert revoked.data["reason"] == "password_changed"

    for reset in (
        lambda: recovery.issue_admin_reset(user.id, actor=admin),
        lambda: recovery.complete_password_reset(
            recovery.issue_admin_reset(user.id, actor=admin)[1], password="An0ther-Pass!2026"
        ),
    ):
        _, again = tokens.create_token(actor=user, name="同步", scope=TokenScope.READ)
        reset()
        answer = client.get("/api/v1/patents", headers={"Authorization": f"Bearer {again}"})
        assert answer.status_code == 401
    assert services.check_current_password(user, "An0ther-Pass!2026") is None
