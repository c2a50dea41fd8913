"""Account pages through HTTP: login, registration, invitations, members, CSRF."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts import services, throttle
from revive.accounts.models import Invitation, Organization, Role, ThrottleEvent, User
from revive.db import utcnow
from revive.extensions import db
from tests.factories import PASSWORD, make_college, make_org, make_user

LOGIN_FAILED = "邮箱或密码错误，或账号已停用"


def flashes(response) -> list[str]:
    return re.findall(r'class="flash[^"]*"[^>]*>([^<]*)<', response.get_data(as_text=True))


# --- login / logout -------------------------------------------------------------------------


def test_login_failure_message_is_identical_for_unknown_email_and_wrong_password(client):
    user = make_user()
    unknown = client.post("/login", data={"email": "ghost@example.com", "password": PASSWORD})
    wrong = client.post("/login", data={"email": user.email, "password": "Wrong1234"})
    assert unknown.status_code == wrong.status_code == 200
    assert flashes(unknown) == flashes(wrong) == [LOGIN_FAILED]


def test_login_success_redirects_to_dashboard(client, auth):
    user = make_user()
    response = auth.login(user)
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_logout_requires_post(client, auth):
    auth.login(make_user())
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200  # still logged in
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302  # now redirected to login


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "///evil.example",
    ],
)
def test_login_refuses_offsite_next(client, target):
    user = make_user()
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_login_follows_local_next(client):
    user = make_user()
    response = client.post(
        "/login",
        query_string={"next": "/members?org=1"},
        data={"email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/members?org=1"


def test_login_from_blocked_ip_gets_429_with_chinese_message(client):
    user = make_user()
    now = utcnow()
    db.session.add_all(
        ThrottleEvent(scope=throttle.Scope.LOGIN_IP, key="127.0.0.1", created_at=now)
        for _ in range(services.login_limits().ip)
    )
    db.session.commit()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


def test_deactivated_user_loses_an_open_session(client, auth):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    colleague = make_user(Role.INVENTOR, organization=admin.organization)
    auth.login(colleague)
    services.set_user_active(colleague.id, False, actor=admin)
    assert client.get("/").status_code == 302


# --- CSRF -----------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused_with_chinese_message(csrf_client):
    user = make_user()
    response = csrf_client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "表单令牌无效" in response.get_data(as_text=True)

    page = csrf_client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = csrf_client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


# --- enterprise registration ----------------------------------------------------------------

FORM = {
    "company_name": "呼和浩特某某新材料有限公司",
    "credit_code": "91350100m000100y43",
    "region": "内蒙古呼和浩特市",
    "tags": ["专精特新", "科技型中小企业"],
    "contact_name": "赵经理",
    "email": "zhao@example.com",
    "phone": "13800000000",
    "password": "Secret123",
    "confirm": "Secret123",
}


def test_register_page_creates_enterprise_then_the_user_logs_in(client):
    assert client.get("/register").status_code == 200
    response = client.post("/register", data=FORM)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?email=")
    # an SME tester read 「注册申请已受理」 as waiting for a review: the page says it is done,
    # with the address filled in
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "注册已完成，无需等待审核" in page and f'value="{FORM["email"]}"' in page
    org = db.session.scalar(
        sa.select(Organization).where(Organization.credit_code == "91350100M000100Y43")
    )
    assert org is not None
    assert org.tags == "专精特新,科技型中小企业"
    login = client.post("/login", data={"email": FORM["email"], "password": FORM["password"]})
    assert login.status_code == 302
    assert client.get("/").status_code == 200


def test_registering_a_taken_email_answers_like_a_new_account(client):
    """No user enumeration through the registration form: same status, redirect and message
    whether or not the address already has an account; nothing is created for it."""
    first = client.post("/register", data=FORM)
    first_page = client.get(first.headers["Location"]).get_data(as_text=True)
    again = {**FORM, "company_name": "另一家公司", "credit_code": _another_code()}
    second = client.post("/register", data=again)
    second_page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert (second.status_code, second.headers["Location"]) == (
        first.status_code,
        first.headers["Location"],
    )
    assert "注册已完成" in first_page and "注册已完成" in second_page
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Organization)
            .where(Organization.name == "另一家公司")
        )
        == 0
    )


def test_register_page_shows_check_character_error_under_field(client):
    response = client.post("/register", data={**FORM, "credit_code": "91350100M000100Y44"})
    assert response.status_code == 422
    assert "第 18 位应为「3」" in response.get_data(as_text=True)


def test_over_long_fields_are_refused_in_chinese(client):
    """Every length limit answers in Chinese, on the login and the registration pages: the
    user sees which field is too long, never WTForms' English default."""
    login = client.post("/login", data={"email": "a@example.com", "password": "x" * 300})
    register = client.post(
        "/register",
        data={**FORM, "credit_code": "9" * 60, "region": "区" * 150, "contact_name": "名" * 150},
    )
    for response in (login, register):
        assert response.status_code in (200, 422)
        assert "Field cannot" not in response.get_data(as_text=True)
    assert "密码过长" in login.get_data(as_text=True)
    page = register.get_data(as_text=True)
    assert "信用代码过长" in page and "地区过长" in page and "姓名过长" in page


