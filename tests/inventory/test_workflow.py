"""Every workflow transition, allowed and refused, through the service."""

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.errors import InvalidTransition, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import services
from revive.inventory.models import EntryStatus as S
from revive.inventory.models import StatusChange
from revive.inventory.workflow import ACTIONS
from tests.factories import make_college, make_org, make_patent, make_user


@pytest.fixture
def uni(app):
    org = make_org()
    college = make_college(org)
    return {
        "org": org,
        "college": college,
        "admin": make_user(Role.UNIVERSITY_ADMIN, organization=org),
        "college_admin": make_user(Role.COLLEGE_ADMIN, organization=org, college=college),
    }


def _graded(**kw):
    return {"trl": 5, "value_grade": 4, "transfer_willingness": "willing", **kw}


EXPECTED = {
    # action: (from, to)
    "submit": (S.DRAFT, S.PENDING_COLLEGE),
    "college_approve": (S.PENDING_COLLEGE, S.PENDING_SCHOOL),
    "college_return": (S.PENDING_COLLEGE, S.RETURNED),
    "enter": (S.PENDING_SCHOOL, S.ENTERED),
    "school_return": (S.PENDING_SCHOOL, S.RETURNED),
    "not_enter": (S.PENDING_SCHOOL, S.NOT_ENTERED),
    "abandon": (S.PENDING_SCHOOL, S.ABANDON),
    "reopen": (S.ENTERED, S.RETURNED),
}


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_each_allowed_transition_moves_state_and_writes_the_log(uni, action):
    source, target = EXPECTED[action]
    patent = make_patent(
        uni["org"],
        college=uni["college"],
        status=source,
        trl=5,
        value_grade=4,
        transfer_willingness="willing",
    )
    services.perform_action(patent.id, action, actor=uni["admin"], comment="意见")
    db.session.refresh(patent)
    assert patent.status == target
    log = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.patent_id == patent.id)
    ).all()
    assert [(c.from_status, c.to_status, c.actor_id, c.comment) for c in log] == [
        (source, target, uni["admin"].id, "意见")
    ]


@pytest.mark.parametrize(
    ("action", "status"),
    [(a, s) for a in sorted(ACTIONS) for s in S if s not in ACTIONS[a].sources],
)
def test_each_refused_transition_changes_nothing(uni, action, status):
    patent = make_patent(uni["org"], college=uni["college"], status=status, **_graded())
    version = patent.version
    with pytest.raises(InvalidTransition, match="不能执行"):
        services.perform_action(patent.id, action, actor=uni["admin"], comment="x")
    db.session.rollback()
    db.session.refresh(patent)
    assert patent.status == status and patent.version == version
    assert db.session.scalar(sa.select(sa.func.count(StatusChange.id))) == 0


def test_submit_without_college_goes_straight_to_school_review(uni):
    patent = make_patent(uni["org"])
    services.perform_action(patent.id, "submit", actor=uni["admin"])
    assert patent.status == S.PENDING_SCHOOL and patent.submitted_at is not None


@pytest.mark.parametrize("action", ["college_return", "school_return", "not_enter", "abandon"])
def test_return_and_rejection_need_a_comment(uni, action):
    status = ACTIONS[action].sources and next(iter(ACTIONS[action].sources))
    patent = make_patent(uni["org"], college=uni["college"], status=status)
    with pytest.raises(ValidationFailed, match="需要填写意见"):
        services.perform_action(patent.id, action, actor=uni["admin"], comment="  ")
    assert patent.status == status


def test_entering_requires_a_complete_self_assessment(uni):
    patent = make_patent(uni["org"], status=S.PENDING_SCHOOL, trl=None, value_grade=3)
    with pytest.raises(ValidationFailed, match="技术成熟度"):
        services.perform_action(patent.id, "enter", actor=uni["admin"])
    db.session.rollback()
    assert db.session.get(type(patent), patent.id).status == S.PENDING_SCHOOL


