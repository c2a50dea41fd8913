"""Create/edit services: validation, uniqueness, history, optimistic locking, inventor links."""

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.errors import ConflictError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import services
from revive.inventory.models import EntryStatus, Patent, PatentRevision
from tests.audit.helpers import events
from tests.factories import make_college, make_org, make_patent, make_user

DATA = {"application_no": "CN201710601862.3", "title": "一种锂电池负极材料", "trl": "4"}


@pytest.fixture
def admin(app):
    return make_user(Role.UNIVERSITY_ADMIN)


def test_create_normalizes_and_records_a_create_revision(admin):
    patent = services.create_patent(DATA, institution_id=admin.organization_id, actor=admin)
    assert patent.application_no == "201710601862.3"
    assert patent.status == EntryStatus.DRAFT and patent.trl == 4
    (rev,) = patent.revisions
    assert rev.source == "create" and rev.changes["title"] == [None, "一种锂电池负极材料"]


def test_duplicate_application_number_in_same_university_is_refused(admin):
    services.create_patent(DATA, institution_id=admin.organization_id, actor=admin)
    with pytest.raises(ValidationFailed, match="已登记"):
        services.create_patent(
            {**DATA, "application_no": "201710601862.3"},
            institution_id=admin.organization_id,
            actor=admin,
        )
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 1


def test_same_number_may_exist_in_two_universities(admin):
    other = make_user(Role.UNIVERSITY_ADMIN)
    services.create_patent(DATA, institution_id=admin.organization_id, actor=admin)
    services.create_patent(DATA, institution_id=other.organization_id, actor=other)
    assert db.session.scalar(sa.select(sa.func.count(Patent.id))) == 2


def test_cannot_create_in_another_university(admin):
    with pytest.raises(PermissionDenied):
        services.create_patent(DATA, institution_id=make_org().id, actor=admin)


def test_invalid_data_reports_every_field(admin):
    with pytest.raises(ValidationFailed) as err:
        services.create_patent(
            {"application_no": "201710601862.4", "trl": "12"},
            institution_id=admin.organization_id,
            actor=admin,
        )
    assert set(err.value.details) == {"application_no", "title", "trl"}


def test_update_records_field_history(admin):
    patent = make_patent(admin.organization, trl=3)
    services.update_patent(patent.id, {"trl": "6", "title": patent.title}, actor=admin)
    rev = db.session.scalars(
        sa.select(PatentRevision).where(PatentRevision.patent_id == patent.id)
    ).one()
    assert rev.source == "edit" and rev.changes == {"trl": [3, 6]} and rev.actor_id == admin.id


def test_update_without_changes_writes_no_revision(admin):
    patent = make_patent(admin.organization, trl=3)
    services.update_patent(patent.id, {"trl": "3"}, actor=admin)
    assert db.session.scalar(sa.select(sa.func.count(PatentRevision.id))) == 0


def test_stale_form_is_refused_not_overwritten(admin):
    patent = make_patent(admin.organization, trl=3)
    loaded_version = patent.version
    services.update_patent(patent.id, {"trl": "5"}, actor=admin, expected_version=loaded_version)
    with pytest.raises(ConflictError):
        services.update_patent(
            patent.id, {"trl": "7"}, actor=admin, expected_version=loaded_version
        )
    assert db.session.get(Patent, patent.id).trl == 5


def test_unknown_college_is_a_validation_error(admin):
    with pytest.raises(ValidationFailed, match="未知学院"):
        services.create_patent(
            {**DATA, "college": "不存在学院"}, institution_id=admin.organization_id, actor=admin
        )


def test_college_admin_edits_only_while_in_college_hands(app):
    org = make_org()
    college = make_college(org)
    college_admin = make_user(Role.COLLEGE_ADMIN, organization=org, college=college)
    draft = make_patent(org, college=college)
    services.update_patent(draft.id, {"trl": "2"}, actor=college_admin)
    entered = make_patent(org, college=college, status=EntryStatus.ENTERED)
    with pytest.raises(PermissionDenied):
        services.update_patent(entered.id, {"trl": "2"}, actor=college_admin)