def test_every_form_answers_in_chinese_where_a_validator_has_no_message(app):
    """Forms derive from revive.common.forms.Form, which takes WTForms' Chinese catalogue: a
    validator written without a message (here a length limit) still answers in Chinese."""
    from flask_wtf import FlaskForm
    from wtforms import StringField
    from wtforms.validators import Length

    from revive.common.forms import Form

    class Probe(Form):
        name = StringField("名称", validators=[Length(max=3)])

    with app.test_request_context("/", method="POST", data={"name": "四个字符"}):
        form = Probe(meta={"csrf": False})
        assert not form.validate()
        assert form.name.errors == ["字段长度不能超过 3 个字符。"]

    def forms_below(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from forms_below(sub)

    import revive.accounts.forms  # noqa: E401, F401

    stray = [
        f"{c.__module__}.{c.__name__}"
        for c in forms_below(FlaskForm)
        if c.__module__.startswith("revive.") and not issubclass(c, Form)
    ]
    assert stray == []


def test_register_page_reports_duplicate_credit_code(client):
    services.register_enterprise(
        company_name="先注册的公司",
        credit_code="91350100M000100Y43",
        region=None,
        tags=[],
        contact_name="甲",
        email="first@example.com",
        phone=None,
        password="Secret123",
    )
    response = client.post("/register", data=FORM)
    assert response.status_code == 422
    assert "该统一社会信用代码已注册" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User.id).where(User.email == "zhao@example.com")) is None


def test_register_page_rejects_mismatched_confirmation(client):
    response = client.post("/register", data={**FORM, "confirm": "Secret124"})
    assert response.status_code == 422
    assert "两次输入的密码不一致" in response.get_data(as_text=True)


# --- invitations ----------------------------------------------------------------------------


def invite(client, **data):
    payload = {"email": "new@uni.edu.cn", "name": "新老师", "role": "inventor", "college_id": "0"}
    payload.update(data)
    return client.post("/members/invite", data=payload)


def test_an_invitation_link_uses_the_public_address_behind_a_proxy(app, client, auth, monkeypatch):
    """Behind a reverse proxy the request's host may be an internal name: the link the admin
    sends out is built on REVIVE_BASE_URL, as password-reset links are."""
    monkeypatch.setitem(app.config, "REVIVE_BASE_URL", "https://revive.example.cn/")
    auth.login(make_user(Role.UNIVERSITY_ADMIN))
    page = invite(client).get_data(as_text=True)
    assert re.search(r'value="https://revive\.example\.cn/invite/[^"]+"', page)
    assert "http://localhost/invite/" not in page


def test_university_admin_invites_and_invitee_sets_password(client, auth):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    auth.login(admin)
    response = invite(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    link = re.search(r'value="(http://localhost/invite/[^"]+)"', response.get_data(as_text=True))
    assert link is not None
    auth.logout()

    path = link.group(1).removeprefix("http://localhost")
    assert "新老师" in client.get(path).get_data(as_text=True)
    response = client.post(
        path, data={"name": "新老师", "password": "Welcome123", "confirm": "Welcome123"}
    )
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "new@uni.edu.cn"))
    assert user.role == Role.INVENTOR
    assert user.organization_id == admin.organization_id

    # The link works only once.
    client.post("/logout")
    reused = client.get(path)
    assert reused.status_code == 410
    assert "已使用过" in reused.get_data(as_text=True)


