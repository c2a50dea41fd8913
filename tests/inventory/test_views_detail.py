"""Detail, create/edit forms, workflow buttons and the review queue, through HTTP."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.extensions import db
from revive.inventory import services
from revive.inventory.fields import EDITABLE_KEYS
from revive.inventory.forms import FIELD_GROUPS, initial_data
from revive.inventory.models import EntryStatus, Patent, Willingness
from tests.factories import make_college, make_org, make_patent, make_user

VALID = {"application_no": "CN201710601862.3", "title": "一种锂电池负极材料"}


@pytest.fixture
def admin(app):
    return make_user(Role.UNIVERSITY_ADMIN)


def html(resp) -> str:
    return resp.get_data(as_text=True)


def field_errors(page: str, key: str) -> list[str]:
    """Error messages rendered inside the form field block of ``key``."""
    block = re.search(
        rf'<div class="field[^"]*"[^>]*>\s*'
        rf'(?:<label for="{key}"|<span class="label" id="{key}-label")'
        rf"(.*?)</div>\s*(?=<div class=\"field|</div>)",
        page,
        re.S,
    )
    assert block, f"field {key} not rendered"
    return re.findall(r'<p class="field-error">(.*?)</p>', block.group(1))


def test_every_editable_field_is_in_exactly_one_group():
    keys = [k for _, group in FIELD_GROUPS for k in group]
    assert sorted(keys) == sorted(EDITABLE_KEYS)


# ---------------------------------------------------------------------------- create


def test_create_form_shows_help_for_each_self_assessment_level(client, auth, admin):
    auth.login(admin)
    page = html(client.get("/patents/new"))
    for text in (
        "9 级：实际应用，批量生产或成功运行",
        "5★：核心高价值专利",
        "暂不：近期不转化（不会被机器推荐给企业需求；入库后企业仍可在专利库中看到并申请对接）",
        "已产业化：已形成产品并规模销售",
        "开放许可",
        "是否由财政资助的科研项目形成",
    ):
        assert text in page


def test_create_with_errors_shows_chinese_messages_next_to_fields_and_keeps_input(
    client, auth, admin
):
    auth.login(admin)
    resp = client.post(
        "/patents/new",
        data={
            "application_no": "201710601862.4",
            "title": "",
            "trl": "12",
            "contact_email": "not-an-email",
            "abstract": "保留我的摘要",
        },
    )
    assert resp.status_code == 422
    page = html(resp)
    assert any("校验位" in e or "申请号" in e for e in field_errors(page, "application_no"))
    assert field_errors(page, "title") == ["缺少必填项：专利名称"]
    assert field_errors(page, "trl") == ["技术成熟度应在 1–9 之间：12"]
    assert field_errors(page, "contact_email") == ["联系邮箱格式不正确：not-an-email"]
    assert "保留我的摘要" in page
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 0


def test_create_saves_all_self_assessment_fields(client, auth, admin):
    college = make_college(admin.organization, "材料学院")
    auth.login(admin)
    resp = client.post(
        "/patents/new",
        data={
            **VALID,
            "college": "材料学院",
            "trl": "6",
            "value_grade": "4",
            "transfer_willingness": "willing",
            "transfer_modes": ["license", "assignment"],
            "implementation_status": "not_implemented",
            "is_funded": "是",
            "prospects": "可用于动力电池",
            "filing_date": "2017-07-26",
        },
    )
    assert resp.status_code == 302
    patent = db.session.scalar(sa.select(Patent))
    assert resp.headers["Location"].endswith(f"/patents/{patent.id}")
    assert (patent.college_id, patent.trl, patent.value_grade) == (college.id, 6, 4)
    assert patent.transfer_modes == "assignment,license"
    assert patent.is_funded is True
    assert patent.transfer_willingness == Willingness.WILLING
    assert patent.created_by_id == admin.id
    assert patent.status == EntryStatus.DRAFT


def test_college_admin_files_into_own_college_only(client, auth):
    college_admin = make_user(Role.COLLEGE_ADMIN)
    other = make_college(college_admin.organization, "别的学院")
    auth.login(college_admin)
    page = html(client.get("/patents/new"))
    assert college_admin.college.name in page
    assert "别的学院" not in page
    resp = client.post("/patents/new", data={**VALID, "college": "别的学院"})
    assert resp.status_code == 403
    resp = client.post("/patents/new", data={**VALID, "college": college_admin.college.name})
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Patent.college_id)) == college_admin.college_id != other.id


def test_inventor_must_name_themselves(client, auth):
    inventor = make_user(Role.INVENTOR, name="李发明")
    auth.login(inventor)
    assert 'value="李发明"' in html(client.get("/patents/new"))  # prefilled
    resp = client.post("/patents/new", data={**VALID, "inventors": "王五"})
    assert resp.status_code == 422
    assert field_errors(html(resp), "inventors") == ["须包含本人姓名"]
    resp = client.post("/patents/new", data={**VALID, "inventors": "王五；李发明"})
    assert resp.status_code == 302
    patent = db.session.scalar(sa.select(Patent))
    assert [u.id for u in patent.inventor_users] == [inventor.id]


def test_platform_admin_picks_the_university(client, auth):
    uni = make_org("某大学")
    auth.login(make_user(Role.PLATFORM_ADMIN))
    resp = client.post("/patents/new", data=VALID)
    assert resp.status_code == 422
    assert "请选择所属单位" in html(resp)
    assert client.post("/patents/new", data={**VALID, "institution_id": uni.id}).status_code == 302
    assert db.session.scalar(sa.select(Patent.institution_id)) == uni.id


# ---------------------------------------------------------------------------- edit


def test_edit_form_is_prefilled_and_saves_a_revision(client, auth, admin):
    patent = services.create_patent(
        {**VALID, "trl": "3", "transfer_modes": "转让", "abstract": "一种负极材料，容量高。"},
        institution_id=admin.organization_id,
        actor=admin,
    )
    auth.login(admin)
    page = html(client.get(f"/patents/{patent.id}/edit"))
    assert f'name="version" type="hidden" value="{patent.version}"' in page
    # 转化方式 are check boxes: no "用顿号或逗号分隔" (the import's help) under them
    assert 'name="transfer_modes"' in page and "可多选，用顿号或逗号分隔" not in page
    assert re.search(r'<input checked id="trl-3"', page)
    data = {**initial_data(patent), "trl": "7"}
    assert client.post(f"/patents/{patent.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert patent.trl == 7
    assert patent.transfer_modes == "assignment"
    assert patent.revisions[-1].changes == {"trl": [3, 7]}


def test_stale_edit_shows_conflict_and_keeps_the_users_input(client, auth, admin):
    patent = make_patent(admin.organization, title="原标题")
    auth.login(admin)
    stale = initial_data(patent)
    colleague = make_user(Role.UNIVERSITY_ADMIN, organization=admin.organization)
    services.update_patent(patent.id, {"title": "同事改的标题"}, actor=colleague)
    resp = client.post(f"/patents/{patent.id}/edit", data={**stale, "title": "我改的标题"})
    assert resp.status_code == 409
    page = html(resp)
    assert "该专利已被他人修改" in page
    assert 'value="我改的标题"' in page
    db.session.expire_all()
    assert patent.title == "同事改的标题"
    # what changed meanwhile is listed, field by field, with who changed it
    others = page.split('id="others-changes"')[1].split("</section>")[0]
    assert colleague.name in others and "手工修改" in others
    assert [c.strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", others)] == [
        "专利名称",
        "原标题",
        "同事改的标题",
    ]
    # the re-rendered form carries the current version: saving again is a deliberate overwrite
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    assert int(version) == patent.version
    resp = client.post(
        f"/patents/{patent.id}/edit", data={**stale, "title": "我改的标题", "version": version}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert patent.title == "我改的标题"


def test_edit_with_invalid_value_shows_error_beside_the_field(client, auth, admin):
    patent = make_patent(admin.organization)
    auth.login(admin)
    resp = client.post(
        f"/patents/{patent.id}/edit", data={**initial_data(patent), "grant_date": "2099-01-01"}
    )
    assert resp.status_code == 422
    assert "授权日超出范围" in field_errors(html(resp), "grant_date")[0]


def test_inventor_cannot_edit_a_submitted_patent(client, auth):
    inventor = make_user(Role.INVENTOR)
    patent = make_patent(
        inventor.organization, inventors=[inventor], status=EntryStatus.PENDING_SCHOOL
    )
    auth.login(inventor)
    assert client.get(f"/patents/{patent.id}/edit").status_code == 403
    assert "编辑</a>" not in html(client.get(f"/patents/{patent.id}"))


# ---------------------------------------------------------------------------- detail & workflow


def test_detail_shows_groups_status_log_and_field_history(client, auth, admin):
    college = make_college(admin.organization, "材料学院")
    patent = services.create_patent(
        {**VALID, "trl": "3", "college": "材料学院"},
        institution_id=admin.organization_id,
        actor=admin,
    )
    services.update_patent(patent.id, {"trl": "5", "transfer_willingness": "视条件"}, actor=admin)
    services.perform_action(patent.id, "submit", actor=admin)
    services.perform_action(patent.id, "college_return", actor=admin, comment="请补充技术优势")
    auth.login(admin)
    page = html(client.get(f"/patents/{patent.id}"))
    for group in ("基本信息", "权利人与发明人", "技术内容", "自评与转化意愿", "入库状态"):
        assert f"<h2>{group}</h2>" in page
    assert college.name in page
    assert '<span class="badge status-returned">退回</span>' in page
    log = page.split('id="status-log"')[1].split("</section>")[0]
    assert "草稿 → 待学院审核" in log
    assert "待学院审核 → 退回" in log
    assert "请补充技术优势" in log
    assert admin.name in log
    history = page.split('id="history"')[1].split("</section>")[0]
    assert "手工修改" in history
    assert "手工登记" in history
    assert re.search(r"<td[^>]*>技术成熟度</td><td>3</td><td>5</td>", history)
    assert re.search(r"<td[^>]*>转化意愿</td><td>（空）</td><td>视条件</td>", history)


def test_title_is_escaped_on_the_detail_page(client, auth, admin):
    patent = make_patent(
        admin.organization,
        title="<script>alert(1)</script>",
        abstract="<img src=x onerror=alert(2)>",
    )
    auth.login(admin)
    page = html(client.get(f"/patents/{patent.id}"))
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _buttons(page: str) -> set[str]:
    return set(re.findall(r'<button type="submit" name="action" value="(\w+)"', page))


def test_workflow_buttons_are_those_the_user_may_perform(client, auth):
    org = make_org()
    college = make_college(org)
    uni_admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    college_admin = make_user(Role.COLLEGE_ADMIN, college=college)
    inventor = make_user(Role.INVENTOR, organization=org)
    pending_school = make_patent(
        org, college=college, status=EntryStatus.PENDING_SCHOOL, inventors=[inventor]
    )
    draft = make_patent(org, college=college, inventors=[inventor])
    cases = [
        (uni_admin, pending_school, {"enter", "school_return", "not_enter", "abandon"}),
        (college_admin, pending_school, set()),
        (inventor, pending_school, set()),
        (inventor, draft, {"submit"}),
        (college_admin, draft, {"submit"}),
    ]
    for user, patent, expected in cases:
        auth.login(user)
        page = html(client.get(f"/patents/{patent.id}"))
        assert _buttons(page) == expected, (user.role, patent.status)
        auth.logout()
    auth.login(uni_admin)
    page = html(client.get(f"/patents/{pending_school.id}"))
    # a comment box only for actions that need one
    form = page.split('data-action="not_enter"')[1].split("</form>")[0]
    assert '<textarea name="comment"' in form
    form = page.split('data-action="enter"')[1].split("</form>")[0]
    assert "<textarea" not in form


def test_action_buttons_move_the_patent_and_report_errors(client, auth, admin):
    patent = make_patent(admin.organization, status=EntryStatus.PENDING_SCHOOL)
    auth.login(admin)
    resp = client.post(
        f"/patents/{patent.id}/actions/not_enter",
        data={"version": patent.version, "comment": ""},
        follow_redirects=True,
    )
    assert "需要填写意见或原因" in html(resp)
    resp = client.post(
        f"/patents/{patent.id}/actions/enter",
        data={"version": patent.version},
        follow_redirects=True,
    )
    assert "入库前须完成自评" in html(resp)  # trl/grade/willingness missing
    resp = client.post(
        f"/patents/{patent.id}/actions/not_enter",
        data={"version": patent.version, "comment": "与学校方向不符"},
        follow_redirects=True,
    )
    assert "当前状态：不入库" in html(resp)
    db.session.expire_all()
    assert patent.status == EntryStatus.NOT_ENTERED


def test_action_from_a_stale_page_is_refused(client, auth, admin):
    patent = make_patent(
        admin.organization,
        status=EntryStatus.PENDING_SCHOOL,
        trl=5,
        value_grade=3,
        transfer_willingness=Willingness.WILLING,
    )
    stale_version = patent.version
    services.update_patent(patent.id, {"trl": "6"}, actor=admin)
    auth.login(admin)
    resp = client.post(
        f"/patents/{patent.id}/actions/enter",
        data={"version": stale_version},
        follow_redirects=True,
    )
    assert "已被他人更新" in html(resp)
    db.session.expire_all()
    assert patent.status == EntryStatus.PENDING_SCHOOL


# ---------------------------------------------------------------------------- review queue


def test_review_queue_lists_what_waits_for_each_reviewer(client, auth):
    org = make_org()
    college, other_college = make_college(org), make_college(org)
    uni_admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    college_admin = make_user(Role.COLLEGE_ADMIN, college=college)
    p_college = make_patent(org, college=college, status=EntryStatus.PENDING_COLLEGE)
    p_other_college = make_patent(org, college=other_college, status=EntryStatus.PENDING_COLLEGE)
    p_no_college = make_patent(org, status=EntryStatus.PENDING_COLLEGE)
    p_school = make_patent(org, college=college, status=EntryStatus.PENDING_SCHOOL)
    make_patent(org, college=college)  # draft: nobody's queue
    make_patent(make_org(), status=EntryStatus.PENDING_SCHOOL)  # another university

    def queue() -> set[int]:
        page = html(client.get("/patents/review"))
        return {int(i) for i in re.findall(r'name="ids" value="(\d+)"', page)}

    auth.login(college_admin)
    assert queue() == {p_college.id}
    auth.logout()
    auth.login(uni_admin)
    # 待学院审核 that no college admin can take: without a college, or of a college with no
    # active college admin (a tester's 429 such patents could only be approved one by one)
    assert queue() == {p_school.id, p_no_college.id, p_other_college.id}
    college_admin.is_active_flag = False
    db.session.commit()
    assert p_college.id in queue()


def test_batch_review_reports_done_and_refused_with_reasons(client, auth):
    org = make_org()
    uni_admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    ready = [
        make_patent(
            org,
            status=EntryStatus.PENDING_SCHOOL,
            trl=5,
            value_grade=4,
            transfer_willingness=Willingness.WILLING,
        )
        for _ in range(2)
    ]
    ungraded = make_patent(org, status=EntryStatus.PENDING_SCHOOL, title="未自评专利")
    foreign = make_patent(make_org(), status=EntryStatus.PENDING_SCHOOL, title="别校专利")
    auth.login(uni_admin)
    ids = [str(p.id) for p in (*ready, ungraded, foreign)]
    resp = client.post(
        "/patents/review/batch", data={"ids": ids, "action": "enter"}, follow_redirects=True
    )
    page = html(resp)
    assert "已学校审核通过并入库 2 件：" in page and "；2 件未处理：" in page
    assert all(p.application_no in page for p in ready)  # what was done, to which
    # named by 申请号 and title, not by our id (a tester's flash read "#313 入库前须完成自评")
    assert f"{ungraded.application_no}「未自评专利」入库前须完成自评" in page
    assert f"#{ungraded.id}" not in page
    assert f"#{foreign.id} 专利不存在或您无权查看" in page
    assert "别校专利" not in page
    db.session.expire_all()
    assert [p.status for p in ready] == [EntryStatus.ENTERED] * 2
    assert ungraded.status == foreign.status == EntryStatus.PENDING_SCHOOL


def test_a_batch_over_the_whole_queue_takes_every_page(client, auth, app, monkeypatch):
    """A college admin with 738 patents waiting could only tick and send one page (50) at a
    time, although 提交审核 on the list offers 筛选结果中的全部. scope=queue takes every patent
    waiting for this reviewer that the action can move, on every page, nobody else's."""
    college_admin = make_user(Role.COLLEGE_ADMIN)
    org, college = college_admin.organization, college_admin.college
    waiting = [
        make_patent(org, college=college, status=EntryStatus.PENDING_COLLEGE) for _ in range(7)
    ]
    other_college = make_patent(
        org, college=make_college(org, "另一学院"), status=EntryStatus.PENDING_COLLEGE
    )
    draft = make_patent(org, college=college, status=EntryStatus.DRAFT)
    monkeypatch.setitem(app.config, "REVIVE_PAGE_SIZE", 3)
    auth.login(college_admin)
    page = html(client.get("/patents/review"))
    assert 'name="scope" value="queue"' in page and "队列中的全部 7 件" in page
    resp = client.post(
        "/patents/review/batch",
        data={"scope": "queue", "action": "college_approve"},
        follow_redirects=True,
    )
    assert "已学院审核通过 7 件：" in html(resp)
    db.session.expire_all()
    assert {p.status for p in waiting} == {EntryStatus.PENDING_SCHOOL}
    assert other_college.status == EntryStatus.PENDING_COLLEGE
    assert draft.status == EntryStatus.DRAFT
    resp = client.post(
        "/patents/review/batch",
        data={"scope": "queue", "action": "college_approve"},
        follow_redirects=True,
    )
    assert "队列中没有可以执行该操作的专利" in html(resp)


