"""开放许可实施申请: an enterprise applies to a declared open licence with the declared terms
(a snapshot kept), its details and intended use and the acceptance of the terms; the holder
is told and confirms or records the signature with a date; the applicant may withdraw; one
held application per enterprise and declaration; a withdrawn declaration takes none. Pages,
the JSON API, the menu's count and the dashboard's figures."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from revive import clock
from revive.accounts.models import OrgKind, Role
from revive.audit.models import AuditEvent
from revive.errors import InvalidTransition, NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.licensing import applications, queries, services
from revive.licensing.display import SCOPE
from revive.licensing.models import ApplicationStatus, LicenceApplication
from revive.notifications.models import Notification
from tests.factories import make_org, make_user
from tests.licensing.helpers import make_declaration, valid_body

pytestmark = pytest.mark.dialect  # the partial unique index, JSON, FILTER counts

DETAILS = {
    "contact_name": "赵经理",
    "contact_phone": "0471-1234567",
    "contact_email": "zhao@example.com",
    "intended_use": "用于本公司复合材料产线，年产 500 吨。",
    "accept_terms": "1",
}


@pytest.fixture
def decl(world, enqueued):
    """A declaration by the college admin on 甲大学's entered patent (of the admin's college)."""
    return services.declare(
        world.own.id,
        valid_body(terms="许可期内提供技术指导"),
        actor=world.users[Role.COLLEGE_ADMIN],
    )


@pytest.fixture
def ent(world):
    return world.users[Role.ENTERPRISE]


def _apply(decl, actor, **overrides):
    return applications.apply(decl.id, {**DETAILS, **overrides}, actor=actor)


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.entity == "licence_application", AuditEvent.action == action
            )
        )
    )


# ---------------------------------------------------------------------------- services


def test_applying_keeps_the_declared_terms_and_tells_the_holder(world, decl, ent):
    a = _apply(decl, ent)
    assert a.status == ApplicationStatus.SUBMITTED and a.terms_accepted
    assert a.enterprise_id == ent.organization_id and a.applicant_name == "丙科技有限公司"
    t = a.terms
    assert t["fee_summary"] == "一次性付费 50 万元" and t["lump_sum_wan"] == "50"
    assert t["period"] == "2025-01-01 至 2027-12-31" and t["scope"] == SCOPE
    assert t["terms"] == "许可期内提供技术指导" and t["declaration_version"] == decl.version
    (event,) = _events("apply")
    assert event.actor_id == ent.id and event.organization_id == world.uni_a.id
    assert event.data["declaration_id"] == decl.id
    # The holder: the university's admin and — the college declared it — the college's admin.
    told = {
        n.user_id
        for n in db.session.scalars(
            sa.select(Notification).where(Notification.kind == "licence_application")
        )
    }
    assert told == {world.users[Role.UNIVERSITY_ADMIN].id, world.users[Role.COLLEGE_ADMIN].id}


def test_a_university_declaration_tells_only_the_university(world, ent, enqueued):
    d = services.declare(world.own.id, valid_body(), actor=world.users[Role.UNIVERSITY_ADMIN])
    _apply(d, ent)
    told = set(
        db.session.scalars(
            sa.select(Notification.user_id).where(Notification.kind == "licence_application")
        )
    )
    assert told == {world.users[Role.UNIVERSITY_ADMIN].id}


def test_the_holder_is_emailed_when_smtp_is_configured(
    world, decl, ent, app, enqueued, monkeypatch
):
    monkeypatch.setitem(app.config, "REVIVE_SMTP_HOST", "smtp.example.cn")
    _apply(decl, ent)
    assert len([t for t, _ in enqueued if t == "notifications.email"]) == 2


def test_one_held_application_per_enterprise_and_declaration(world, decl, ent):
    first = _apply(decl, ent)
    with pytest.raises(InvalidTransition, match="请勿重复申请"):
        _apply(decl, ent)
    # Another member of the same enterprise is the same applicant.
    colleague = make_user(Role.ENTERPRISE, organization=ent.organization)
    with pytest.raises(InvalidTransition):
        _apply(decl, colleague)
    # Another enterprise applies freely: the fee is the same for every licensee.
    other = make_user(Role.ENTERPRISE, organization=make_org("丁公司", kind=OrgKind.ENTERPRISE))
    assert _apply(decl, other).status == ApplicationStatus.SUBMITTED
    applications.act(first.id, "withdraw", actor=ent, note="改用其他方案")
    again = _apply(decl, ent)
    applications.act(again.id, "sign", actor=world.users[Role.UNIVERSITY_ADMIN])
    with pytest.raises(InvalidTransition, match="已与专利权人签订"):
        _apply(decl, ent)


def test_the_database_keeps_one_held_application_too(world, decl, ent):
    _apply(decl, ent)
    dup = LicenceApplication(
        declaration_id=decl.id,
        patent_id=decl.patent_id,
        enterprise_id=ent.organization_id,
        applicant_name="丙科技有限公司",
        contact_name="x",
        contact_phone="12345",
        intended_use="x",
        terms_accepted=True,
        terms={},
    )
    db.session.add(dup)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_withdrawn_declaration_refuses_new_applications(world, decl, ent):
    services.withdraw(decl.id, actor=world.users[Role.UNIVERSITY_ADMIN])
    with pytest.raises(InvalidTransition, match="该开放许可声明已撤回，不再接受实施申请"):
        _apply(decl, ent)
    with pytest.raises(InvalidTransition, match="已撤回"):
        applications.application_form(decl.id, actor=ent)
    # A declaration the holder can still see says it in the form's place.
    assert applications._problem(decl, None) == applications.WITHDRAWN_DECLARATION


def test_an_ended_period_refuses_new_applications(world, ent):
    d = make_declaration(world.other, end_date=clock.local_today() - timedelta(days=1))
    with pytest.raises(InvalidTransition, match="届满"):
        _apply(d, ent)


@pytest.mark.parametrize(
    ("override", "key", "message"),
    [
        ({"accept_terms": ""}, "accept_terms", "请确认接受声明的许可条件"),
        ({"accept_terms": False}, "accept_terms", "不接受议价"),
        ({"contact_name": " "}, "contact_name", "请填写联系人"),
        ({"contact_phone": "电话"}, "contact_phone", "联系电话格式不正确"),
        ({"contact_email": "zhao"}, "contact_email", "联系邮箱格式不正确"),
        ({"intended_use": "用" * 2001}, "intended_use", "不能超过 2000 字"),
        ({"intended_use": 42}, "intended_use", "须为文字"),
    ],
)
def test_the_applicants_details_are_checked(world, decl, ent, override, key, message):
    with pytest.raises(ValidationFailed) as err:
        _apply(decl, ent, **override)
    assert message in err.value.details[key]
    assert not db.session.scalar(sa.select(sa.func.count(LicenceApplication.id)))


def test_only_enterprises_apply(world, decl):
    for role in (Role.UNIVERSITY_ADMIN, Role.OFFICER, Role.INVENTOR):
        with pytest.raises(PermissionDenied):
            _apply(decl, world.users[role])


def test_the_holder_confirms_then_signs_with_dates_and_the_enterprise_hears(world, decl, ent):
    a = _apply(decl, ent)
    holder = world.users[Role.COLLEGE_ADMIN]
    today = clock.local_today()
    applications.act(a.id, "confirm", actor=holder, note="请尽快联系学院办公室")
    assert a.status == ApplicationStatus.CONFIRMED and a.confirmed_on == today
    applications.act(a.id, "sign", actor=holder, on=today.isoformat())
    assert a.status == ApplicationStatus.SIGNED and a.signed_on == today
    notes = list(
        db.session.scalars(
            sa.select(Notification).where(Notification.organization_id == ent.organization_id)
        )
    )
    assert [n.title for n in notes] == [
        "甲大学确认了您的开放许可实施申请",
        "甲大学已登记与您签订开放许可",
    ]
    assert "请尽快联系学院办公室" in notes[0].body
    (confirm,) = _events("confirm")
    assert confirm.data["from_status"] == "submitted" and confirm.data["to_status"] == "confirmed"
    with pytest.raises(InvalidTransition):
        applications.act(a.id, "withdraw", actor=ent)


@pytest.mark.parametrize(
    ("on", "message"),
    [("2999-01-01", "不能晚于今天"), ("2000-01-01", "不能早于申请日期"), ("昨天", "YYYY-MM-DD")],
)
def test_the_holders_date_is_checked(world, decl, ent, on, message):
    a = _apply(decl, ent)
    with pytest.raises(ValidationFailed, match=message):
        applications.act(a.id, "confirm", actor=world.users[Role.UNIVERSITY_ADMIN], on=on)


def test_who_may_see_and_act_on_an_application(world, decl, ent):
    a = _apply(decl, ent)
    other_college = make_user(Role.COLLEGE_ADMIN, college=world.college_a2)
    other_ent = make_user(Role.ENTERPRISE, organization=make_org("戊公司", kind=OrgKind.ENTERPRISE))
    for user in (other_college, other_ent, world.users[Role.INVENTOR]):
        with pytest.raises(NotFoundError):
            applications.act(a.id, "confirm", actor=user)
    with pytest.raises(PermissionDenied):  # reads everything, decides nothing
        applications.act(a.id, "confirm", actor=world.users[Role.REGULATOR])
    with pytest.raises(PermissionDenied):  # the holder cannot withdraw the enterprise's
        applications.act(a.id, "withdraw", actor=world.users[Role.UNIVERSITY_ADMIN])
    with pytest.raises(PermissionDenied):
        applications.act(a.id, "confirm", actor=ent)
    page = queries.application_page(world.users[Role.REGULATOR], 1, 10)
    assert [x.id for x in page.items] == [a.id]
    assert not queries.application_page(other_college, 1, 10).items


def test_the_snapshot_survives_a_new_declaration(world, decl, ent):
    a = _apply(decl, ent)
    admin = world.users[Role.UNIVERSITY_ADMIN]
    services.withdraw(decl.id, actor=admin)
    services.declare(world.own.id, valid_body(lump_sum_wan="80"), actor=admin)
    db.session.expire_all()
    assert db.session.get(LicenceApplication, a.id).terms["fee_summary"] == "一次性付费 50 万元"


def test_counts_for_the_menu_and_the_dashboard(world, decl, ent):
    admin = world.users[Role.UNIVERSITY_ADMIN]
    make_declaration(world.other)  # 乙大学: no application
    a = _apply(decl, ent)
    assert queries.awaiting_count(admin) == 1
    assert queries.awaiting_count(world.users[Role.COLLEGE_ADMIN]) == 1
    assert queries.awaiting_count(ent) is None
    applications.act(a.id, "sign", actor=admin)
    assert queries.awaiting_count(admin) == 0
    from revive.inventory.models import Patent

    figs = queries.application_figures(sa.true())
    assert (figs.declarations, figs.active, figs.applied, figs.applications, figs.signed) == (
        2,
        2,
        1,
        1,
        1,
    )
    mine = queries.application_figures(Patent.institution_id == world.uni_a.id)
    assert (mine.declarations, mine.applications) == (1, 1)


# ---------------------------------------------------------------------------- pages


def test_the_form_shows_the_declared_terms_and_no_price_field(world, decl, ent, client, auth):
    auth.login(ent)
    page = client.get(f"/open-licences/{decl.id}/apply").get_data(as_text=True)
    assert "一次性付费 50 万元" in page and "2025-01-01 至 2027-12-31" in page and SCOPE in page
    assert 'name="accept_terms"' in page and 'name="csrf_token"' in page
    assert "不接受议价" in page
    assert not [
        name for name in ("fee", "price", "amount", "lump_sum_wan") if f'name="{name}"' in page
    ]


def test_applying_through_the_pages(world, decl, ent, client, auth):
    auth.login(ent)
    bad = client.post(f"/open-licences/{decl.id}/apply", data={**DETAILS, "accept_terms": ""})
    assert bad.status_code == 422 and "请确认接受声明的许可条件" in bad.get_data(as_text=True)
    resp = client.post(f"/open-licences/{decl.id}/apply", data=DETAILS)
    a = db.session.scalar(sa.select(LicenceApplication))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(
        f"/open-licences/applications/{a.id}"
    )
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已提交" in page and "撤回申请" in page and "一次性付费 50 万元" in page
    again = client.post(f"/open-licences/{decl.id}/apply", data=DETAILS, follow_redirects=True)
    assert "请勿重复申请" in again.get_data(as_text=True)
    detail = client.get(f"/open-licences/{decl.id}").get_data(as_text=True)
    assert f"/open-licences/applications/{a.id}" in detail
    listing = client.get("/open-licences/applications").get_data(as_text=True)
    assert f'data-application-id="{a.id}"' in listing


def test_the_holder_confirms_and_the_applicant_withdraws_through_the_pages(
    world, decl, ent, client, auth
):
    a = _apply(decl, ent)
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    nav = client.get("/").get_data(as_text=True).split('<nav class="mainnav"', 1)[1]
    assert 'aria-label="1 件实施申请待确认"' in nav.split("</nav>", 1)[0]
    page = client.get(f"/open-licences/applications/{a.id}").get_data(as_text=True)
    assert "确认申请" in page and "赵经理" in page and "0471-1234567" in page
    future = client.post(
        f"/open-licences/applications/{a.id}/confirm",
        data={"date": "2999-01-01"},
        follow_redirects=True,
    )
    assert "日期不能晚于今天" in future.get_data(as_text=True)
    client.post(f"/open-licences/applications/{a.id}/confirm", data={"note": "欢迎来访"})
    assert db.session.get(LicenceApplication, a.id).status == ApplicationStatus.CONFIRMED
    auth.logout()
    auth.login(ent)
    resp = client.post(f"/open-licences/applications/{a.id}/withdraw", data={"reason": "预算调整"})
    assert resp.status_code == 302
    db.session.expire_all()
    a = db.session.get(LicenceApplication, a.id)
    assert a.status == ApplicationStatus.WITHDRAWN and a.withdraw_reason == "预算调整"


def test_a_withdrawn_declaration_says_so_on_its_form(world, decl, ent, client, auth):
    services.withdraw(decl.id, actor=world.users[Role.UNIVERSITY_ADMIN])
    auth.login(ent)
    for resp in (
        client.get(f"/open-licences/{decl.id}/apply"),
        client.post(f"/open-licences/{decl.id}/apply", data=DETAILS),
        client.post(
            f"/api/v1/open-licences/{decl.id}/applications", json={**DETAILS, "accept_terms": True}
        ),
    ):
        text = resp.get_json()["message"] if resp.is_json else resp.get_data(as_text=True)
        assert resp.status_code == 409 and "该开放许可声明已撤回，不再接受实施申请" in text
        assert world.own.title not in text
    assert not db.session.scalar(sa.select(sa.func.count(LicenceApplication.id)))


def test_the_pool_page_offers_the_application(world, decl, ent, client, auth):
    auth.login(ent)
    page = client.get(f"/pool/patents/{world.own.id}").get_data(as_text=True)
    assert f"/open-licences/{decl.id}/apply" in page


def test_the_dashboard_counts_applications_beside_declarations(world, decl, ent, client, auth):
    _apply(decl, ent)
    auth.login(world.users[Role.REGULATOR])
    page = client.get("/dashboard/contracts").get_data(as_text=True)
    assert "开放许可实施申请" in page and "100.0%（1 / 1）" in page
    data = client.get("/api/v1/dashboard/contracts").get_json()["open_licences"]
    assert data["applications"] == 1 and data["declarations"] == 1
    assert data["applied_rate"]["display"] == "100.0%（1 / 1）"


# ---------------------------------------------------------------------------- JSON API


def test_the_api_applies_lists_and_moves_an_application(world, decl, ent, client, auth):
    auth.login(ent)
    url = f"/api/v1/open-licences/{decl.id}/applications"
    haggle = client.post(url, json={**DETAILS, "accept_terms": True, "fee_wan": "10"})
    assert haggle.status_code == 422 and "fee_wan" in haggle.get_json()["details"]
    resp = client.post(url, json={**DETAILS, "accept_terms": True})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "submitted" and body["status_label"] == "已提交"
    assert body["terms"]["fee_summary"] == "一次性付费 50 万元" and body["can_withdraw"]
    assert client.post(url, json={**DETAILS, "accept_terms": True}).status_code == 409
    listed = client.get("/api/v1/licence-applications").get_json()
    assert [x["id"] for x in listed["items"]] == [body["id"]]
    auth.logout()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    item = f"/api/v1/licence-applications/{body['id']}"
    assert client.get(item).get_json()["can_confirm"]
    signed = client.post(f"{item}/sign", json={"note": "合同已寄出", "version": body["version"]})
    assert signed.status_code == 200 and signed.get_json()["signed_on"]
    assert client.post(f"{item}/confirm", json={}).status_code == 409
    assert client.post(f"{item}/withdraw", json={}).status_code == 403
    auth.logout()
    auth.login(make_user(Role.ENTERPRISE, organization=make_org("己公司", kind=OrgKind.ENTERPRISE)))
    assert client.get(item).status_code == 404


PHISHING = "请访问 http://revive-verify.example/login 重新验证账号"


@pytest.mark.parametrize(
    ("key", "text", "label"),
    [
        ("contact_name", PHISHING, "联系人"),
        ("intended_use", PHISHING, "实施计划"),
        ("intended_use", "详见 ｗｗｗ．revive-verify．com 说明", "实施计划"),  # full-width
        ("intended_use", "登录 revive-verify.top 领取补贴", "实施计划"),
    ],
)
def test_an_application_with_a_link_is_refused_and_nobody_is_told(
    world, decl, ent, client, auth, key, text, label
):
    """A security review's application said 「请访问 http://… 重新验证账号」: a 201, and the
    text went verbatim into every holder's notice and e-mail from the platform's address."""
    auth.login(ent)
    url = f"/api/v1/open-licences/{decl.id}/applications"
    resp = client.post(url, json={**DETAILS, "accept_terms": True, key: text})
    assert resp.status_code == 422
    body = resp.get_json()
    assert body["details"][key].startswith(f"{label}不能包含网址")
    assert f"{label}不能包含网址" in body["message"]
    assert db.session.scalar(sa.select(sa.func.count(LicenceApplication.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    page = client.post(f"/open-licences/{decl.id}/apply", data={**DETAILS, key: text})
    assert page.status_code == 422 and f"{label}不能包含网址" in page.get_data(as_text=True)
    # an e-mail address is an address by nature, and the rest of the form is still fine
    assert client.post(url, json={**DETAILS, "accept_terms": True}).status_code == 201


def test_a_withdrawal_reason_with_a_link_is_refused(world, decl, ent):
    """The reason is quoted in the holders' notices and e-mails too."""
    a = _apply(decl, ent)
    with pytest.raises(ValidationFailed, match="撤回原因不能包含网址"):
        applications.act(a.id, "withdraw", actor=ent, note=PHISHING)
    db.session.rollback()
    assert db.session.get(LicenceApplication, a.id).status == ApplicationStatus.SUBMITTED
    applications.act(a.id, "withdraw", actor=ent, note="改用其他方案")


