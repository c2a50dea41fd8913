"""Account services: registration, invitations, login limits, members, colleges."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive.accounts import services, throttle
from revive.accounts.models import Invitation, Organization, OrgKind, Role, ThrottleEvent, User
from revive.db import as_utc, utcnow
from revive.errors import PermissionDenied, ValidationFailed
from revive.extensions import db
from tests.factories import PASSWORD, make_college, make_org, make_patent, make_user

CODE = "91350100M000100Y43"
OTHER_CODE = "914403001922038216"


def register(**overrides):
    fields = {
        "company_name": "福州某某科技有限公司",
        "credit_code": CODE,
        "region": "福建省福州市",
        "tags": ["专精特新", "高新技术企业"],
        "contact_name": "王经理",
        "email": "Wang@Example.com",
        "phone": "0591-12345678",
        "password": "Secret123",
    }
    fields.update(overrides)
    return services.register_enterprise(**fields)


# --- registration ---------------------------------------------------------------------------


def test_register_enterprise_creates_org_and_user(app):
    user = register(credit_code="９１３５０１００ｍ０００１００ｙ４３")
    org = user.organization
    assert user.role == Role.ENTERPRISE
    assert user.email == "wang@example.com"
    assert org.kind == OrgKind.ENTERPRISE
    assert org.credit_code == CODE  # stored canonical
    assert org.tag_list == ["专精特新", "高新技术企业"]
    assert services.authenticate("wang@example.com", "Secret123") == user


def test_register_rejects_duplicate_credit_code_with_clear_message(app):
    register()
    with pytest.raises(ValidationFailed) as excinfo:
        register(company_name="另一家公司", email="other@example.com")
    assert "该统一社会信用代码已注册" in excinfo.value.message
    assert excinfo.value.details == {"field": "credit_code"}
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 1


NAME = "福州某某科技有限公司"


@pytest.mark.parametrize(
    ("registered", "copy"),
    [
        (NAME, "福州某某\u200b科技有限公司"),  # a zero-width space inside
        (NAME, "福州某某科技有限公司\ufeff"),
        (NAME, "福州某某\u00a0科技有限公司"),  # a no-break space
        (NAME, "福州某某 科技 有限公司"),
        ("ABC" + NAME, "ＡＢＣ" + NAME),  # full-width letters
        ("Abc" + NAME, "aBC" + NAME),
    ],
)
def test_a_copy_of_a_registered_name_with_hidden_or_wide_characters_is_refused(
    app, registered, copy
):
    """A security review registered an existing company again with a zero-width space in its
    name and used the account at once, the top bar showing the real company's name."""
    from tests.demands.helpers import credit_code

    register(company_name=registered)
    with pytest.raises(ValidationFailed, match="该企业名称已注册"):
        register(company_name=copy, credit_code=credit_code(7), email="copy@example.com")
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 1


def test_an_invisible_character_is_dropped_from_a_new_name(app):
    user = register(company_name="\u200b福州某某科技 \u3000有限公司\u2060")
    assert user.organization.name == "福州某某科技 有限公司"


def test_register_rejects_bad_check_character_and_creates_nothing(app):
    with pytest.raises(ValidationFailed, match="第 18 位应为「3」"):
        register(credit_code="91350100M000100Y44")
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_register_rejects_taken_email(app):
    make_user(email="wang@example.com")
    with pytest.raises(ValidationFailed, match="该邮箱已注册"):
        register(credit_code=OTHER_CODE)
    assert (
        db.session.scalar(sa.select(Organization.id).where(Organization.credit_code == OTHER_CODE))
        is None
    )


@pytest.mark.parametrize(
    ("password", "message"), [("short1", "至少 8 位"), ("onlyletters", "字母和数字")]
)
def test_register_applies_password_policy(app, password, message):
    with pytest.raises(ValidationFailed, match=message):
        register(password=password)


# --- login limits ---------------------------------------------------------------------------
# (Before device cookies: five failures locked the account for everybody for 15 minutes, the
# owner included, and 20 failures locked every client behind one address. See
# test_login_throttle.py for the behaviour through HTTP.)