def test_batch_return_needs_a_comment_and_writes_it_to_each_log(client, auth):
    college_admin = make_user(Role.COLLEGE_ADMIN)
    patents = [
        make_patent(
            college_admin.organization,
            college=college_admin.college,
            status=EntryStatus.PENDING_COLLEGE,
        )
        for _ in range(2)
    ]
    auth.login(college_admin)
    ids = [str(p.id) for p in patents]
    resp = client.post(
        "/patents/review/batch",
        data={"ids": ids, "action": "college_return"},
        follow_redirects=True,
    )
    assert "需要填写意见或原因" in html(resp)
    resp = client.post(
        "/patents/review/batch",
        data={"ids": ids, "action": "college_return", "comment": "请补充摘要"},
        follow_redirects=True,
    )
    assert "已学院退回 2 件：" in html(resp)
    assert "未处理" not in html(resp)
    db.session.expire_all()
    for p in patents:
        assert p.status == EntryStatus.RETURNED
        assert p.status_changes[-1].comment == "请补充摘要"


def test_college_admin_is_offered_only_college_actions(client, auth):
    college_admin = make_user(Role.COLLEGE_ADMIN)
    make_patent(
        college_admin.organization,
        college=college_admin.college,
        status=EntryStatus.PENDING_COLLEGE,
    )
    auth.login(college_admin)
    assert _buttons(html(client.get("/patents/review"))) == {"college_approve", "college_return"}
    resp = client.post("/patents/review/batch", data={"ids": ["1"], "action": "enter"})
    db.session.expire_all()
    assert resp.status_code == 302
    assert db.session.scalar(sa.select(Patent.status)) == EntryStatus.PENDING_COLLEGE


