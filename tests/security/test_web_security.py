"""Web security behaviours: CSRF on every form, session cookies, login rate limits, password
policy, no user enumeration, escaped output, security headers on every kind of response."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import g

from revive.accounts import passwords, services
from revive.accounts.models import Role, User
from revive.config import load_config
from revive.deals import services as deal_services
from revive.deals.models import UniversityResponse
from revive.demands.models import Demand
from revive.errors import ValidationFailed
from revive.extensions import db
from revive.notifications.models import Notification
from tests.deals.helpers import make_deal
from tests.factories import PASSWORD, make_college, make_org, make_user
from tests.matching.helpers import entered, make_demand, make_enterprise
from tests.review.helpers import make_match
from tests.security.test_authz_all_endpoints import TABLE, Row
from tests.security.world import build_world, sign_in

# ---------------------------------------------------------------------------- helpers


class FormScan(HTMLParser):
    """Every <form>: its method, action and the names of the inputs inside it."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._open = {
                "method": (a.get("method") or "get").lower(),
                "action": a.get("action") or "",
                "inputs": set(),
            }
            self.forms.append(self._open)
        elif tag in ("input", "button", "select", "textarea") and self._open and a.get("name"):
            self._open["inputs"].add(a["name"])

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def _first_allowed(row: Row) -> Role | None:
    if row.roles is None:
        return None
    for role in (Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN, *Role):
        if role in row.roles:
            return role
    return None


def _html_pages() -> list[Row]:
    skip_suffixes = (".xlsx", ".csv", "_xlsx", "export", "template")
    return [
        row
        for row in TABLE
        if row.method == "GET"
        and not row.api
        and not row.endpoint.endswith(skip_suffixes)
        and not row.endpoint.startswith(("audit.export", "dashboard.export"))
    ]


@pytest.fixture
def csrf_on(app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    return app


# ---------------------------------------------------------------------------- CSRF


def test_every_post_form_on_every_page_carries_a_csrf_token(csrf_on):
    from tests.security.test_authz_all_endpoints import _url

    w = build_world()
    pages = _html_pages()
    seen_forms = 0
    for row in pages:
        role = _first_allowed(row)
        client = csrf_on.test_client()
        if role is not None:
            sign_in(client, w.user_ids[role])
        url = _url(row, w, role, True)
        resp = client.get(url)
        assert resp.status_code in (200, 302), f"{row.id}: {resp.status_code}"
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        scan = FormScan()
        scan.feed(resp.get_data(as_text=True))
        for form in scan.forms:
            if form["method"] == "post":
                seen_forms += 1
                assert "csrf_token" in form["inputs"], f"{row.id} ({url}): {form}"
    assert len(pages) >= 40
    assert seen_forms >= 20  # the scan really met the forms (login, deals, review, members…)


def test_post_without_csrf_token_is_refused(csrf_on):
    user = make_user(Role.ENTERPRISE)
    demand = make_demand(user.organization, title="CSRF测试需求")
    client = csrf_on.test_client()
    # Login form without the token: refused, nobody logged in.
    resp = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert resp.status_code == 400
    assert "令牌无效" in resp.get_data(as_text=True)
    assert client.get("/").status_code == 302
    sign_in(client, user.id)
    # An HTML write and a JSON write, both without the token: 400 and nothing changed.
    resp = client.post(f"/demands/{demand.id}/close", data={"reason": "other"})
    assert resp.status_code == 400
    resp = client.post(f"/api/v1/demands/{demand.id}/close", json={"reason": "other"})
    assert resp.status_code == 400 and resp.is_json
    db.session.expire_all()
    assert db.session.get(Demand, demand.id).status.value == "open"
    # Logout without the token does not log out.
    assert client.post("/logout").status_code == 400
    assert client.get("/").status_code == 200


def test_post_with_csrf_token_passes(csrf_on):
    user = make_user(Role.ENTERPRISE)
    client = csrf_on.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    resp = client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]


# ---------------------------------------------------------------------------- session cookie


