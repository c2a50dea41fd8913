"""Who may evaluate, re-evaluating updates, invitations notify; audit rows are written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.audit.models import AuditEvent
from revive.errors import (
    ConflictError,
    InvalidTransition,
    NotFoundError,
    PermissionDenied,
    ValidationFailed,
)
from revive.evaluations import queries, services
from revive.evaluations.models import CooperationIntent, Evaluation, EvaluationInvite
from revive.extensions import db
from revive.inventory.models import EntryStatus
from revive.notifications.models import Notification
from tests.evaluations.helpers import (
    entered,
    make_deal,
    make_enterprise,
    make_evaluation,
    make_invite,
)
from tests.factories import make_patent, make_user


def _evaluate(user, patent, stars=4, intent="license", **kw):
    return services.evaluate_patent(
        patent.id, actor=user, prospect_stars=stars, intent=intent, **kw
    )


def _count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------------------- who may evaluate


@pytest.mark.parametrize("link", ["deal", "invite"])
def test_matched_or_invited_enterprise_may_evaluate(world, link):
    user = world.users[Role.ENTERPRISE]
    (make_deal if link == "deal" else make_invite)(world.own, world.ent_a)
    evaluation, created = _evaluate(
        user, world.own, stars=5, intent="joint_rd", improvement_needs=" 需中试 "
    )
    assert created
    assert (evaluation.prospect_stars, evaluation.intent) == (5, CooperationIntent.JOINT_RD)
    assert evaluation.improvement_needs == "需中试"
    assert evaluation.enterprise_id == world.ent_a.id and evaluation.user_id == user.id


def test_unrelated_enterprise_gets_not_found(world):
    make_deal(world.own, world.ent_b)  # another enterprise's match does not count
    make_invite(world.own, world.ent_b)
    with pytest.raises(NotFoundError):
        _evaluate(world.users[Role.ENTERPRISE], world.own)
    assert _count(Evaluation) == 0


def test_patent_must_be_entered(world):
    draft = make_patent(world.uni_a, status=EntryStatus.PENDING_SCHOOL)
    make_deal(draft, world.ent_a)
    with pytest.raises(InvalidTransition, match="已入库"):
        _evaluate(world.users[Role.ENTERPRISE], draft)
    assert _count(Evaluation) == 0


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ENTERPRISE])
def test_only_enterprise_users_evaluate(world, role):
    make_invite(world.own, world.ent_a)
    with pytest.raises(PermissionDenied):
        _evaluate(world.users[role], world.own)


@pytest.mark.parametrize(
    ("stars", "intent", "needs", "field"),
    [
        (0, "license", None, "prospect_stars"),
        (6, "license", None, "prospect_stars"),
        ("", "license", None, "prospect_stars"),
        (True, "license", None, "prospect_stars"),
        (3, "buy", None, "intent"),
        (3, "", None, "intent"),
        (3, "license", "长" * 2001, "improvement_needs"),
        # shown to the university and the other evaluators: no links (a security review)
        (3, "license", "改进方案见 https://revive-verify.example/x", "improvement_needs"),
        (3, "license", "详情请登录 www.revive-verify.cn", "improvement_needs"),
    ],
)
def test_invalid_answers_are_refused(world, stars, intent, needs, field):
    make_invite(world.own, world.ent_a)
    with pytest.raises(ValidationFailed) as exc:
        _evaluate(world.users[Role.ENTERPRISE], world.own, stars, intent, improvement_needs=needs)
    assert field in exc.value.details
    assert _count(Evaluation) == 0


def test_intent_may_be_given_by_its_chinese_label(world):
    make_invite(world.own, world.ent_a)
    evaluation, _ = _evaluate(world.users[Role.ENTERPRISE], world.own, 3, "转让")
    assert evaluation.intent == CooperationIntent.ASSIGNMENT


# ---------------------------------------------------------------------------- update, not duplicate


def test_evaluating_again_updates_the_enterprise_evaluation(world):
    make_deal(world.own, world.ent_a)
    make_invite(world.own, world.ent_a)  # both links: still one evaluation
    first, created = _evaluate(world.users[Role.ENTERPRISE], world.own, 2, "none")
    colleague = make_user(Role.ENTERPRISE, organization=world.ent_a)
    second, created_again = _evaluate(
        colleague, world.own, 4, "license", expected_version=first.version
    )
    assert created and not created_again
    assert second.id == first.id
    assert _count(Evaluation) == 1
    row = db.session.get(Evaluation, first.id)
    assert (row.prospect_stars, row.intent, row.user_id) == (
        4,
        CooperationIntent.LICENSE,
        colleague.id,
    )
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.entity == "evaluation")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["create", "update"]


def test_stale_version_is_a_conflict_and_changes_nothing(world):
    make_invite(world.own, world.ent_a)
    user = world.users[Role.ENTERPRISE]
    first, _ = _evaluate(user, world.own, 2, "none")
    stale = first.version
    _evaluate(user, world.own, 3, "none", expected_version=stale)  # a colleague saved first
    with pytest.raises(ConflictError):
        _evaluate(user, world.own, 5, "license", expected_version=stale)
    db.session.expire_all()
    assert db.session.get(Evaluation, first.id).prospect_stars == 3


def test_each_enterprise_has_its_own_evaluation(world):
    make_invite(world.own, world.ent_a)
    make_invite(world.own, world.ent_b)
    _evaluate(world.users[Role.ENTERPRISE], world.own, 2)
    _evaluate(world.other_enterprise_user, world.own, 5)
    assert _count(Evaluation, Evaluation.patent_id == world.own.id) == 2


def test_first_evaluation_notifies_the_university_once(world, enqueued):
    """Once, and only to the members who may see the patent: sent to the whole university,
    the enterprise's name, stars and intent reached every inventor of every college (and
    their e-mail; a security review)."""
    from revive.accounts.models import User
    from revive.inventory import permissions as inventory_permissions
    from tests.factories import make_college, make_user

    outsider = make_user(
        Role.INVENTOR, organization=world.uni_a, college=make_college(world.uni_a, "外学院")
    )
    make_invite(world.own, world.ent_a)
    user = world.users[Role.ENTERPRISE]
    _evaluate(user, world.own, 4, "license")
    _evaluate(user, world.own, 5, "license")
    rows = db.session.scalars(
        sa.select(Notification).where(Notification.kind == "evaluation_received")
    ).all()
    members = db.session.scalars(sa.select(User).where(User.organization_id == world.uni_a.id))
    entitled = {u.id for u in members if inventory_permissions.can_view(u, world.own)}
    assert {r.user_id for r in rows} == entitled and len(rows) == len(entitled) >= 1
    assert outsider.id not in entitled
    assert all(r.organization_id is None for r in rows)
    assert "甲科技有限公司" in rows[0].title and "4★" in rows[0].body


# ---------------------------------------------------------------------------- invitations


@pytest.mark.parametrize("role", [Role.OFFICER, Role.PLATFORM_ADMIN, Role.UNIVERSITY_ADMIN])
def test_invite_notifies_the_enterprise_and_lets_it_evaluate(world, role, enqueued, app):
    app.config["REVIVE_SMTP_HOST"] = "smtp.example.com"
    try:
        invite, created = services.invite_enterprise(
            world.own.id, actor=world.users[role], enterprise_name="乙制造有限公司"
        )
    finally:
        app.config["REVIVE_SMTP_HOST"] = ""
    assert created and invite.enterprise_id == world.ent_b.id
    note = db.session.scalar(
        sa.select(Notification).where(Notification.kind == "evaluation_invited")
    )
    assert note.organization_id == world.ent_b.id
    assert note.link == f"/evaluations/patents/{world.own.id}/evaluate"
    assert ("notifications.email", (note.id,)) in enqueued  # e-mail queued after the commit
    audit = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.entity == "evaluation_invite"))
    assert audit.actor_id == world.users[role].id and audit.data["enterprise_id"] == world.ent_b.id
    evaluation, _ = _evaluate(world.other_enterprise_user, world.own, 3)
    assert evaluation.enterprise_id == world.ent_b.id


def test_invite_again_changes_nothing(world):
    officer = world.users[Role.OFFICER]
    first, _ = services.invite_enterprise(world.own.id, actor=officer, enterprise_id=world.ent_b.id)
    again, created = services.invite_enterprise(
        world.own.id, actor=officer, enterprise_name="乙制造"
    )
    assert not created and again.id == first.id
    assert _count(EvaluationInvite) == 1
    assert _count(Notification, Notification.kind == "evaluation_invited") == 1


def test_invite_by_partial_name_must_be_unique(world):
    officer = world.users[Role.OFFICER]
    with pytest.raises(ValidationFailed, match="多家企业"):
        services.invite_enterprise(world.own.id, actor=officer, enterprise_name="有限公司")
    with pytest.raises(ValidationFailed, match="未找到"):
        services.invite_enterprise(world.own.id, actor=officer, enterprise_name="不存在的公司")
    with pytest.raises(ValidationFailed, match="未找到"):  # a university is not an enterprise
        services.invite_enterprise(world.own.id, actor=officer, enterprise_id=world.uni_b.id)
    assert _count(EvaluationInvite) == 0


def test_other_university_admin_cannot_invite(world):
    with pytest.raises(NotFoundError):
        services.invite_enterprise(
            world.other.id, actor=world.users[Role.UNIVERSITY_ADMIN], enterprise_id=world.ent_b.id
        )


@pytest.mark.parametrize(
    "role", [Role.COLLEGE_ADMIN, Role.INVENTOR, Role.ENTERPRISE, Role.REGULATOR]
)
def test_other_roles_cannot_invite(world, role):
    with pytest.raises(PermissionDenied):
        services.invite_enterprise(
            world.own.id, actor=world.users[role], enterprise_id=world.ent_b.id
        )
    assert _count(EvaluationInvite) == 0


def test_invite_needs_an_entered_patent(world):
    pending = make_patent(world.uni_a, status=EntryStatus.PENDING_COLLEGE)
    with pytest.raises(InvalidTransition):
        services.invite_enterprise(
            pending.id, actor=world.users[Role.OFFICER], enterprise_id=world.ent_b.id
        )


# ---------------------------------------------------------------------------- what each viewer sees


def test_double_five_needs_self_five_and_an_enterprise_five(world):
    five = entered(world.uni_a, value_grade=5)
    four = entered(world.uni_a, value_grade=4)
    officer = world.users[Role.OFFICER]
    make_evaluation(five, world.ent_a, stars=4)
    assert not queries.patent_evaluations(officer, five).double_five
    make_evaluation(five, world.ent_b, stars=5)
    assert queries.patent_evaluations(officer, five).double_five
    make_evaluation(four, world.ent_b, stars=5)
    assert not queries.patent_evaluations(officer, four).double_five


def test_university_sees_names_enterprises_see_others_anonymised(world):
    third = make_enterprise("丙材料有限公司")
    for ent, stars in ((world.ent_b, 5), (third, 2)):
        make_invite(world.own, ent)
        make_evaluation(world.own, ent, stars=stars, intent=CooperationIntent.NONE)
    make_invite(world.own, world.ent_a)
    enterprise = world.users[Role.ENTERPRISE]

    staff_view = queries.patent_evaluations(world.users[Role.UNIVERSITY_ADMIN], world.own)
    assert [e.label for e in staff_view.evaluations] == ["乙制造有限公司", "丙材料有限公司"]
    assert staff_view.tier is not None and staff_view.count == 2

    before = queries.patent_evaluations(enterprise, world.own)
    assert before.evaluations == [] and not before.show_summary  # no anchoring before rating

    make_evaluation(world.own, world.ent_a, stars=3)
    after = queries.patent_evaluations(enterprise, world.own)
    assert [e.label for e in after.evaluations] == ["企业A", "企业B", "本企业"]
    assert all(e.enterprise_id is None for e in after.evaluations if not e.is_own)
    assert after.tier is None  # tiers and the self-rating are for staff and the university
    assert after.count == 3 and after.avg == pytest.approx(10 / 3)


def test_letters_go_past_z():
    assert [queries.letter(i) for i in (0, 25, 26, 27, 51, 52)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
    ]