def _login(email: str, password: str, **kw) -> services.LoginResult:
    return services.login(email, password, **kw)


def test_untrusted_clients_are_refused_after_the_account_limit_even_with_the_right_password(app):
    user = make_user()
    limit = services.login_limits().account
    for _ in range(limit):
        assert _login(user.email, "wrong-password1", ip="10.0.1.1").user is None
    with pytest.raises(services.LoginRateLimited) as excinfo:
        _login(user.email, PASSWORD, ip="10.0.1.2")
    assert excinfo.value.status_code == 429
    assert "此前成功登录过该账号的浏览器上仍可正常登录" in excinfo.value.message


def test_the_owners_trusted_device_still_logs_in_past_the_account_limit(app):
    user = make_user()
    nonce = _login(user.email, PASSWORD, ip="10.0.1.1").device_nonce
    for _ in range(services.login_limits().account * 3):
        with contextlib.suppress(services.LoginRateLimited):
            _login(user.email, "wrong-password1", ip="10.0.9.9")
    result = _login(user.email, PASSWORD, ip="10.0.1.1", devices={user.id: nonce})
    assert result.user == user
    assert result.device_nonce and result.device_nonce != nonce  # a new nonce each sign-in


def test_failures_below_the_limit_do_not_refuse(app):
    user = make_user()
    for _ in range(services.login_limits().account - 1):
        _login(user.email, "wrong-password1")
    assert _login(user.email, PASSWORD).user == user


def test_inactive_user_cannot_log_in(app):
    user = make_user(is_active_flag=False)
    assert services.authenticate(user.email, PASSWORD) is None
    assert _login(user.email, PASSWORD).user is None


def _fail_many(ip: str, n: int, *, age: timedelta = timedelta(0)) -> None:
    at = utcnow() - age
    db.session.add_all(
        ThrottleEvent(scope=throttle.Scope.LOGIN_IP, key=ip, created_at=at) for _ in range(n)
    )
    db.session.commit()


def _events(scope: throttle.Scope, key: str | None = None) -> int:
    query = sa.select(sa.func.count(ThrottleEvent.id)).where(ThrottleEvent.scope == scope)
    if key is not None:
        query = query.where(ThrottleEvent.key == key)
    return db.session.scalar(query)


def test_untrusted_failures_are_recorded_per_ip_and_per_address(app):
    _login("nobody@example.com", "x", ip="10.0.0.1")
    user = make_user()
    _login(user.email, "wrong", ip="10.0.0.1")
    assert _events(throttle.Scope.LOGIN_IP, "10.0.0.1") == 2
    assert _events(throttle.Scope.LOGIN_ACCOUNT) == 2
    key = throttle.digest(user.email)
    assert _events(throttle.Scope.LOGIN_ACCOUNT, key) == 1  # a hash: no address stored


def test_trusted_device_failures_count_for_that_device_only(app):
    user = make_user()
    nonce = _login(user.email, PASSWORD).device_nonce
    _login(user.email, "wrong", ip="10.0.0.1", devices={user.id: nonce})
    assert _events(throttle.Scope.LOGIN_DEVICE, f"{user.id}:{nonce}") == 1
    assert _events(throttle.Scope.LOGIN_IP) == 0
    assert _events(throttle.Scope.LOGIN_ACCOUNT) == 0


def test_ip_with_too_many_recent_failures_refuses_untrusted_clients_only(app):
    user = make_user()
    nonce = _login(user.email, PASSWORD).device_nonce
    _fail_many("10.0.0.2", services.login_limits().ip)
    with pytest.raises(services.LoginRateLimited) as excinfo:
        _login(user.email, PASSWORD, ip="10.0.0.2")
    assert "当前网络地址" in excinfo.value.message
    # Another address is not affected, nor the user's own browser behind this one.
    assert _login(user.email, PASSWORD, ip="10.0.0.3").user == user
    assert _login(user.email, PASSWORD, ip="10.0.0.2", devices={user.id: nonce}).user == user


