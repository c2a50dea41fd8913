"""Every /open-licences and /api/v1/open-licences route × every role (+ anonymous) × a patent of
the user's own university / another university (the applications to implement an open licence
too: the world's enterprise applies to the declaration first where a route needs one).

Allowed → 2xx/3xx and the write took effect; refused → 403 (the object is readable, the act is
not) or 404 (the object itself is hidden), and nothing changed; anonymous → login redirect
(HTML) or 401 JSON (API). ``test_every_licensing_route_is_in_the_table`` fails when a route
appears without a row here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.models import Patent
from revive.licensing import applications
from revive.licensing.models import (
    ApplicationStatus,
    DeclarationStatus,
    LicenceApplication,
    OpenLicenceDeclaration,
)
from revive.licensing.permissions import (
    APPLICANT_ROLES,
    APPLICATION_READERS,
    DECLARER_ROLES,
    HOLDER_ROLES,
    VIEWER_ROLES,
)
from tests.licensing.helpers import make_declaration, valid_body

ROLES: list[Role | None] = [*Role, None]  # None = anonymous
OWN_MODULES = ("revive.licensing.views", "revive.api.licensing")
PREFIXES = ("/open-licences", "/api/v1/open-licences")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    rule: str
    url: Callable[[Patent, OpenLicenceDeclaration | None], str]
    roles: frozenset[Role]
    api: bool = False
    declared: bool = True  # the patent has an active declaration before the request
    write: bool = False  # needs the patent's admin (else 403, or 404 when the patent is hidden)
    form: Callable[[Patent, OpenLicenceDeclaration | None], dict] | None = None
    json: Callable[[Patent, OpenLicenceDeclaration | None], dict] | None = None
    effect: Callable[[Patent, OpenLicenceDeclaration | None], bool] | None = None
    # 开放许可实施申请: the world's enterprise has applied to the declaration before the request
    application: bool = False
    # For a role the route lets in: 'ok' / 'forbidden' / 'hidden' by (role, own|other), where the
    # default (write = needs the patent's admin) does not describe the route.
    expect: Callable[[Role, str], str] | None = None


def _declared(p, _d):
    return (
        db.session.scalar(
            sa.select(sa.func.count(OpenLicenceDeclaration.id)).where(
                OpenLicenceDeclaration.patent_id == p.id
            )
        )
        == 1
    )


def _withdrawn(_p, d):
    return db.session.get(OpenLicenceDeclaration, d.id).status == DeclarationStatus.WITHDRAWN


def _application(d: OpenLicenceDeclaration) -> LicenceApplication:
    return db.session.scalar(
        sa.select(LicenceApplication).where(LicenceApplication.declaration_id == d.id)
    )


def _applied(_p, d):
    return _application(d) is not None


def _application_in(status: ApplicationStatus):
    return lambda _p, d: _application(d).status == status


def _by_holder(role: Role, which: str) -> str:
    """Reading staff read every application; the holder's admins act on their own patents'
    (another university's application is hidden from them); the applicant reads its own."""
    if role == Role.PLATFORM_ADMIN or which == "own":
        return "ok"
    return "ok" if role in (Role.OFFICER, Role.REGULATOR, Role.ENTERPRISE) else "hidden"


APPLY_FORM = {
    "contact_name": "赵经理",
    "contact_phone": "0471-1234567",
    "intended_use": "用于本公司产线",
    "accept_terms": "1",
}


ENDPOINTS = [
    Endpoint("list", "GET", "/open-licences", lambda p, d: "/open-licences", VIEWER_ROLES),
    Endpoint(
        "export",
        "GET",
        "/open-licences/export.xlsx",
        lambda p, d: "/open-licences/export.xlsx",
        VIEWER_ROLES,
    ),
    Endpoint(
        "form",
        "GET",
        "/open-licences/new",
        lambda p, d: f"/open-licences/new?patent_id={p.id}",
        DECLARER_ROLES,
        declared=False,
        write=True,
    ),
    Endpoint(
        "declare",
        "POST",
        "/open-licences/new",
        lambda p, d: f"/open-licences/new?patent_id={p.id}",
        DECLARER_ROLES,
        declared=False,
        write=True,
        form=lambda p, d: valid_body(),
        effect=_declared,
    ),
    Endpoint(
        "detail",
        "GET",
        "/open-licences/<int:declaration_id>",
        lambda p, d: f"/open-licences/{d.id}",
        VIEWER_ROLES,
    ),
    Endpoint(
        "withdraw",
        "POST",
        "/open-licences/<int:declaration_id>/withdraw",
        lambda p, d: f"/open-licences/{d.id}/withdraw",
        DECLARER_ROLES,
        write=True,
        form=lambda p, d: {"version": d.version},
        effect=_withdrawn,
    ),
    # ----- API
    Endpoint(
        "api_list",
        "GET",
        "/api/v1/open-licences",
        lambda p, d: "/api/v1/open-licences",
        VIEWER_ROLES,
        api=True,
    ),
    Endpoint(
        "api_get",
        "GET",
        "/api/v1/open-licences/<int:declaration_id>",
        lambda p, d: f"/api/v1/open-licences/{d.id}",
        VIEWER_ROLES,
        api=True,
    ),
    Endpoint(
        "api_declare",
        "POST",
        "/api/v1/open-licences",
        lambda p, d: "/api/v1/open-licences",
        DECLARER_ROLES,
        api=True,
        declared=False,
        write=True,
        json=lambda p, d: {"patent_id": p.id, **valid_body()},
        effect=_declared,
    ),
    Endpoint(
        "api_withdraw",
        "POST",
        "/api/v1/open-licences/<int:declaration_id>/withdraw",
        lambda p, d: f"/api/v1/open-licences/{d.id}/withdraw",
        DECLARER_ROLES,
        api=True,
        write=True,
        json=lambda p, d: {"version": d.version},
        effect=_withdrawn,
    ),
    # ----- 开放许可实施申请: enterprises apply to any listed declaration
    Endpoint(
        "apply_form",
        "GET",
        "/open-licences/<int:declaration_id>/apply",
        lambda p, d: f"/open-licences/{d.id}/apply",
        APPLICANT_ROLES,
    ),
    Endpoint(
        "apply",
        "POST",
        "/open-licences/<int:declaration_id>/apply",
        lambda p, d: f"/open-licences/{d.id}/apply",
        APPLICANT_ROLES,
        form=lambda p, d: APPLY_FORM,
        effect=_applied,
    ),
    Endpoint(
        "api_apply",
        "POST",
        "/api/v1/open-licences/<int:declaration_id>/applications",
        lambda p, d: f"/api/v1/open-licences/{d.id}/applications",
        APPLICANT_ROLES,
        api=True,
        json=lambda p, d: {**APPLY_FORM, "accept_terms": True},
        effect=_applied,
    ),
    Endpoint(
        "applications",
        "GET",
        "/open-licences/applications",
        lambda p, d: "/open-licences/applications",
        APPLICATION_READERS,
        application=True,
    ),
    Endpoint(
        "application",
        "GET",
        "/open-licences/applications/<int:application_id>",
        lambda p, d: f"/open-licences/applications/{_application(d).id}",
        APPLICATION_READERS,
        application=True,
        expect=_by_holder,
    ),
    Endpoint(
        "confirm_application",
        "POST",
        "/open-licences/applications/<int:application_id>/confirm",
        lambda p, d: f"/open-licences/applications/{_application(d).id}/confirm",
        HOLDER_ROLES,
        application=True,
        expect=_by_holder,
        form=lambda p, d: {},
        effect=_application_in(ApplicationStatus.CONFIRMED),
    ),
    Endpoint(
        "sign_application",
        "POST",
        "/open-licences/applications/<int:application_id>/sign",
        lambda p, d: f"/open-licences/applications/{_application(d).id}/sign",
        HOLDER_ROLES,
        application=True,
        expect=_by_holder,
        form=lambda p, d: {},
        effect=_application_in(ApplicationStatus.SIGNED),
    ),
    Endpoint(
        "withdraw_application",
        "POST",
        "/open-licences/applications/<int:application_id>/withdraw",
        lambda p, d: f"/open-licences/applications/{_application(d).id}/withdraw",
        APPLICANT_ROLES,
        application=True,
        form=lambda p, d: {},
        effect=_application_in(ApplicationStatus.WITHDRAWN),
    ),
]


def test_every_licensing_route_is_in_the_table(app):
    covered = {(e.rule, e.method) for e in ENDPOINTS}
    seen = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIXES):
            continue
        assert app.view_functions[rule.endpoint].__module__ in OWN_MODULES, rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.rule, method) in covered, f"{method} {rule.rule} has no row in ENDPOINTS"
            seen.add((rule.rule, method))
    assert seen == covered  # and no row for a route that no longer exists


