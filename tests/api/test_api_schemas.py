"""Request checking by the routes' schemas (revive/api/schema.py): this API's 422 shape and
Chinese messages, never webargs' English ones."""

from __future__ import annotations

from revive.accounts.models import Role
from tests.factories import make_patent, make_user


def test_schema_errors_keep_the_api_error_shape(client, auth):
    admin = make_user(Role.UNIVERSITY_ADMIN)
    patent = make_patent(admin.organization)
    auth.login(admin)
    url = f"/api/v1/patents/{patent.id}"

    not_object = client.patch(url, json=[1, 2])
    assert not_object.status_code == 422
    assert not_object.get_json() == {
        "error": "validation_failed",
        "message": "请求体须为 JSON 对象",
    }

    bad = client.patch(url, json={"title": {"a": 1}, "version": True, "colour": 1, "size": 2})
    assert bad.status_code == 422
    body = bad.get_json()
    assert body["error"] == "validation_failed"
    assert body["details"] == {
        "title": "专利名称须为文本",
        "version": "须为整数",
        "colour": "未知字段",
        "size": "未知字段",
    }
    assert body["message"].startswith("未知字段：colour、size；")
    assert "version 须为整数" in body["message"]

    # Each member of the JSON type its schema gives (a security review stored "title": true
    # as "True", a list as "一种,装置", and an empty list cleared a date)
    for value in (True, 123, ["一种", "装置"], []):
        wrong = client.patch(url, json={"title": value})
        assert wrong.status_code == 422
        assert wrong.get_json()["details"] == {"title": "专利名称须为文本"}
    wrong = client.patch(url, json={"contact_email": []})
    assert wrong.get_json()["details"] == {"contact_email": "联系邮箱须为文本"}
    wrong = client.patch(url, json={"is_funded": "maybe"})
    assert wrong.status_code == 422
    assert client.patch(url, json={"is_funded": True}).status_code == 200
    assert client.patch(url, json={"transfer_modes": ["license"]}).status_code == 200
    assert client.patch(url, json={"asking_price": 12.5}).status_code == 200

    # The field table's own parser and message (the import template's rule).
    trl = client.patch(url, json={"trl": 10})
    assert trl.status_code == 422
    assert set(trl.get_json()["details"]) == {"trl"}
    assert "技术成熟度" in trl.get_json()["message"]

    # An action's body may be left out (then the action itself is judged): a name that is no
    # action is a bad request, naming the ones there are (an integrator read a 409).
    unknown = client.post(f"{url}/actions/nonsense")
    assert unknown.status_code == 422 and "submit" in unknown.get_json()["details"]["action"]


def test_marshmallow_messages_never_reach_a_caller_in_english():
    from revive.api.schema import validation_failed

    error = validation_failed(
        {"a": ["Field may not be null."], "b": ["Unknown field."], "c": ["Some new message."]}
    )
    assert error.details == {"a": "不能为空", "b": "未知字段", "c": "格式无效"}
    assert error.message == "未知字段：b；a 不能为空；c 格式无效"


def test_a_body_that_does_not_parse_is_refused_not_read_as_no_body(client, auth):
    """An action's body may be left out, but a truncated one is not "no body": it carried a
    version (the stale-form check) that must not be skipped."""
    from revive.extensions import db
    from revive.inventory.models import EntryStatus

    admin = make_user(Role.UNIVERSITY_ADMIN)
    patent = make_patent(admin.organization)
    auth.login(admin)
    url = f"/api/v1/patents/{patent.id}"
    version = patent.version

    truncated = client.post(
        f"{url}/actions/submit",
        data='{"version": 1, "comment": "stale"',
        content_type="application/json",
    )
    assert truncated.status_code == 400
    assert truncated.get_json()["message"].startswith("请求体不是有效的 JSON")
    bad_utf8 = client.patch(url, data=b'{"title": "\xff"}', content_type="application/json")
    assert bad_utf8.status_code == 400
    # null is valid JSON, just not an object: not called malformed (a security review)
    null = client.patch(url, data="null", content_type="application/json")
    assert null.status_code == 422 and null.get_json()["message"] == "请求体须为 JSON 对象"
    form = client.post(f"{url}/actions/submit", data={"version": "1"})
    assert form.status_code == 422 and "application/json" in form.get_json()["message"]
    db.session.expire_all()
    assert patent.version == version and patent.status == EntryStatus.DRAFT

    # no body at all (or only whitespace) still means "no comment, no version check"
    blank = client.post(f"{url}/actions/submit", data=" \n", content_type="application/json")
    assert blank.status_code == 200