def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "no session cookie set"
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(auth):
    resp = auth.login(make_user())
    cookie = _session_cookie(resp)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the test config is http


def test_session_cookie_is_secure_when_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    user = make_user()
    resp = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        base_url="https://localhost",
    )
    assert "Secure" in _session_cookie(resp)


@pytest.mark.parametrize(
    ("env", "secure"),
    [
        ({"REVIVE_BASE_URL": "https://revive.example.cn"}, True),
        ({"REVIVE_BASE_URL": "http://localhost:5000"}, False),
        ({"REVIVE_BASE_URL": ""}, False),
        ({"REVIVE_BASE_URL": "https://revive.example.cn", "SESSION_COOKIE_SECURE": "0"}, False),
        ({"REVIVE_BASE_URL": "", "SESSION_COOKIE_SECURE": "1"}, True),
        # docker-compose.yml passes SESSION_COOKIE_SECURE empty unless it is set: the https
        # address decides (a literal "false" there used to override it)
        ({"REVIVE_BASE_URL": "https://revive.example.cn", "SESSION_COOKIE_SECURE": ""}, True),
    ],
)
@pytest.mark.usefixtures("_data_dir")  # load_config() writes its files in the test data dir
def test_production_cookie_defaults(monkeypatch, env, secure):
    for key in ("REVIVE_BASE_URL", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    cfg = load_config()
    assert cfg["SESSION_COOKIE_SECURE"] is secure
    assert cfg["REMEMBER_COOKIE_SECURE"] is secure
    assert cfg["SESSION_COOKIE_HTTPONLY"] is True
    assert cfg["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert cfg["REMEMBER_COOKIE_HTTPONLY"] is True


@pytest.mark.usefixtures("_data_dir")
def test_a_setting_that_is_no_number_names_itself(monkeypatch):
    monkeypatch.setenv("REVIVE_PAGE_SIZE", "abc")
    with pytest.raises(ValueError, match="REVIVE_PAGE_SIZE must be a whole number, got 'abc'"):
        load_config()


def test_compose_passes_the_env_file_and_leaves_secure_cookies_to_the_address():
    """Every setting written in .env reaches the app containers (HTTPS, SMTP, time zone …),
    and SESSION_COOKIE_SECURE is empty unless set, so an https REVIVE_BASE_URL decides."""
    from pathlib import Path

    import yaml

    compose = yaml.safe_load((Path(__file__).parents[2] / "docker-compose.yml").read_text())
    app = compose["x-app"]
    assert {"path": ".env", "required": False} in app["env_file"]
    assert app["environment"]["SESSION_COOKIE_SECURE"] == "${SESSION_COOKIE_SECURE:-}"
    for name in ("web", "worker"):
        assert compose["services"][name]["env_file"] == app["env_file"]


def test_login_starts_a_fresh_session(client, auth):
    user = make_user()
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    auth.login(user)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == str(user.id)


def test_logout_clears_the_session(client, auth):
    auth.login(make_user())
    with client.session_transaction() as sess:
        sess["leftover"] = "x"
    resp = client.post("/logout")
    assert resp.status_code == 302
    with client.session_transaction() as sess:
        assert "_user_id" not in sess and "leftover" not in sess
    assert client.get("/").status_code == 302  # back to the login page


# ---------------------------------------------------------------------------- rate limiting


def _attempt(app, email: str, password: str, ip: str):
    g.pop("_login_user", None)  # tests share one app context: no user left over in ``g``
    return app.test_client().post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def _trusted_browser(app, user, ip: str):
    """A client that signed in to ``user`` once (it holds a device cookie), then out."""
    client = app.test_client()
    g.pop("_login_user", None)
    resp = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, environ_base={"REMOTE_ADDR": ip}
    )
    assert resp.status_code == 302
    g.pop("_login_user", None)
    client.post("/logout")
    g.pop("_login_user", None)
    return client


def test_login_from_one_ip_is_limited_with_429_and_chinese_message(app, monkeypatch):
    """Counts untrusted clients' failures only, and refuses untrusted clients only."""
    monkeypatch.setitem(app.config, "REVIVE_LOGIN_IP_MAX_FAILURES", 3)
    user, other, regular = make_user(), make_user(), make_user()
    browser = _trusted_browser(app, regular, "10.9.0.1")
    for _ in range(2):
        assert _attempt(app, user.email, "Wrong12345", "10.9.0.1").status_code == 200
    # A success for another account from the same address does not reset the count.
    assert _attempt(app, other.email, PASSWORD, "10.9.0.1").status_code == 302
    assert _attempt(app, "nobody@example.cn", "Wrong12345", "10.9.0.1").status_code == 200
    for email, password in ((user.email, PASSWORD), (other.email, PASSWORD)):
        resp = _attempt(app, email, password, "10.9.0.1")
        assert resp.status_code == 429
        assert "登录失败次数过多" in resp.get_data(as_text=True)
    # Another address is not affected, nor a browser that signed in to its account before.
    assert _attempt(app, user.email, PASSWORD, "10.9.0.2").status_code == 302
    resp = browser.post(
        "/login",
        data={"email": regular.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.0.1"},
    )
    assert resp.status_code == 302


def test_one_account_is_limited_with_429_whatever_the_address(app):
    """Untrusted clients are refused once the account has too many failures from untrusted
    clients; the owner's trusted browser is not (it was, before device cookies)."""
    user, other = make_user(), make_user()
    browser = _trusted_browser(app, user, "10.8.1.1")
    limit = services.login_limits().account
    for n in range(limit):
        assert _attempt(app, user.email, "Wrong12345", f"10.8.0.{n + 1}").status_code == 200
    resp = _attempt(app, user.email, PASSWORD, "10.8.0.99")  # right password, new address
    assert resp.status_code == 429
    assert "登录失败次数过多" in resp.get_data(as_text=True)
    # Another account logging in (same or other address) does not lift it, nor is it affected.
    assert _attempt(app, other.email, PASSWORD, "10.8.0.99").status_code == 302
    assert _attempt(app, user.email, PASSWORD, "10.8.0.1").status_code == 429
    resp = browser.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.8.0.1"},
    )
    assert resp.status_code == 302


def test_unknown_address_is_limited_exactly_like_an_account(app):
    """The per-account limit counts addresses, not accounts: it reveals nothing."""
    user = make_user()
    answers = {}
    for email in (user.email, "nobody@example.cn"):
        for n in range(services.login_limits().account):
            _attempt(app, email, "Wrong12345", f"10.5.{len(answers)}.{n + 1}")
        resp = _attempt(app, email, PASSWORD, "10.5.9.9")
        answers[email] = (resp.status_code, resp.get_data(as_text=True).count("登录失败次数过多"))
    assert answers[user.email] == answers["nobody@example.cn"] == (429, 1)


def test_a_success_clears_only_its_own_account_count(app):
    user = make_user()
    limit = services.login_limits().account
    for n in range(limit - 1):
        _attempt(app, user.email, "Wrong12345", f"10.4.0.{n + 1}")
    assert _attempt(app, user.email, PASSWORD, "10.4.0.50").status_code == 302
    for n in range(limit - 1):
        _attempt(app, user.email, "Wrong12345", f"10.4.1.{n + 1}")
    assert _attempt(app, user.email, PASSWORD, "10.4.1.50").status_code == 302


def test_there_is_no_api_login_to_bypass_the_limits(app):
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert not any(r.startswith("/api/") and "login" in r for r in rules)


# ---------------------------------------------------------------------------- password policy


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("a1b2c3", "至少 8 位"),
        ("1234567890", "字母和数字"),
        ("onlyletters", "字母和数字"),
        ("Password123", "过于常见"),
        ("1qaz2wsx", "过于常见"),
        ("zhang2025", "邮箱或姓名"),
        ("zhang2025@example.cn", "邮箱或姓名"),
    ],
)
def test_password_policy_refuses(app, password, message):
    with pytest.raises(ValidationFailed) as err:
        services.validate_password(password, email="zhang2025@example.cn", name="张三")
    assert message in err.value.message