def test_rows_agree_with_the_view_decorators(app):
    """A row's roles are the roles the route's roles_required lets in."""
    by_rule = {(r.rule, m): r.endpoint for r in app.url_map.iter_rules() for m in r.methods}
    for e in ENDPOINTS:
        view = app.view_functions[by_rule[(e.rule, e.method)]]
        assert view.allowed_roles == e.roles, e.name


def _expected(e: Endpoint, role: Role | None, which: str) -> str:
    """'ok', 'anon', 'forbidden' (403) or 'hidden' (404)."""
    if role is None:
        return "anon"
    if role not in e.roles:
        return "forbidden"
    if e.expect is not None:
        return e.expect(role, which)
    if not e.write or role == Role.PLATFORM_ADMIN or which == "own":
        return "ok"
    # Another university's patent: hidden from its form (the patent is not visible), while its
    # listed declaration is public, so withdrawing it is a refused act.
    return "hidden" if not e.declared else "forbidden"


CASES = [(e, w) for e in ENDPOINTS for w in ("own", "other")]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize(("e", "which"), CASES, ids=[f"{e.name}-{w}" for e, w in CASES])
def test_matrix(e, which, role, world, client, auth):
    patent = world.own if which == "own" else world.other
    declaration = make_declaration(patent) if e.declared else None
    if e.application:
        applications.apply(declaration.id, APPLY_FORM, actor=world.users[Role.ENTERPRISE])
    if role is not None:
        auth.login(world.users[role])
    kwargs = {}
    if e.json is not None:
        kwargs["json"] = e.json(patent, declaration)
    elif e.form is not None:
        kwargs["data"] = e.form(patent, declaration)
    response = client.open(e.url(patent, declaration), method=e.method, **kwargs)
    expected = _expected(e, role, which)
    status = response.status_code
    if expected == "anon":
        assert status == (401 if e.api else 302)
        if e.api:
            assert response.get_json()["error"] == "unauthorized"
        else:
            assert "/login" in response.headers["Location"]
    elif expected == "forbidden":
        assert status == 403, response.get_data(as_text=True)[:300]
    elif expected == "hidden":
        assert status == 404, response.get_data(as_text=True)[:300]
    else:
        assert status in (200, 201, 302), (status, response.get_data(as_text=True)[:500])
        if e.effect is not None:
            db.session.expire_all()
            assert e.effect(patent, declaration)
        return
    if e.effect is not None:
        db.session.expire_all()
        if e.application:
            assert _application(declaration).status == ApplicationStatus.SUBMITTED
        elif e.declared:
            assert not e.effect(patent, declaration)
        else:
            assert db.session.scalar(sa.select(sa.func.count(OpenLicenceDeclaration.id))) == 0