def test_ip_limit_counts_only_the_window(app):
    user = make_user()
    _fail_many("10.0.0.4", services.login_limits().ip, age=timedelta(minutes=16))
    _fail_many("10.0.0.4", services.login_limits().ip - 1)
    assert _login(user.email, PASSWORD, ip="10.0.0.4").user == user


def test_recording_a_failure_prunes_events_outside_the_window(app):
    _fail_many("10.0.0.5", 3, age=timedelta(hours=1))
    _login("nobody@example.com", "x", ip="10.0.0.6")
    assert _events(throttle.Scope.LOGIN_IP) == 1


def test_login_limits_are_settings(app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIVE_LOGIN_ACCOUNT_MAX_FAILURES", 2)
    user = make_user()
    for _ in range(2):
        _login(user.email, "wrong")
    with pytest.raises(services.LoginRateLimited):
        _login(user.email, PASSWORD)


def test_login_limit_defaults(app):
    limits = services.login_limits()
    assert (limits.window, limits.account, limits.device, limits.ip) == (
        timedelta(minutes=15),
        10,
        10,
        100,
    )


def test_change_password_checks_current_and_policy(app):
    user = make_user()
    with pytest.raises(ValidationFailed, match="当前密码不正确"):
        services.change_password(user, current_password="nope", new_password="NewPass123")
    with pytest.raises(ValidationFailed, match="至少 8 位"):
        services.change_password(user, current_password=PASSWORD, new_password="a1")
    services.change_password(user, current_password=PASSWORD, new_password="NewPass123")
    assert services.authenticate(user.email, "NewPass123") == user
    assert services.authenticate(user.email, PASSWORD) is None


# --- invitations ----------------------------------------------------------------------------


def test_invitation_stores_only_a_hash_and_expires_after_configured_days(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    invitation, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="Li@Uni.edu.cn",
        name="李老师",
        role=Role.INVENTOR,
    )
    assert token not in invitation.token_hash
    assert invitation.token_hash == services.hash_token(token)
    assert invitation.email == "li@uni.edu.cn"
    expires = as_utc(invitation.expires_at)
    expected = utcnow() + timedelta(days=app.config["REVIVE_INVITE_DAYS"])
    assert abs(expires - expected) < timedelta(minutes=1)


def test_accepting_invitation_creates_user_once(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    college = make_college(admin.organization)
    invitation, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="zhang@uni.edu.cn",
        name="张老师",
        role=Role.COLLEGE_ADMIN,
        college_id=college.id,
    )
    user = services.accept_invitation(token, password="Welcome123")
    assert (user.role, user.organization_id, user.college_id) == (
        Role.COLLEGE_ADMIN,
        admin.organization_id,
        college.id,
    )
    assert invitation.accepted_at is not None
    assert invitation.user_id == user.id
    assert services.authenticate("zhang@uni.edu.cn", "Welcome123") == user

    with pytest.raises(services.InvitationUnusable, match="已使用过"):
        services.accept_invitation(token, password="Another123")


def test_expired_invitation_is_refused(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    invitation, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="late@uni.edu.cn",
        name="迟到",
        role=Role.INVENTOR,
    )
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(services.InvitationUnusable, match="已过期"):
        services.accept_invitation(token, password="Welcome123")
    assert db.session.scalar(sa.select(User.id).where(User.email == "late@uni.edu.cn")) is None


def test_unknown_and_revoked_tokens_are_refused(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    with pytest.raises(services.InvitationUnusable, match="邀请链接无效"):
        services.get_usable_invitation("not-a-token")
    invitation, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="r@uni.edu.cn",
        name="撤销",
        role=Role.INVENTOR,
    )
    services.revoke_invitation(invitation.id, actor=admin)
    with pytest.raises(services.InvitationUnusable, match="已被撤销"):
        services.get_usable_invitation(token)


def test_new_invitation_replaces_pending_one_for_same_email(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    kw = {
        "actor": admin,
        "organization_id": admin.organization_id,
        "email": "x@uni.edu.cn",
        "name": "某",
        "role": Role.INVENTOR,
    }
    _, first = services.invite_user(**kw)
    _, second = services.invite_user(**kw)
    with pytest.raises(services.InvitationUnusable):
        services.get_usable_invitation(first)
    assert services.get_usable_invitation(second).email == "x@uni.edu.cn"


def test_another_universitys_invitation_to_the_same_address_stays_usable(app):
    """A security review: any university admin could cancel another university's pending
    invitation by inviting the same address. The first accepted makes the account; the other
    then says the address is registered."""
    a, b = make_user(Role.UNIVERSITY_ADMIN), make_user(Role.UNIVERSITY_ADMIN)
    kw = {"email": "x@uni.edu.cn", "name": "某", "role": Role.INVENTOR}
    _, from_a = services.invite_user(actor=a, organization_id=a.organization_id, **kw)
    _, from_b = services.invite_user(actor=b, organization_id=b.organization_id, **kw)
    assert services.get_usable_invitation(from_a).organization_id == a.organization_id
    user = services.accept_invitation(from_a, password="Str0ng-Pass-2026")
    assert user.organization_id == a.organization_id
    with pytest.raises(ValidationFailed):
        services.accept_invitation(from_b, password="Str0ng-Pass-2026")


def test_accepting_an_invitation_links_no_patent_by_name(app):
    # Was test_accepting_inventor_invitation_links_existing_patents: acceptance linked every
    # patent of the university naming whatever name the invitee typed. Now a name links
    # nothing; only patents the inviter ticked (tests/inventory/test_inventor_links.py).
    admin = make_user(Role.UNIVERSITY_ADMIN)
    victim = make_user(Role.INVENTOR, organization=admin.organization, name="王小明")
    patent = make_patent(admin.organization, inventors=[victim])
    patent.inventors = "王小明；李四"
    db.session.commit()
    _, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="ls@uni.edu.cn",
        name="李四",
        role=Role.INVENTOR,
    )
    # The invitee types someone else's name (or their own, printed on the same patent).
    user = services.accept_invitation(token, password="Welcome123", name="王小明")
    db.session.expire_all()
    assert user.name == "王小明"  # the display name is theirs to set …
    assert [u.id for u in patent.inventor_users] == [victim.id]  # … it links nothing


@pytest.mark.parametrize("role", [Role.COLLEGE_ADMIN, Role.INVENTOR, Role.ENTERPRISE, Role.OFFICER])
def test_only_university_or_platform_admin_may_invite(app, role):
    actor = make_user(role)
    university = make_org()
    with pytest.raises(PermissionDenied):
        services.invite_user(
            actor=actor,
            organization_id=actor.organization_id or university.id,
            email="n@uni.edu.cn",
            name="新人",
            role=Role.INVENTOR,
        )


def test_university_admin_cannot_invite_into_another_university(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    other = make_org()
    with pytest.raises(PermissionDenied):
        services.invite_user(
            actor=admin,
            organization_id=other.id,
            email="n@uni.edu.cn",
            name="新人",
            role=Role.INVENTOR,
        )
    other_college = make_college(other)
    with pytest.raises(PermissionDenied, match="本校的学院"):
        services.invite_user(
            actor=admin,
            organization_id=admin.organization_id,
            email="n@uni.edu.cn",
            name="新人",
            role=Role.COLLEGE_ADMIN,
            college_id=other_college.id,
        )
    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_college_admin_invitation_needs_a_college(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    with pytest.raises(ValidationFailed, match="必须选择所属学院"):
        services.invite_user(
            actor=admin,
            organization_id=admin.organization_id,
            email="c@uni.edu.cn",
            name="院管",
            role=Role.COLLEGE_ADMIN,
        )


def test_platform_admin_invites_into_any_university_but_not_enterprises(app):
    platform = make_user(Role.PLATFORM_ADMIN)
    university = make_org()
    invitation, _ = services.invite_user(
        actor=platform,
        organization_id=university.id,
        email="u@uni.edu.cn",
        name="校管",
        role=Role.UNIVERSITY_ADMIN,
    )
    assert invitation.organization_id == university.id
    company = make_org(kind=OrgKind.ENTERPRISE)
    with pytest.raises(ValidationFailed, match="只能为高校"):
        services.invite_user(
            actor=platform,
            organization_id=company.id,
            email="e@co.com",
            name="企",
            role=Role.INVENTOR,
        )


def test_cannot_invite_registered_email(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    with pytest.raises(ValidationFailed, match="该邮箱已注册"):
        services.invite_user(
            actor=admin,
            organization_id=admin.organization_id,
            email=admin.email.upper(),
            name="重复",
            role=Role.INVENTOR,
        )


# --- members, staff, colleges ---------------------------------------------------------------


def test_university_admin_deactivates_only_own_members(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    colleague = make_user(Role.INVENTOR, organization=admin.organization)
    stranger = make_user(Role.INVENTOR)
    services.set_user_active(colleague.id, False, actor=admin)
    assert not colleague.is_active
    assert services.authenticate(colleague.email, PASSWORD) is None
    with pytest.raises(PermissionDenied):
        services.set_user_active(stranger.id, False, actor=admin)
    with pytest.raises(ValidationFailed, match="不能停用自己"):
        services.set_user_active(admin.id, False, actor=admin)
    services.set_user_active(colleague.id, True, actor=admin)
    assert services.authenticate(colleague.email, PASSWORD) == colleague


def test_platform_admin_creates_staff_users_only(app):
    platform = make_user(Role.PLATFORM_ADMIN)
    officer = services.create_staff_user(
        actor=platform,
        email="officer@center.cn",
        name="技经",
        role=Role.OFFICER,
        password="Officer123",
        organization_name="某技术转移中心",
    )
    assert officer.organization.kind == OrgKind.OFFICE
    assert services.authenticate("officer@center.cn", "Officer123") == officer
    with pytest.raises(ValidationFailed, match="不能作为技术经理人的所属机构"):
        services.create_staff_user(
            actor=platform,
            email="o2@center.cn",
            name="技经二",
            role=Role.OFFICER,
            password="Officer123",
            organization_name=make_org(name="某大学").name,
        )
    with pytest.raises(ValidationFailed, match="高校成员请用邀请"):
        services.create_staff_user(
            actor=platform,
            email="inv@uni.cn",
            name="发明",
            role=Role.INVENTOR,
            password="Inventor123",
        )
    admin = make_user(Role.UNIVERSITY_ADMIN)
    with pytest.raises(PermissionDenied):
        services.create_staff_user(
            actor=admin,
            email="reg@ipo.gov.cn",
            name="监管",
            role=Role.REGULATOR,
            password="Regulator123",
        )


def test_colleges_are_added_and_renamed_within_own_university(app):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    college = services.add_college(
        actor=admin, organization_id=admin.organization_id, name=" 材料学院 "
    )
    assert college.name == "材料学院"
    with pytest.raises(ValidationFailed, match="已有名为「材料学院」"):
        services.add_college(actor=admin, organization_id=admin.organization_id, name="材料学院")
    services.rename_college(college.id, actor=admin, name="材料科学与工程学院")
    assert college.name == "材料科学与工程学院"

    other_admin = make_user(Role.UNIVERSITY_ADMIN)
    with pytest.raises(PermissionDenied):
        services.rename_college(college.id, actor=other_admin, name="抢走")
    with pytest.raises(PermissionDenied):
        services.add_college(actor=other_admin, organization_id=admin.organization_id, name="新")
    college_admin = make_user(Role.COLLEGE_ADMIN, organization=admin.organization, college=college)
    with pytest.raises(PermissionDenied):
        services.add_college(
            actor=college_admin, organization_id=admin.organization_id, name="新学院"
        )


def test_account_administration_is_in_the_audit_log(app):
    """Who invited whom as what, who accepted, revoked, created a staff account with a
    password of the admin's choosing, deactivated or reactivated an account: each is an audit
    event with its actor (the log regulators read)."""
    from tests.audit.helpers import events

    admin = make_user(Role.UNIVERSITY_ADMIN)
    invitation, token = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="li@uni.edu.cn",
        name="李老师",
        role=Role.INVENTOR,
    )
    [invited] = events(entity="invitation", action="create")
    assert (invited.entity_id, invited.actor_id) == (invitation.id, admin.id)
    assert invited.data["email"] == "li@uni.edu.cn" and invited.data["role"] == "inventor"
    assert invited.organization_id == admin.organization_id

    user = services.accept_invitation(token, password="Welcome123")
    assert user.last_login_at is not None  # accepting signs in: the members list says so
    [accepted] = events(entity="user", action="accept_invitation")
    assert (accepted.entity_id, accepted.actor_id) == (user.id, user.id)
    assert accepted.data["invitation_id"] == invitation.id

    other, _ = services.invite_user(
        actor=admin,
        organization_id=admin.organization_id,
        email="wang@uni.edu.cn",
        name="王老师",
        role=Role.INVENTOR,
    )
    services.revoke_invitation(other.id, actor=admin)
    [revoked] = events(entity="invitation", action="revoke")
    assert (revoked.entity_id, revoked.actor_id) == (other.id, admin.id)

    services.set_user_active(user.id, False, actor=admin)
    services.set_user_active(user.id, False, actor=admin)  # again: nothing changes
    services.set_user_active(user.id, True, actor=admin)
    assert [e.action for e in events(entity="user", entity_id=user.id)] == [
        "accept_invitation",
        "deactivate",
        "reactivate",
    ]

    platform = make_user(Role.PLATFORM_ADMIN)
    officer = services.create_staff_user(
        actor=platform, email="jl@example.cn", name="经理", role=Role.OFFICER, password="Officer123"
    )
    [staff] = events(entity="user", action="create_staff")
    assert (staff.entity_id, staff.actor_id) == (officer.id, platform.id)
    assert staff.data == {"email": "jl@example.cn", "role": "officer"}


def test_the_platform_admin_gives_a_registered_enterprise_an_account(app, client, auth):
    """An operator's demand import made enterprises nobody could log in to: registration
    refuses a registered company, and only university roles could be invited."""
    admin = make_user(Role.PLATFORM_ADMIN)
    company = make_org("包头钢联科技有限公司", kind=OrgKind.ENTERPRISE)
    university = make_org("某大学")
    auth.login(admin)
    page = client.get(f"/members?org={company.id}").get_data(as_text=True)
    assert 'id="enterprise-user"' in page
    assert 'id="enterprise-user"' not in client.get(f"/members?org={university.id}").get_data(
        as_text=True
    )
    resp = client.post(
        "/members/enterprise-users",
        data={"organization_id": company.id, "name": "王经理", "email": "Wang@GangL.com.cn"},
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "/password/reset/" in html
    assert resp.headers["Cache-Control"] == "no-store"
    user = db.session.scalar(sa.select(User).where(User.email == "wang@gangl.com.cn"))
    assert (user.role, user.organization_id) == (Role.ENTERPRISE, company.id)
    token = html.split("/password/reset/")[1].split('"')[0].split("<")[0]
    auth.logout()
    set_password = client.post(
        f"/password/reset/{token}", data={"password": "Welcome123", "confirm": "Welcome123"}
    )
    assert set_password.status_code in (200, 302)
    assert services.authenticate("wang@gangl.com.cn", "Welcome123") == user
    # Only for an enterprise, only by the platform admin.
    with pytest.raises(ValidationFailed, match="只能为已登记的企业"):
        services.create_enterprise_user(
            actor=admin, organization_id=university.id, email="a@b.cn", name="李"
        )
    with pytest.raises(PermissionDenied):
        services.create_enterprise_user(
            actor=make_user(Role.OFFICER), organization_id=company.id, email="c@d.cn", name="李"
        )