def test_a_lapsed_patent_does_not_enter_the_pool_and_one_already_there_leaves_it(uni):
    """A tester's batch 入库 took 21 patents whose 法律状态 was 失效: they sat in the public pool
    with 申请对接. 入库 refuses them; one entered before (or whose status changed since) is
    neither listed nor proposed; a pending application (审中) may enter."""
    from revive.inventory.models import Patent
    from revive.inventory.public import is_public, public_clause

    lapsed = make_patent(
        uni["org"], status=S.PENDING_SCHOOL, legal_status="未缴年费专利权终止", **_graded()
    )
    with pytest.raises(ValidationFailed, match="专利权已不存在，不能入库"):
        services.perform_action(lapsed.id, "enter", actor=uni["admin"])
    db.session.rollback()
    pending = make_patent(uni["org"], status=S.PENDING_SCHOOL, legal_status="审中", **_graded())
    services.perform_action(pending.id, "enter", actor=uni["admin"])
    result = services.perform_batch([lapsed.id, pending.id], "enter", actor=uni["admin"])
    assert [pid for pid, _ in result.refused] == [lapsed.id, pending.id]
    entered = make_patent(uni["org"], status=S.ENTERED, legal_status="失效", **_graded())
    valid = make_patent(uni["org"], status=S.ENTERED, legal_status=None, **_graded())
    listed = set(db.session.scalars(sa.select(Patent.id).where(public_clause())))
    assert listed == {pending.id, valid.id}
    assert not is_public(entered) and is_public(valid)


def test_college_admin_reviews_own_college_but_cannot_enter(uni):
    patent = make_patent(uni["org"], college=uni["college"], status=S.PENDING_COLLEGE, **_graded())
    services.perform_action(patent.id, "college_approve", actor=uni["college_admin"])
    with pytest.raises(PermissionDenied):
        services.perform_action(patent.id, "enter", actor=uni["college_admin"])
    assert patent.status == S.PENDING_SCHOOL


def test_college_admin_cannot_review_another_college(uni):
    other = make_college(uni["org"])
    patent = make_patent(uni["org"], college=other, status=S.PENDING_COLLEGE)
    with pytest.raises(Exception, match="不存在或您无权查看"):
        services.perform_action(patent.id, "college_approve", actor=uni["college_admin"])


def test_inventor_can_submit_own_patent_but_not_review_it(uni):
    inventor = make_user(Role.INVENTOR, organization=uni["org"], name="李明")
    patent = make_patent(uni["org"], college=uni["college"], inventors=[inventor])
    services.perform_action(patent.id, "submit", actor=inventor)
    with pytest.raises(PermissionDenied):
        services.perform_action(patent.id, "college_approve", actor=inventor)


def test_other_university_admin_gets_not_found(uni):
    stranger = make_user(Role.UNIVERSITY_ADMIN)
    patent = make_patent(uni["org"], status=S.PENDING_SCHOOL, **_graded())
    with pytest.raises(Exception, match="不存在或您无权查看"):
        services.perform_action(patent.id, "enter", actor=stranger)
    assert patent.status == S.PENDING_SCHOOL


def test_batch_applies_to_allowed_patents_and_reports_the_rest(uni):
    ok1 = make_patent(uni["org"], status=S.PENDING_SCHOOL, **_graded())
    ok2 = make_patent(uni["org"], status=S.PENDING_SCHOOL, **_graded())
    ungraded = make_patent(uni["org"], status=S.PENDING_SCHOOL)
    wrong_state = make_patent(uni["org"], status=S.DRAFT)
    foreign = make_patent(make_org(), status=S.PENDING_SCHOOL, **_graded())
    result = services.perform_batch(
        [ok1.id, ok2.id, ungraded.id, wrong_state.id, foreign.id], "enter", actor=uni["admin"]
    )
    assert result.done == [ok1.id, ok2.id]
    assert [pid for pid, _ in result.refused] == [ungraded.id, wrong_state.id, foreign.id]
    statuses = dict(db.session.execute(sa.select(type(ok1).id, type(ok1).status)).all())
    assert statuses[ok1.id] == statuses[ok2.id] == S.ENTERED
    assert statuses[ungraded.id] == S.PENDING_SCHOOL and statuses[foreign.id] == S.PENDING_SCHOOL