def test_a_stale_edit_lists_only_what_changed_after_the_form_was_loaded(client, auth, admin):
    """Edits saved before the form was opened are not listed; an edit and a workflow move
    after it are; the re-rendered form starts a new window, so a second stale save lists
    only what came after the first."""
    patent = make_patent(admin.organization, title="原标题", trl=3)
    colleague = make_user(Role.UNIVERSITY_ADMIN, organization=admin.organization)
    services.update_patent(patent.id, {"abstract": "早先的摘要"}, actor=colleague)
    auth.login(admin)
    stale = initial_data(patent)
    services.update_patent(patent.id, {"trl": "6"}, actor=colleague)
    services.perform_action(patent.id, "submit", actor=colleague)
    page = html(client.post(f"/patents/{patent.id}/edit", data={**stale, "title": "我改的标题"}))
    others = page.split('id="others-changes"')[1].split("</section>")[0]
    assert "技术成熟度" in others and "摘要" not in others
    assert "data-status-move" in others and "状态：草稿 → 待学校审核" in others

    again = dict(stale, title="我改的标题")
    again["version"] = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    again["loaded_at"] = re.search(r'name="loaded_at" type="hidden" value="([^"]+)"', page).group(1)
    services.update_patent(patent.id, {"abstract": "新的摘要"}, actor=colleague)
    page = html(client.post(f"/patents/{patent.id}/edit", data=again))
    others = page.split('id="others-changes"')[1].split("</section>")[0]
    assert "摘要" in others and "技术成熟度" not in others and "data-status-move" not in others