def test_password_policy_refuses_the_name(app):
    with pytest.raises(ValidationFailed, match="邮箱或姓名"):
        services.validate_password("Wang1990", email="x@example.cn", name="wang1990")


def test_password_policy_accepts_a_decent_password(app):
    services.validate_password("Tiao-lv9Hu", email="zhang2025@example.cn", name="张三")


def test_policy_on_registration(client):
    from tests.demands.helpers import credit_code

    data = {
        "company_name": "安全测试有限公司",
        "credit_code": credit_code(),
        "contact_name": "李四",
        "email": "li4@example.cn",
        "password": "password123",
        "confirm": "password123",
    }
    resp = client.post("/register", data=data)
    assert resp.status_code == 422
    assert "过于常见" in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.email == "li4@example.cn")) is None


def test_policy_on_invitation_acceptance(app, client):
    uni = make_org()
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni)
    _, token = services.invite_user(
        actor=admin,
        organization_id=uni.id,
        email="wang1990@example.edu.cn",
        name="王五",
        role=Role.INVENTOR,
    )
    resp = client.post(
        f"/invite/{token}", data={"name": "王五", "password": "wang1990", "confirm": "wang1990"}
    )
    assert resp.status_code == 422
    assert "邮箱或姓名" in resp.get_data(as_text=True)