def test_the_api_bodies_refuse_unknown_keys_and_may_be_left_out(world, decl, ent, client, auth):
    """The schemas: unknown keys are a 422 naming them; an action's body may be left out;
    the applicant's details are still judged together by the service (its messages)."""
    auth.login(ent)
    url = f"/api/v1/open-licences/{decl.id}/applications"
    empty = client.post(url, json={})
    assert empty.status_code == 422
    assert set(empty.get_json()["details"]) == {
        "contact_name",
        "contact_phone",
        "intended_use",
        "accept_terms",
    }
    assert "请确认接受声明的许可条件" in empty.get_json()["details"]["accept_terms"]
    item = f"/api/v1/licence-applications/{_apply(decl, ent).id}"
    auth.logout()
    auth.login(world.users[Role.UNIVERSITY_ADMIN])
    odd = client.post(f"{item}/confirm", json={"note": "好", "amount": 1})
    assert odd.status_code == 422 and odd.get_json()["details"] == {"amount": "未知字段"}
    bad = client.post(f"{item}/confirm", json={"note": 5})
    assert bad.status_code == 422 and bad.get_json()["details"] == {"note": "须为字符串"}
    confirmed = client.post(f"{item}/confirm")  # no body: today, no note
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    auth.logout()
    auth.login(ent)
    withdrawn = client.post(f"{item}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "withdrawn"


def test_an_enterprise_cannot_apply_and_withdraw_in_a_loop(world, decl, ent, app, monkeypatch):
    """Each application and withdrawal notifies and e-mails every holder with the applicant's
    text; a security review looped them. The enterprise's hourly cap counts applications."""
    from revive.errors import RateLimited

    monkeypatch.setitem(app.config, "REVIVE_INTENTS_PER_HOUR", 2)
    for _ in range(2):
        a = _apply(decl, ent)
        applications.act(a.id, "withdraw", actor=ent, note="改用其他方案")
    with pytest.raises(RateLimited, match="每小时最多申请实施开放许可 2 次"):
        _apply(decl, ent)
    db.session.rollback()
    assert len(_events("apply")) == 2
