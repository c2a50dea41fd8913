"""Bad input anywhere is a 400 (or 413) with a Chinese reason, never a 500, and nothing changes.

Found by the red-team pass: a NUL byte in a search gave 500 on the patent list, the API and
the xlsx export and cut the CSV export mid-stream; a deeply nested JSON body (RecursionError)
and a lone surrogate (UnicodeEncodeError) gave 500 on writes; bulk endpoints took 250,000 ids.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory.models import EntryStatus, Patent
from revive.selection import MAX_SELECTION
from tests.factories import make_patent, make_user

NUL_QUERIES = [
    "/patents/?q=a%00b",
    "/patents/export.csv?q=a%00b",
    "/patents/export.xlsx?q=a%00b",
    "/api/v1/patents?q=a%00b",
    "/patents/?a%00=1",
]


@pytest.fixture
def admin(app, auth):
    user = make_user(Role.UNIVERSITY_ADMIN)
    make_patent(institution=user.organization, title="耐盐碱水稻品种")
    assert auth.login(user).status_code == 302
    return user


@pytest.mark.parametrize("url", NUL_QUERIES)
def test_nul_in_a_query_is_a_400_with_a_reason(client, admin, url):
    response = client.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 400
    assert "空字符" in response.get_json()["message"]


def test_nul_in_a_query_page_is_a_chinese_page(client, admin):
    response = client.get("/patents/?q=%00")
    assert response.status_code == 400
    assert "空字符（NUL）" in response.get_data(as_text=True)


def test_nul_in_a_form_changes_nothing(client, admin):
    patent = make_patent(institution=admin.organization, title="原标题")
    response = client.post(
        f"/patents/{patent.id}/edit", data={"title": "新\x00标题", "version": patent.version}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Patent, patent.id).title == "原标题"
    # no Referer sent (a browser's privacy setting): 返回修改 still goes back to the form
    assert "data-history-back>返回修改" in response.get_data(as_text=True)


def _api_post(client, url: str, raw: str):
    return client.post(url, data=raw, content_type="application/json")


def test_deeply_nested_json_is_a_400(client, admin):
    raw = '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = _api_post(client, "/api/v1/patents", raw)
    assert response.status_code == 400
    assert "嵌套过深" in response.get_json()["message"]


def test_json_nested_past_the_limit_but_below_recursion_is_a_400(client, admin):
    raw = json.dumps({"title": json.loads("[" * 40 + "]" * 40)})
    response = _api_post(client, "/api/v1/patents", raw)
    assert response.status_code == 400
    assert "最多 32 层" in response.get_json()["message"]


@pytest.mark.parametrize(
    "raw",
    [
        '{"title": "\\ud800 半个代理项"}',
        '{"\\udfff": "键里的代理项"}',
        '{"title": "空\\u0000字符"}',
    ],
)
def test_bad_characters_in_json_are_a_400_and_store_nothing(client, admin, raw):
    before = db.session.scalar(sa.select(sa.func.count(Patent.id)))
    response = _api_post(client, "/api/v1/patents", raw)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_input"
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == before


def test_json_body_over_the_limit_is_a_413(app, client, admin):
    limit = app.config["REVIVE_MAX_JSON_BYTES"]
    raw = json.dumps({"title": "长" * limit})
    response = _api_post(client, "/api/v1/patents", raw)
    assert response.status_code == 413, (limit, response.get_json())
    assert "JSON 不能超过" in response.get_json()["message"]


def test_batch_actions_refuse_an_oversized_id_list(client, admin):
    response = client.post(
        "/api/v1/patents/batch-actions",
        json={"ids": list(range(1, 250_001)), "action": "submit"},
    )
    assert response.status_code in (413, 422)  # 250,000 ids is ~1.7 MB of JSON: over the limit


def test_batch_actions_cap_below_the_body_limit(client, admin):
    patent = make_patent(institution=admin.organization, status=EntryStatus.PENDING_COLLEGE)
    ids = [patent.id] + list(range(10_000_000, 10_000_000 + MAX_SELECTION))
    response = client.post(
        "/api/v1/patents/batch-actions", json={"ids": ids, "action": "college_approve"}
    )
    assert response.status_code == 422
    assert f"最多处理 {MAX_SELECTION} 条" in response.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(Patent, patent.id).status == EntryStatus.PENDING_COLLEGE


def test_review_decisions_cap(app, client):
    officer = make_user(Role.OFFICER)
    client.post("/login", data={"email": officer.email, "password": "Passw0rd!"})
    ids = list(range(1, MAX_SELECTION + 2))
    response = client.post(
        "/api/v1/review/decisions", json={"match_ids": ids, "decision": "reject"}
    )
    assert response.status_code == 422
    assert "最多处理" in response.get_json()["message"]


def test_review_form_bulk_cap_is_a_message_not_work(app, client):
    officer = make_user(Role.OFFICER)
    client.post("/login", data={"email": officer.email, "password": "Passw0rd!"})
    data = {"match_ids": [str(i) for i in range(1, MAX_SELECTION + 2)], "decision": "reject"}
    response = client.post("/review/decisions", data=data, follow_redirects=True)
    assert response.status_code == 200
    assert f"一次最多处理 {MAX_SELECTION} 条" in response.get_data(as_text=True)


def test_a_multipart_field_name_that_does_not_decode_is_a_400_not_a_500(app, client, auth):
    from revive.accounts.models import Role
    from tests.factories import make_user

    auth.login(make_user(Role.UNIVERSITY_ADMIN))
    boundary = "b0undary"
    body = (
        f"--{boundary}\r\n".encode()
        + b"Content-Disposition: form-data\r\n\r\nx\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    resp = client.post(
        "/api/v1/import-jobs",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]


def test_a_number_of_thousands_of_digits_is_named_in_the_message(client, admin):
    """Python refuses to read an integer of over 4,300 digits: the client was told its JSON was
    malformed."""
    response = _api_post(client, "/api/v1/patents", '{"trl": ' + "9" * 5000 + "}")
    assert response.status_code == 400
    assert "数字位数过多" in response.get_json()["message"]


def test_a_chunked_body_over_the_json_limit_is_a_413(client, admin, app):
    """A body sent chunked (no Content-Length) was cut at the limit and answered as bad JSON."""
    import io

    limit = app.config["REVIVE_MAX_JSON_BYTES"]
    body = b'{"title": "' + b"a" * (limit + 10) + b'"}'
    response = client.post(
        "/api/v1/patents",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets it
    )
    assert response.status_code == 413, (limit, response.get_json())
    assert "JSON 不能超过" in response.get_json()["message"]


# ---------------------------------------------------------------------------- a second review


@pytest.mark.parametrize(
    "url",
    [
        "/audit/?date_from=0001-01-01",
        "/audit/?date_to=9999-12-31",
        "/audit/export.xlsx?date_to=9999-12-31",
        "/audit/export.csv?date_from=0001-01-01&date_to=9999-12-31",
    ],
)
def test_audit_filters_at_the_calendars_ends_are_no_bound(client, auth, url):
    """0001-01-01 and 9999-12-31 answered 500 (their UTC moment overflowed), and the CSV
    download was cut short after its headers."""
    from revive.audit import services as audit

    admin = make_user(Role.PLATFORM_ADMIN)
    audit.record("setting", 1, "update", admin, key="x")
    db.session.commit()
    auth.login(admin)
    response = client.get(url)
    assert response.status_code == 200
    if url.startswith("/audit/export.csv"):  # every event, as with no filter
        whole = client.get("/audit/export.csv").get_data(as_text=True)
        assert response.get_data(as_text=True) == whole and whole.count("\n") >= 2


def test_an_org_id_beyond_any_integer_is_no_org(client, auth):
    """/members?org=<20 digits> answered 500: too large for the database's integer."""
    auth.login(make_user(Role.PLATFORM_ADMIN))
    for url in ("/members?org=" + "9" * 20, "/members/tokens?org=" + "9" * 20):
        assert client.get(url).status_code < 500