def test_a_stale_edit_without_a_readable_load_time_still_keeps_the_input(client, auth, admin):
    patent = make_patent(admin.organization, title="原标题")
    auth.login(admin)
    stale = {**initial_data(patent), "loaded_at": "昨天"}
    services.update_patent(
        patent.id,
        {"title": "同事改的标题"},
        actor=make_user(Role.UNIVERSITY_ADMIN, organization=admin.organization),
    )
    resp = client.post(f"/patents/{patent.id}/edit", data={**stale, "title": "我改的标题"})
    assert resp.status_code == 409
    page = html(resp)
    assert 'value="我改的标题"' in page and "未找到具体改动记录" in page


def test_the_detail_page_says_when_the_term_ended(client, auth):
    from datetime import date

    from revive.accounts.models import Role
    from revive.inventory.models import PatentType
    from tests.factories import make_patent, make_user

    admin = make_user(Role.UNIVERSITY_ADMIN)
    patent = make_patent(
        admin.organization,
        patent_type=PatentType.UTILITY,
        filing_date=date(2014, 5, 27),
        legal_status="有效",
    )
    auth.login(admin)
    html = client.get(f"/patents/{patent.id}").get_data(as_text=True)
    assert 'id="term-ended"' in html and "保护期已于 2024-05-27 届满" in html
    assert "法律状态仍为「有效」" in html