def test_university_admin_cannot_invite_into_another_university(client, auth):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    other = make_org()
    auth.login(admin)
    assert invite(client, organization_id=str(other.id)).status_code == 403
    other_college = make_college(other)
    response = invite(client, role="college_admin", college_id=str(other_college.id))
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


@pytest.mark.parametrize(
    "role", [Role.COLLEGE_ADMIN, Role.INVENTOR, Role.ENTERPRISE, Role.OFFICER, Role.REGULATOR]
)
def test_other_roles_cannot_invite_or_see_members(client, auth, role):
    user = make_user(role)
    auth.login(user)
    assert invite(client, organization_id=str(user.organization_id or "")).status_code == 403
    assert client.get("/members").status_code == 403


def test_expired_invitation_link_shows_clear_message(client):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    invitation, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="late@uni.edu.cn",
        name="迟到",
        role=Role.INVENTOR,
    )
    invitation.expires_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    response = client.get(f"/invite/{token}")
    assert response.status_code == 410
    assert "该邀请链接已过期，请联系学校管理员重新邀请" in response.get_data(as_text=True)
    response = client.post(
        f"/invite/{token}", data={"name": "迟到", "password": "Welcome123", "confirm": "Welcome123"}
    )
    assert response.status_code == 410


def test_accept_invite_enforces_password_policy(client):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    _, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="weak@uni.edu.cn",
        name="弱",
        role=Role.INVENTOR,
    )
    response = client.post(
        f"/invite/{token}", data={"name": "弱", "password": "abcdefgh", "confirm": "abcdefgh"}
    )
    assert response.status_code == 422
    assert "密码须同时包含字母和数字" in response.get_data(as_text=True)
    assert services.get_usable_invitation(token).accepted_at is None


# --- members page ---------------------------------------------------------------------------


def test_members_page_lists_own_university_only(client, auth):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    colleague = make_user(Role.INVENTOR, organization=admin.organization, name="本校同事")
    stranger = make_user(Role.INVENTOR, name="外校老师")
    auth.login(admin)
    page = client.get("/members").get_data(as_text=True)
    assert colleague.email in page
    assert "本校同事" in page
    assert stranger.email not in page
    assert client.get(f"/members?org={stranger.organization_id}").status_code == 403


def _invite_pending(admin):
    """An inventor invited to the admin's university, not yet joined."""
    invitation, _ = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="p@uni.edu.cn",
        name="待定",
        role=Role.INVENTOR,
    )
    return invitation


def test_members_page_deactivates_and_revokes(client, auth):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    colleague = make_user(Role.INVENTOR, organization=admin.organization)
    stranger = make_user(Role.INVENTOR)
    invitation = _invite_pending(admin)
    auth.login(admin)
    assert client.post(f"/members/{colleague.id}/deactivate").status_code == 302
    db.session.refresh(colleague)
    assert not colleague.is_active
    assert client.post(f"/members/{stranger.id}/deactivate").status_code == 403
    assert client.post(f"/invitations/{invitation.id}/revoke").status_code == 302
    db.session.refresh(invitation)
    assert invitation.revoked_at is not None


def test_university_admin_adds_and_renames_college(client, auth):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    auth.login(admin)
    assert client.post("/colleges", data={"name": "化学学院"}).status_code == 302
    college = admin.organization.colleges[0]
    client.post(f"/colleges/{college.id}/rename", data={"name": "化学化工学院"})
    db.session.refresh(college)
    assert college.name == "化学化工学院"
    assert "化学化工学院" in client.get("/members").get_data(as_text=True)