def test_a_batch_reads_its_patents_in_a_few_queries_and_writes_once(uni):
    """5,000 filtered submits took about 20 s: a lookup, a savepoint and a flush a row."""
    ids = [make_patent(uni["org"], college=uni["college"]).id for _ in range(60)]
    admin_id = uni["admin"].id
    db.session.commit()
    db.session.expunge_all()  # a request's fresh session
    admin = db.session.get(type(uni["admin"]), admin_id)
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = services.perform_batch(ids, "submit", actor=admin, limit=5000)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(result.done) == 60
    assert "SAVEPOINT" not in seen
    assert seen.count("SELECT") == 2, seen  # the patents, their inventor accounts
    # The writes: a patent's row, its status change and its audit event (one flush).
    assert seen.count("UPDATE") <= 60 and seen.count("INSERT") <= 120, seen
    assert db.session.scalar(sa.select(sa.func.count(StatusChange.id))) == 60


def test_batch_return_requires_comment(uni):
    p = make_patent(uni["org"], status=S.PENDING_SCHOOL)
    with pytest.raises(ValidationFailed):
        services.perform_batch([p.id], "school_return", actor=uni["admin"], comment="")


def test_a_never_submitted_draft_can_be_deleted_with_what_hangs_on_it(uni):
    """A record filed or imported by mistake could not be removed (an integrator's report)."""
    from revive.audit.models import AuditEvent
    from revive.inventory.models import Patent, PatentRevision

    draft = services.create_patent(
        {"application_no": "202110000005.4", "title": "一种录错的专利"},
        institution_id=uni["org"].id,
        actor=uni["admin"],
    )
    pid = draft.id
    assert services.can_delete(uni["admin"], draft)
    assert services.delete_draft(pid, actor=uni["admin"]) == "一种录错的专利"
    assert db.session.get(Patent, pid) is None
    assert (
        db.session.scalars(sa.select(PatentRevision).where(PatentRevision.patent_id == pid)).all()
        == []
    )
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.entity_id == pid, AuditEvent.action == "delete")
    )
    assert event.data == {"application_no": "202110000005.4", "title": "一种录错的专利"}
    # the 申请号 is free again
    again = services.create_patent(
        {"application_no": "202110000005.4", "title": "一种专利"},
        institution_id=uni["org"].id,
        actor=uni["admin"],
    )
    # its history is its own (SQLite may give it the deleted record's id)
    revisions = db.session.scalars(
        sa.select(PatentRevision).where(PatentRevision.patent_id == again.id)
    ).all()
    assert len(revisions) == 1


def test_only_a_draft_never_submitted_can_be_deleted(uni):
    submitted = make_patent(uni["org"], status=S.PENDING_SCHOOL)
    with pytest.raises(InvalidTransition, match="只能删除从未提交审核的草稿"):
        services.delete_draft(submitted.id, actor=uni["admin"])
    returned = make_patent(uni["org"], college=uni["college"])
    services.perform_action(returned.id, "submit", actor=uni["admin"])
    services.perform_action(returned.id, "college_return", actor=uni["college_admin"], comment="补")
    with pytest.raises(InvalidTransition, match="曾提交审核"):
        services.delete_draft(returned.id, actor=uni["admin"])
    draft = make_patent(uni["org"])
    stale = draft.version
    draft.title = "改过"
    db.session.commit()
    from revive.errors import ConflictError

    with pytest.raises(ConflictError):
        services.delete_draft(draft.id, actor=uni["admin"], expected_version=stale)
    foreign = make_patent(make_org())
    with pytest.raises(Exception, match="不存在或您无权查看"):
        services.delete_draft(foreign.id, actor=uni["admin"])