def test_a_returned_patent_says_why_at_the_top(client, auth):
    """A tester's inventor found the 退回意见 only in 审核记录 at the bottom of the page."""
    from revive.inventory import services

    org = make_org()
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    patent = make_patent(org, status=EntryStatus.PENDING_SCHOOL)
    services.perform_action(patent.id, "school_return", actor=admin, comment="请补充技术成熟度依据")
    auth.login(admin)
    page = html(client.get(f"/patents/{patent.id}"))
    banner = page.split('id="returned-reason"')[1].split("</div>")[0]
    assert "已被退回" in banner and "请补充技术成熟度依据" in banner and admin.name in banner
    assert page.index('id="returned-reason"') < page.index('id="status-log"')


def test_a_draft_never_submitted_offers_deletion(client, auth, admin):
    draft = make_patent(admin.organization, title="一种录错的专利")
    pending = make_patent(admin.organization, status=EntryStatus.PENDING_SCHOOL)
    db.session.commit()
    auth.login(admin)
    page = html(client.get(f"/patents/{draft.id}"))
    assert 'id="delete-draft"' in page and "data-confirm=" in page
    assert 'id="delete-draft"' not in html(client.get(f"/patents/{pending.id}"))
    resp = client.post(f"/patents/{draft.id}/delete", data={"version": draft.version})
    assert resp.status_code == 302 and resp.location.endswith("/patents/")
    assert "已删除草稿「一种录错的专利」" in html(client.get(resp.location))
    refused = client.post(f"/patents/{pending.id}/delete", data={"version": pending.version})
    assert refused.status_code == 302 and refused.location.endswith(f"/patents/{pending.id}")
    assert db.session.get(Patent, pending.id) is not None