@pytest.mark.parametrize("blank", ["\u200b", "\ufeff", "\u202e", "\u0007"])
def test_an_invisible_character_cannot_clear_a_patents_type(client, admin, blank):
    """A PATCH of patent_type "\u200b" reached the NOT NULL column: a 500. It is a 422 like a
    blank, and the patent keeps its type."""
    patent = db.session.scalar(
        sa.select(Patent).where(Patent.institution_id == admin.organization_id)
    )
    before = patent.patent_type
    response = client.patch(f"/api/v1/patents/{patent.id}", json={"patent_type": blank})
    assert response.status_code == 422 and "不能清空" in response.get_json()["message"]
    db.session.expire_all()
    assert db.session.get(Patent, patent.id).patent_type == before


def test_mail_without_a_public_address_does_not_start(monkeypatch):
    """A security review: with SMTP set and no REVIVE_BASE_URL, a password-reset link for a
    real user was built from the request's Host header (http://evil.example/...)."""
    from revive.config import load_config

    monkeypatch.setenv("REVIVE_SMTP_HOST", "smtp.example.cn")
    monkeypatch.delenv("REVIVE_BASE_URL", raising=False)
    with pytest.raises(ValueError, match="REVIVE_BASE_URL"):
        load_config()
    monkeypatch.setenv("REVIVE_BASE_URL", "https://revive.example.cn")
    assert load_config()["REVIVE_BASE_URL"] == "https://revive.example.cn"