# ---------------------------------------------------------------------------- hidden declarations


def _sees_patent(role: Role, which: str) -> bool:
    """Inventory rules: staff read every patent; university users their own (the inventor is
    named on the own patent, the college admin's college holds it); enterprises none."""
    if role in (Role.PLATFORM_ADMIN, Role.OFFICER, Role.REGULATOR):
        return True
    return which == "own" and role in (Role.UNIVERSITY_ADMIN, Role.COLLEGE_ADMIN, Role.INVENTOR)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
@pytest.mark.parametrize("which", ["own", "other"])
def test_withdrawn_declaration_is_seen_only_by_who_sees_the_patent(
    role, which, world, client, auth
):
    patent = world.own if which == "own" else world.other
    d = make_declaration(patent, status=DeclarationStatus.WITHDRAWN)
    auth.login(world.users[role])
    expected = 200 if _sees_patent(role, which) else 404
    assert client.get(f"/open-licences/{d.id}").status_code == expected
    assert client.get(f"/api/v1/open-licences/{d.id}").status_code == expected


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_public_list_holds_only_active_declarations_of_entered_patents(role, world, client, auth):
    from revive.inventory.models import EntryStatus
    from tests.factories import make_patent

    listed = [make_declaration(world.own), make_declaration(world.other)]
    make_declaration(
        make_patent(world.uni_a, title="甲校撤回声明专利", status=EntryStatus.ENTERED),
        status=DeclarationStatus.WITHDRAWN,
    )
    make_declaration(make_patent(world.uni_a, title="甲校退回专利", status=EntryStatus.RETURNED))
    auth.login(world.users[role])
    api = {i["id"] for i in client.get("/api/v1/open-licences").get_json()["items"]}
    assert api == {d.id for d in listed}
    page = client.get("/open-licences").get_data(as_text=True)
    assert "甲校入库专利" in page and "乙校入库专利" in page
    assert "甲校撤回声明专利" not in page and "甲校退回专利" not in page


def test_college_admin_of_another_college_same_university(world, client, auth):
    from revive.inventory.models import EntryStatus
    from tests.factories import make_patent

    sibling = make_patent(world.uni_a, college=world.college_a2, status=EntryStatus.ENTERED)
    auth.login(world.users[Role.COLLEGE_ADMIN])
    assert client.get(f"/open-licences/new?patent_id={sibling.id}").status_code == 404
    d = make_declaration(sibling)
    assert client.get(f"/open-licences/{d.id}").status_code == 200
    assert client.post(f"/open-licences/{d.id}/withdraw").status_code == 403
    db.session.expire_all()
    assert db.session.get(OpenLicenceDeclaration, d.id).status == DeclarationStatus.ACTIVE