def test_the_school_queue_offers_only_the_actions_of_the_stages_waiting(client, auth):
    """UX review (ua-review-d): a university admin with only 待学校审核 patents waiting was
    offered six buttons, 学院审核通过 and 学院退回 among them. The queue offers the actions that
    can move something waiting; each button names its stages and each row its status, so the
    page enables a button only for ticked rows of its stages; the server still refuses a
    patent of another stage."""
    org = make_org()
    uni_admin = make_user(Role.UNIVERSITY_ADMIN, organization=org)
    school = make_patent(org, college=make_college(org), status=EntryStatus.PENDING_SCHOOL)
    auth.login(uni_admin)
    page = html(client.get("/patents/review"))
    assert _buttons(page) == {"enter", "school_return", "not_enter", "abandon"}
    assert f'value="{school.id}" data-status="pending_school"' in page
    assert 'value="enter"' in page and 'data-sources="pending_school"' in page

    no_college = make_patent(org, status=EntryStatus.PENDING_COLLEGE)
    page = html(client.get("/patents/review"))
    assert {"college_approve", "college_return"} <= _buttons(page)

    resp = client.post(
        "/patents/review/batch",
        data={"ids": [str(school.id)], "action": "college_approve"},
        follow_redirects=True,
    )
    assert "未处理" in html(resp)
    db.session.expire_all()
    assert school.status == EntryStatus.PENDING_SCHOOL
    assert no_college.status == EntryStatus.PENDING_COLLEGE