def test_platform_admin_sees_all_organizations_and_creates_staff(client, auth):
    platform = make_user(Role.PLATFORM_ADMIN)
    university = make_org(name="某某大学")
    make_user(Role.INVENTOR, organization=university, name="某某大学的老师")
    auth.login(platform)
    page = client.get("/members").get_data(as_text=True)
    assert "某某大学" in page
    assert "某某大学的老师" in client.get(f"/members?org={university.id}").get_data(as_text=True)
    response = client.post(
        "/members/staff",
        data={
            "email": "reg@ipo.gov.cn",
            "name": "监管员",
            "role": "regulator",
            "password": "Regulator123",
            "organization_name": "某省知识产权局",
        },
    )
    assert response.status_code == 302
    regulator = db.session.scalar(sa.select(User).where(User.email == "reg@ipo.gov.cn"))
    assert regulator.role == Role.REGULATOR
    assert invite(client, organization_id=str(university.id)).status_code == 200


def test_the_members_page_lists_people_and_colleges_in_styled_tables_cards_on_a_phone(client, auth):
    """A design review: the members' and colleges' tables had no table style, their buttons
    did not line up, and at 375 px the page was 519 px wide. Every table is a .table in a
    .table-wrap that turns into cards on a phone, its buttons in one row, the same ones in the
    same order on every row."""
    from tests.phone_cards import assert_cards_on_phone

    admin = make_user(Role.UNIVERSITY_ADMIN)
    college = make_college(admin.organization, "材料学院")
    make_user(Role.INVENTOR, organization=admin.organization, college=college, name="发明人甲")
    make_user(Role.COLLEGE_ADMIN, organization=admin.organization, college=college)
    _invite_pending(admin)
    auth.login(admin)
    page = client.get("/members").get_data(as_text=True)
    members = assert_cards_on_phone(page, "members-list")
    for table_id in ("invitations-list", "colleges-list"):
        assert_cards_on_phone(page, table_id)
    assert len(members.rows) == 3
    buttons = {}
    for row in page.split("<tr data-user-id=")[1:]:
        cell = row.split('<td class="card-actions">', 1)[1].split("</td>", 1)[0]
        assert 'class="actions row-actions"' in cell
        name = re.search(r'<td class="card-head">([^<]+)</td>', row).group(1)
        buttons[name] = re.findall(r'class="(?:button )?small[^"]*"[^>]*>([^<]+)<', cell)
    # the same buttons in the same place on every row; an inventor's 关联专利 last
    assert buttons["发明人甲"] == ["重置密码", "停用", "关联专利"], buttons
    assert buttons[admin.name] == [], buttons  # not one's own account
    assert sorted(buttons.values())[1:] == [["重置密码", "停用"], ["重置密码", "停用", "关联专利"]]
    assert "visually-hidden" not in page  # an undefined class showed the rename label
    assert 'class="sr-only" for="college-name-' in page

    platform = make_user(Role.PLATFORM_ADMIN)
    auth.logout()
    auth.login(platform)
    page = client.get("/members").get_data(as_text=True)
    assert_cards_on_phone(page, "organizations-list")
    assert_cards_on_phone(page, "staff-list")


def test_change_password_page(client, auth):
    user = make_user(Role.ENTERPRISE)
    auth.login(user)
    assert client.get("/account/password").status_code == 200
    bad = client.post(
        "/account/password",
        data={"current_password": "nope", "new_password": "NewPass123", "confirm": "NewPass123"},
    )
    assert bad.status_code == 422
    assert "当前密码不正确" in bad.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "NewPass123", "confirm": "NewPass123"},
    )
    assert ok.status_code == 302
    assert services.authenticate(user.email, "NewPass123") == user


def _another_code() -> str:
    from tests.demands.helpers import credit_code

    return credit_code()


def test_a_university_without_an_admin_is_offered_an_admin_invitation_first(client, auth):
    platform = make_user(Role.PLATFORM_ADMIN)
    auth.login(platform)
    org = make_org("新大学")
    page = client.get(f"/members?org={org.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="university_admin"', page)
    make_user(Role.UNIVERSITY_ADMIN, organization=org)
    page = client.get(f"/members?org={org.id}").get_data(as_text=True)
    assert re.search(r'<option selected value="inventor"', page)