def test_policy_on_password_change(client, auth):
    user = make_user()
    auth.login(user)
    resp = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "abc12345", "confirm": "abc12345"},
    )
    assert resp.status_code == 422
    assert "过于常见" in resp.get_data(as_text=True)


def test_policy_on_staff_creation(app):
    admin = make_user(Role.PLATFORM_ADMIN)
    with pytest.raises(ValidationFailed, match="过于常见"):
        services.create_staff_user(
            actor=admin,
            email="o@example.cn",
            name="赵六",
            role=Role.OFFICER,
            password="admin123",
        )


# ---------------------------------------------------------------------------- enumeration


def test_login_failure_is_identical_for_unknown_user_and_wrong_password(app, monkeypatch):
    user = make_user()
    checked: list[str] = []
    real = passwords.check_password_hash

    def spy(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(passwords, "check_password_hash", spy)
    wrong = _attempt(app, user.email, "Wrong12345", "10.7.0.1")
    unknown = _attempt(app, "nobody@example.cn", "Wrong12345", "10.7.0.2")
    assert wrong.status_code == unknown.status_code == 200
    message = "邮箱或密码错误，或账号已停用"
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    # The unknown e-mail costs a password-hash check too (a dummy hash of the same method, so
    # the same cost), as the wrong password.
    assert checked[0] == user.password_hash and len(checked) == 2
    assert checked[1].split("$")[0] == app.config["PASSWORD_HASH_METHOD"]


def test_passwords_are_hashed_with_scrypt_unless_the_app_is_built_otherwise(app, monkeypatch):
    """Production hashes with scrypt (werkzeug's default); the setting comes only from code
    that builds the app, never from the environment (the test suite passes a cheap one)."""
    from revive.config import load_config

    for name in ("PASSWORD_HASH_METHOD", "REVIVE_PASSWORD_HASH_METHOD"):
        monkeypatch.setenv(name, "pbkdf2:sha256:1")
    assert "PASSWORD_HASH_METHOD" not in load_config()
    assert passwords.DEFAULT_METHOD == "scrypt"
    monkeypatch.delitem(app.config, "PASSWORD_HASH_METHOD")
    stored = passwords.hash_password("Passw0rd!2026")
    assert stored.startswith("scrypt:") and passwords.check_password(stored, "Passw0rd!2026")
    # a hash made under another method still verifies: the method is read from the hash
    assert passwords.check_password(make_user().password_hash, "Passw0rd!")


def test_inactive_account_answers_like_an_unknown_one(app):
    inactive = make_user(is_active_flag=False)
    answers = {
        (resp.status_code, resp.get_data(as_text=True).count("邮箱或密码错误，或账号已停用"))
        for resp in (
            _attempt(app, inactive.email, PASSWORD, "10.6.0.1"),
            _attempt(app, "nobody@example.cn", PASSWORD, "10.6.0.2"),
        )
    }
    assert answers == {(200, 1)}


# ---------------------------------------------------------------------------- escaping

XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
RAW = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def hostile(app):
    uni = make_org("甲大学" + XSS)
    college = make_college(uni, "学院" + XSS)
    ent = make_enterprise("企业" + XSS)
    users = {
        Role.UNIVERSITY_ADMIN: make_user(Role.UNIVERSITY_ADMIN, organization=uni, name="管" + XSS),
        Role.INVENTOR: make_user(Role.INVENTOR, organization=uni, name="张" + XSS),
        Role.ENTERPRISE: make_user(Role.ENTERPRISE, organization=ent, name="企" + XSS),
        Role.OFFICER: make_user(Role.OFFICER, name="经" + XSS),
        Role.PLATFORM_ADMIN: make_user(Role.PLATFORM_ADMIN, name="平" + XSS),
        Role.REGULATOR: make_user(Role.REGULATOR, name="监" + XSS),
    }
    patent = entered(uni, college=college, inventors=[users[Role.INVENTOR]], title="专利" + XSS)
    demand = make_demand(ent, title="需求" + XSS, description="描述" + XSS)
    make_match(demand, patent, terms=[["<script>alert(1)</script>", 0.9], ["onerror", 0.5]])
    deal = make_deal(
        patent=patent, enterprise=ent, officer=users[Role.OFFICER], title="成交需求" + XSS
    )
    deal_services.respond(
        deal.id, UniversityResponse.INTERESTED, users[Role.UNIVERSITY_ADMIN], comment="备注" + XSS
    )
    for user in users.values():
        db.session.add(Notification(user_id=user.id, kind="test", title="通知" + XSS, link="/"))
    db.session.commit()
    return {"users": users, "patent": patent, "demand": demand, "deal": deal, "uni": uni}


def test_user_input_is_escaped_on_every_page_that_shows_it(app, hostile):
    p, d, deal = hostile["patent"].id, hostile["demand"].id, hostile["deal"].id
    pages = {
        Role.UNIVERSITY_ADMIN: [
            "/",
            "/patents/",
            f"/patents/{p}",
            "/deals/",
            f"/deals/{deal}",
            "/demands/",
            f"/demands/{d}",
            "/members",
            "/inbox/",
            "/audit/",
            "/open-licences",
            "/evaluations/calibration",
            "/evaluations/promotion",
            "/review/rejections",
        ],
        Role.INVENTOR: ["/", "/patents/", f"/patents/{p}", f"/deals/{deal}", "/inbox/"],
        Role.ENTERPRISE: [
            "/",
            "/demands/",
            f"/demands/{d}",
            "/deals/",
            f"/deals/{deal}",
            "/evaluations/todo",
        ],
        Role.OFFICER: [
            "/",
            "/review/",
            "/patents/",
            f"/patents/{p}",
            f"/deals/{deal}",
            f"/matching/demands/{d}",
            "/audit/",
            "/dashboard/workload",
            "/dashboard/overdue",
            "/matching/",
        ],
        Role.PLATFORM_ADMIN: ["/members", f"/members?org={hostile['uni'].id}", "/imports/"],
        Role.REGULATOR: ["/", "/dashboard/breakdown", "/dashboard/unmet", "/demands/"],
    }
    shown = 0
    for role, urls in pages.items():
        client = app.test_client()
        sign_in(client, hostile["users"][role].id)
        for url in urls:
            resp = client.get(url)
            assert resp.status_code == 200, f"{role.value} {url}: {resp.status_code}"
            html = resp.get_data(as_text=True)
            for raw in RAW:
                assert raw not in html, f"{role.value} {url}: unescaped {raw}"
            shown += ESCAPED in html
    assert shown >= 20  # the hostile values were really on those pages, escaped


def test_json_answers_are_json(app, hostile):
    client = app.test_client()
    sign_in(client, hostile["users"][Role.OFFICER].id)
    p, d, deal = hostile["patent"].id, hostile["demand"].id, hostile["deal"].id
    for url in (
        f"/api/v1/patents/{p}",
        f"/api/v1/demands/{d}",
        f"/api/v1/deals/{deal}",
        "/api/v1/patents",
        "/api/v1/notifications",
        "/api/v1/nope",
    ):
        resp = client.get(url)
        assert resp.mimetype == "application/json", url
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_download_names_with_user_input_are_encoded(app, hostile):
    client = app.test_client()
    sign_in(client, hostile["users"][Role.UNIVERSITY_ADMIN].id)
    resp = client.get("/evaluations/calibration.xlsx")
    assert resp.status_code == 200
    disposition = resp.headers["Content-Disposition"]
    assert "<" not in disposition and "\n" not in disposition
    assert disposition.count('"') == 2  # only the quotes around the ASCII fallback name


# ---------------------------------------------------------------------------- headers


def _assert_security_headers(resp, what: str) -> None:
    h = resp.headers
    csp = h.get("Content-Security-Policy", "")
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip()
    )
    assert "script-src" in directives, f"{what}: no script-src in {csp!r}"
    assert "'unsafe-inline'" not in directives["script-src"], what
    assert "'unsafe-eval'" not in directives["script-src"], what
    assert directives.get("frame-ancestors") == "'none'", what
    assert directives.get("object-src") == "'none'", what
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("X-Frame-Options") == "DENY", what
    assert h.get("Referrer-Policy") in ("same-origin", "strict-origin-when-cross-origin"), what


