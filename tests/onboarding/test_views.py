"""The institutions pages (platform admin) and colleges in bulk (school admins)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook, load_workbook

from revive.accounts.models import College, InstitutionType, Organization, OrgKind, Role
from revive.audit.models import AuditEvent
from revive.extensions import db
from revive.imports.models import ImportJob
from revive.onboarding.services import MAX_COLLEGES
from tests.factories import make_college, make_org, make_user
from tests.onboarding.helpers import code, institutions_csv, row

FORM = {
    "name": "内蒙古工业大学",
    "credit_code": code(7),
    "region": "内蒙古自治区呼和浩特市",
    "institution_type": "university",
}


@pytest.fixture
def admin(app, auth):
    user = make_user(Role.PLATFORM_ADMIN, name="平台管理员")
    auth.login(user)
    return user


def test_the_platform_admin_adds_an_institution_then_invites_its_admin(client, admin):
    resp = client.post("/institutions/", data=FORM)
    org = db.session.scalar(sa.select(Organization))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/members?org={org.id}")
    assert org.kind == OrgKind.UNIVERSITY and org.institution_type == InstitutionType.UNIVERSITY
    assert org.credit_code == code(7) and org.region == "内蒙古自治区呼和浩特市"
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.entity, event.action, event.actor_id) == ("organization", "create", admin.id)
    page = client.get("/institutions/").get_data(as_text=True)
    assert "内蒙古工业大学" in page and "邀请学校管理员" in page
    invite = {
        "organization_id": str(org.id),
        "email": "tto@imut.edu.cn",
        "name": "科技处王老师",
        "role": "university_admin",
        "college_id": "0",
    }
    answer = client.post("/members/invite", data=invite).get_data(as_text=True)
    assert "/invite/" in answer


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"credit_code": "12150000123456789X"}, "校验位错误"),
        ({"credit_code": "123"}, "应为 18 位"),
        ({"name": ""}, "请填写单位名称"),
        ({"region": ""}, "请填写所在地区"),
        ({"institution_type": "hospital"}, "请选择单位类型"),
    ],
)
def test_a_bad_institution_is_refused_in_chinese(client, admin, change, message):
    resp = client.post("/institutions/", data={**FORM, **change})
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 0


def test_a_taken_name_or_code_is_refused(client, admin):
    make_org("内蒙古工业大学")
    resp = client.post("/institutions/", data=FORM)
    assert resp.status_code == 422 and "已有名为「内蒙古工业大学」" in resp.get_data(as_text=True)
    make_org("某科技有限公司", kind=OrgKind.ENTERPRISE, credit_code=code(8))
    resp = client.post("/institutions/", data={**FORM, "name": "新大学", "credit_code": code(8)})
    assert resp.status_code == 422 and "已登记为「某科技有限公司」" in resp.get_data(as_text=True)


def test_the_list_pages_and_searches(client, admin, app):
    app.config["REVIVE_PAGE_SIZE"] = 2
    try:
        for n in range(5):
            make_org(f"北疆第{n}大学", region="包头市" if n == 3 else "呼和浩特市")
        page = client.get("/institutions/?page=3").get_data(as_text=True)
        assert "北疆第4大学" in page and "北疆第0大学" not in page
        found = client.get("/institutions/?q=包头").get_data(as_text=True)
        assert "北疆第3大学" in found and "北疆第4大学" not in found
    finally:
        app.config["REVIVE_PAGE_SIZE"] = 50


def test_upload_preview_and_template(client, admin, enqueued):
    template = client.get("/institutions/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data)).worksheets[0]
    assert [c.value for c in sheet[1]] == ["单位名称", "统一社会信用代码", "所在地区", "单位类型"]
    assert "高校/科研院所" in client.get("/institutions/import").get_data(as_text=True)
    data = {"file": (io.BytesIO(institutions_csv([row(1), row(2)])), "名单.csv")}
    resp = client.post("/institutions/import", data=data, content_type="multipart/form-data")
    job = db.session.scalar(sa.select(ImportJob))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/imports/{job.id}")
    assert job.kind == "institutions" and enqueued == [("imports.validate", (job.id,))]
    empty = client.post("/institutions/import", data={}, content_type="multipart/form-data")
    assert empty.status_code == 422 and "请选择要上传的文件" in empty.get_data(as_text=True)


@pytest.mark.parametrize("role", [Role.UNIVERSITY_ADMIN, Role.OFFICER, Role.REGULATOR])
def test_others_may_not_manage_institutions(client, auth, app, role):
    auth.login(make_user(role))
    assert client.get("/institutions/").status_code == 403
    assert client.post("/institutions/", data=FORM).status_code == 403
    assert client.get("/institutions/import").status_code == 403


# ---------------------------------------------------------------------------- colleges


def colleges(org) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(College.name).where(College.institution_id == org.id).order_by(College.id)
        )
    )


def test_a_school_admin_pastes_a_list_of_colleges(client, auth, app):
    uni = make_org("北疆大学")
    make_college(uni, "材料学院")
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    names = "材料学院\n  计算机学院 \n\n化学化工学院\n计算机学院\n"
    resp = client.post("/colleges/bulk", data={"names": names}, follow_redirects=True)
    assert "已添加 2 个学院，1 个已存在、已跳过" in resp.get_data(as_text=True)
    assert colleges(uni) == ["材料学院", "计算机学院", "化学化工学院"]


def test_a_school_admin_uploads_a_column_of_colleges(client, auth, app):
    uni = make_org("北疆大学")
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    wb = Workbook()
    ws = wb.active
    ws.append(["序号", "学院名称", "负责人"])
    for n, name in enumerate(["能源与动力工程学院", "生命科学学院", "能源与动力工程学院"], 1):
        ws.append([n, name, "某老师"])
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    resp = client.post(
        "/colleges/bulk",
        data={"file": (buffer, "学院.xlsx")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "已添加 2 个学院" in resp.get_data(as_text=True)
    assert colleges(uni) == ["能源与动力工程学院", "生命科学学院"]
    # A bare list without a header: every cell of the first column is a name.
    bare = io.BytesIO("水利学院\n外国语学院\n".encode())
    client.post(
        "/colleges/bulk",
        data={"file": (bare, "学院.csv")},
        content_type="multipart/form-data",
    )
    assert colleges(uni)[-2:] == ["水利学院", "外国语学院"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"names": ""}, "请填写学院名称"),
        ({"names": "\n".join(f"学院{n}" for n in range(MAX_COLLEGES + 1))}, "一次最多添加 500"),
        ({"names": "学" * 201}, "学院名称过长"),
        ({"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n0000"), "x.png")}, "不支持的文件类型"),
    ],
)
def test_bad_college_lists_are_refused_in_chinese(client, auth, app, data, message):
    uni = make_org("北疆大学")
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=uni))
    resp = client.post(
        "/colleges/bulk", data=data, content_type="multipart/form-data", follow_redirects=True
    )
    assert resp.status_code == 200
    assert message in resp.get_data(as_text=True)
    assert colleges(uni) == []


def test_colleges_only_for_a_university_the_admin_manages(client, auth, app):
    mine, other = make_org("甲大学"), make_org("乙大学")
    auth.login(make_user(Role.UNIVERSITY_ADMIN, organization=mine))
    client.post("/colleges/bulk", data={"names": "文学院"})  # their own university
    refused = client.post("/colleges/bulk", data={"names": "文学院", "organization_id": other.id})
    assert refused.status_code == 403
    assert colleges(mine) == ["文学院"] and colleges(other) == []
    auth.logout()
    auth.login(make_user(Role.PLATFORM_ADMIN))
    client.post("/colleges/bulk", data={"names": "理学院", "organization_id": str(other.id)})
    assert colleges(other) == ["理学院"]
    ent = make_org("某公司", kind=OrgKind.ENTERPRISE)
    resp = client.post(
        "/colleges/bulk",
        data={"names": "理学院", "organization_id": str(ent.id)},
        follow_redirects=True,
    )
    assert "只能为高校/科研院所" in resp.get_data(as_text=True)