def test_naming_a_person_on_a_patent_links_no_account(admin):
    # Was test_inventor_accounts_are_linked_by_name and
    # test_link_inventor_attaches_existing_patents_naming_them: create, edit and import
    # linked every inventor account whose name appeared in 发明人. Names collide (张伟 in two
    # colleges), so a name now links nothing; an admin links accounts explicitly.
    namesake = make_user(Role.INVENTOR, organization=admin.organization, name="王芳")
    patent = services.create_patent(
        {**DATA, "inventors": "张伟；王芳、赵强"}, institution_id=admin.organization_id, actor=admin
    )
    assert patent.inventor_users == []
    other = make_patent(admin.organization, inventors=None)
    services.update_patent(other.id, {"inventors": "王芳"}, actor=admin)
    db.session.expire_all()
    assert db.session.get(Patent, other.id).inventor_users == []
    assert namesake not in db.session.get(Patent, patent.id).inventor_users


def test_an_inventor_filing_a_patent_is_linked_to_it_and_the_link_is_audited(app):
    inventor = make_user(Role.INVENTOR, name="李发明")
    patent = services.create_patent(
        {**DATA, "inventors": "李发明；王芳"},
        institution_id=inventor.organization_id,
        actor=inventor,
    )
    assert [u.id for u in patent.inventor_users] == [inventor.id]
    (event,) = events(entity="patent", entity_id=patent.id, action="link_inventor")
    assert event.actor_id == inventor.id and event.organization_id == inventor.organization_id
    assert event.data["inventor_id"] == inventor.id and event.data["via"] == "filed"


def test_partial_update_is_checked_together_with_the_stored_values(admin):
    patent = services.create_patent(
        {**DATA, "transfer_willingness": "愿意", "transfer_modes": "转让"},
        institution_id=admin.organization_id,
        actor=admin,
    )
    with pytest.raises(ValidationFailed, match="转化意愿为“暂不”时不应填写可接受的转化方式"):
        services.update_patent(patent.id, {"transfer_willingness": "暂不"}, actor=admin)
    services.update_patent(patent.id, {"filing_date": "2017-06-01"}, actor=admin)
    with pytest.raises(ValidationFailed, match="授权日早于申请日"):
        services.update_patent(patent.id, {"grant_date": "2017-01-01"}, actor=admin)
    services.update_patent(
        patent.id, {"transfer_willingness": "暂不", "transfer_modes": ""}, actor=admin
    )
    assert patent.transfer_modes is None


def test_an_entered_patent_keeps_its_self_assessment_on_edit(admin):
    patent = make_patent(admin.organization, status=EntryStatus.ENTERED)
    with pytest.raises(ValidationFailed, match="已入库的专利须保留技术成熟度"):
        services.update_patent(patent.id, {"trl": ""}, actor=admin)
    assert db.session.get(Patent, patent.id).trl == 5


def test_batch_summary_names_refused_patents_by_application_number_and_short_title(app):
    from revive.inventory.services import BatchResult

    patent = make_patent(title="一种用于高温环境的复合陶瓷材料及其制备方法")
    done = make_patent(title="一种锂电池")
    result = BatchResult(
        done=[done.id],
        refused=[(patent.id, "入库前须完成自评"), (999, "专利不存在")],
        action="enter",
    )
    result.labels[done.id] = services.batch_label(done)
    result.labels[patent.id] = services.batch_label(patent)
    # says what was done and to which patents (UX review c1-review-approved-d: 已处理 2 条)
    assert result.summary == (
        f"已学校审核通过并入库 1 件：{done.application_no}「一种锂电池」；"
        f"2 件未处理：{patent.application_no}「一种用于高温环境的复合陶…」"
        "入库前须完成自评；#999 专利不存在"
    )