def test_security_headers_on_every_kind_of_response(app, client, auth, monkeypatch):
    user = make_user(Role.UNIVERSITY_ADMIN)
    static_file = next(Path(app.static_folder, "js").glob("*.js")).name
    anonymous = {
        "login page": client.get("/login"),
        "static file": client.get(f"/static/js/{static_file}"),
        "404 page": client.get("/no-such-page"),
        "401 json": client.get("/api/v1/patents"),
    }
    auth.login(user)
    signed_in = {
        "html page": client.get("/patents/"),
        "json": client.get("/api/v1/patents"),
        "json 404": client.get("/api/v1/patents/999999"),
        "csv download": client.get("/patents/export.csv"),
    }

    def boom():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "inventory.list_patents", boom)
    signed_in["500 page"] = client.get("/patents/")
    assert signed_in["500 page"].status_code == 500
    for what, resp in {**anonymous, **signed_in}.items():
        _assert_security_headers(resp, what)
    # Nothing of a signed-in user is cached; static files may be.
    for what, resp in signed_in.items():
        assert resp.headers.get("Cache-Control") == "no-store", what
    assert "no-store" not in anonymous["static file"].headers.get("Cache-Control", "")
    for resp in (*anonymous.values(), *signed_in.values()):
        resp.close()


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    resp = client.get("/login", base_url="https://localhost")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(resp.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15552000


def test_no_inline_scripts_or_handlers_in_pages(app, hostile):
    """The CSP forbids inline scripts; pages must not need them (only JSON data blocks)."""
    client = app.test_client()
    sign_in(client, hostile["users"][Role.OFFICER].id)
    for url in ("/", "/review/", f"/deals/{hostile['deal'].id}", "/patents/"):
        html = client.get(url).get_data(as_text=True)
        scan = _ScriptScan()
        scan.feed(html)
        assert not scan.inline, f"{url}: inline script {scan.inline[:1]}"
        assert not scan.handlers, f"{url}: inline handler {scan.handlers[:1]}"


class _ScriptScan(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []
        self.handlers: list[str] = []
        self._script: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.handlers += [f"{tag} {k}" for k in a if k.startswith("on")]
        if tag == "script":
            self._script = a

    def handle_data(self, data):
        script = self._script
        # JSON data blocks (type="application/json") are not run, so the CSP allows them.
        if (
            script is not None
            and data.strip()
            and "src" not in script
            and script.get("type") != "application/json"
        ):
            self.inline.append(data[:80])

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None
