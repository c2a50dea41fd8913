"""Inventor links follow a decision, never a name (security issue #12): invitation choice,
per person, per patent; every link and unlink audited; scope and caps enforced."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from revive.accounts import services as accounts
from revive.accounts.models import Role
from revive.errors import NotFoundError, PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.inventory import inventors, permissions
from revive.inventory.models import EntryStatus, InvitationPatent, Patent
from revive.selection import MAX_SELECTION
from tests.audit.helpers import events
from tests.factories import make_college, make_org, make_patent, make_user


def _named(patent: Patent, text: str) -> Patent:
    """Set the 发明人 text (make_patent's ``inventors`` takes linked accounts)."""
    patent.inventors = text
    db.session.commit()
    return patent


@pytest.fixture
def uni(app):
    """甲大学 with two colleges, each with a 张伟 on one of its patents (names collide)."""
    org = make_org("甲大学")
    chem, mech = make_college(org, "化学学院"), make_college(org, "机械学院")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=org, name="王管理")
    chem_admin = make_user(Role.COLLEGE_ADMIN, organization=org, college=chem, name="化院管理")
    p_chem = _named(make_patent(org, college=chem), "张伟；李四")
    p_mech = _named(make_patent(org, college=mech), "张伟、赵六")
    return SimpleNamespace(
        org=org,
        chem=chem,
        mech=mech,
        admin=admin,
        chem_admin=chem_admin,
        p_chem=p_chem,
        p_mech=p_mech,
    )


def _linked(patent: Patent) -> list[int]:
    db.session.expire_all()
    return sorted(u.id for u in db.session.get(Patent, patent.id).inventor_users)


def _invite(uni, name="张伟", email="zw@uni.edu.cn"):
    invitation, token = accounts.invite_user(
        actor=uni.admin,
        organization_id=uni.org.id,
        email=email,
        name=name,
        role=Role.INVENTOR,
        college_id=uni.chem.id,
    )
    return invitation, token


# ---------------------------------------------------------------------------- invitation


def test_invitation_links_only_the_patents_the_inviter_ticked(uni):
    invitation, token = _invite(uni)
    assert {p.id for p in inventors.invitation_candidates(uni.admin, invitation)} == {
        uni.p_chem.id,
        uni.p_mech.id,
    }
    inventors.choose_invitation_patents(invitation.id, [str(uni.p_chem.id)], actor=uni.admin)
    user = accounts.accept_invitation(token, password="Welcome123", name="张伟")
    assert _linked(uni.p_chem) == [user.id]
    assert _linked(uni.p_mech) == []  # the other 张伟's patent: not ticked, not linked
    (event,) = events(entity="patent", entity_id=uni.p_chem.id, action="link_inventor")
    # Audited as the inviter's decision, when the link is made.
    assert event.actor_id == uni.admin.id and event.organization_id == uni.org.id
    assert event.data == {
        "inventor_id": user.id,
        "inventor": "张伟",
        "via": "invitation",
        "invitation_id": invitation.id,
    }


def test_invitation_name_alone_links_nothing(uni):
    _, token = _invite(uni)
    user = accounts.accept_invitation(token, password="Welcome123")
    assert user.name == "张伟"
    assert _linked(uni.p_chem) == _linked(uni.p_mech) == []
    assert events(action="link_inventor") == []


def test_invitation_refuses_patents_not_naming_the_invited_person(uni):
    invitation, _ = _invite(uni, name="李四")
    with pytest.raises(ValidationFailed, match="发明人中没有「李四」"):
        inventors.choose_invitation_patents(invitation.id, [uni.p_mech.id], actor=uni.admin)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitationPatent)) == 0


def test_invitation_refuses_patents_of_another_university(uni):
    other = _named(make_patent(make_org("乙大学")), "张伟")
    invitation, _ = _invite(uni)
    with pytest.raises(ValidationFailed, match="不在您的管理范围内") as err:
        inventors.choose_invitation_patents(invitation.id, [other.id], actor=uni.admin)
    assert other.title not in err.value.message


def test_invitation_choice_is_replaced_and_can_be_cleared(uni):
    invitation, token = _invite(uni)
    inventors.choose_invitation_patents(
        invitation.id, [uni.p_chem.id, uni.p_mech.id], actor=uni.admin
    )
    inventors.choose_invitation_patents(invitation.id, [uni.p_mech.id], actor=uni.admin)
    assert inventors.chosen_patent_ids(invitation.id) == {uni.p_mech.id}
    inventors.choose_invitation_patents(invitation.id, [], actor=uni.admin)
    assert inventors.chosen_patent_ids(invitation.id) == set()
    accounts.accept_invitation(token, password="Welcome123")
    assert _linked(uni.p_mech) == []


def test_only_the_inviting_side_chooses_for_an_invitation(uni):
    invitation, token = _invite(uni)
    for outsider in (
        uni.chem_admin,
        make_user(Role.INVENTOR, organization=uni.org),
        make_user(Role.UNIVERSITY_ADMIN, organization=make_org()),
    ):
        with pytest.raises(NotFoundError):
            inventors.choose_invitation_patents(invitation.id, [uni.p_chem.id], actor=outsider)
    accounts.accept_invitation(token, password="Welcome123")
    with pytest.raises(ValidationFailed, match="已被使用"):
        inventors.choose_invitation_patents(invitation.id, [uni.p_chem.id], actor=uni.admin)


def test_a_failed_link_never_fails_the_acceptance(uni, monkeypatch):
    invitation, token = _invite(uni)
    inventors.choose_invitation_patents(invitation.id, [uni.p_chem.id], actor=uni.admin)

    def boom(*_a, **_k):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(inventors, "link_account", boom)
    user = accounts.accept_invitation(token, password="Welcome123")
    assert user.id and _linked(uni.p_chem) == []
    assert inventors.chosen_patent_ids(invitation.id) == {uni.p_chem.id}  # still on record


# ---------------------------------------------------------------------------- per person


def test_admin_links_and_unlinks_a_persons_patents_with_audit(uni):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    suggested = inventors.suggested_patents(uni.admin, zhang)
    assert {p.id for p in suggested} == {uni.p_chem.id, uni.p_mech.id}
    assert _linked(uni.p_chem) == []  # suggested, not linked
    assert inventors.link_patents(zhang.id, [uni.p_chem.id], actor=uni.admin) == 1
    assert inventors.link_patents(zhang.id, [uni.p_chem.id], actor=uni.admin) == 0  # no-op
    assert [p.id for p in inventors.linked_patents(uni.admin, zhang)] == [uni.p_chem.id]
    assert [p.id for p in inventors.suggested_patents(uni.admin, zhang)] == [uni.p_mech.id]
    assert inventors.unlink_patents(zhang.id, [uni.p_chem.id], actor=uni.admin) == 1
    assert _linked(uni.p_chem) == []
    link, unlink = events(entity="patent", entity_id=uni.p_chem.id)
    assert (link.action, unlink.action) == ("link_inventor", "unlink_inventor")
    for e in (link, unlink):
        assert e.actor_id == uni.admin.id and e.data["via"] == "person"
        assert e.data["inventor_id"] == zhang.id


def test_college_admin_manages_links_on_their_college_only(uni):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    assert [p.id for p in inventors.suggested_patents(uni.chem_admin, zhang)] == [uni.p_chem.id]
    inventors.link_patents(zhang.id, [uni.p_chem.id], actor=uni.chem_admin)
    with pytest.raises(ValidationFailed, match="不在您的管理范围内"):
        inventors.link_patents(zhang.id, [uni.p_mech.id], actor=uni.chem_admin)
    assert _linked(uni.p_mech) == []


@pytest.mark.parametrize("role", [Role.INVENTOR, Role.OFFICER, Role.REGULATOR, Role.ENTERPRISE])
def test_other_roles_cannot_link(uni, role):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    actor = make_user(role, organization=uni.org if role == Role.INVENTOR else None)
    with pytest.raises(NotFoundError):
        inventors.link_patents(zhang.id, [uni.p_chem.id], actor=actor)
    with pytest.raises((PermissionDenied, NotFoundError)):
        inventors.link_inventors(uni.p_chem.id, [zhang.id], actor=actor)
    assert _linked(uni.p_chem) == []


def test_another_universitys_admin_cannot_open_the_person(uni):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    with pytest.raises(NotFoundError):
        inventors.link_patents(zhang.id, [uni.p_chem.id], actor=make_user(Role.UNIVERSITY_ADMIN))


def test_selection_is_capped_and_checked(uni):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    with pytest.raises(ValidationFailed, match="最多"):
        inventors.link_patents(zhang.id, list(range(1, MAX_SELECTION + 2)), actor=uni.admin)
    for bad in ([], ["x"], "12", [0]):
        with pytest.raises(ValidationFailed):
            inventors.link_patents(zhang.id, bad, actor=uni.admin)


# ---------------------------------------------------------------------------- per patent


def test_admin_links_accounts_on_the_patent_page_by_tick_or_email(uni):
    zhang_chem = make_user(Role.INVENTOR, organization=uni.org, name="张伟", college=uni.chem)
    zhang_mech = make_user(Role.INVENTOR, organization=uni.org, name="张伟", email="zw2@x.cn")
    li = make_user(Role.INVENTOR, organization=uni.org, name="李四")
    # Both 张伟 accounts and 李四 are suggested; none is linked by it.
    assert {u.id for u in inventors.suggested_accounts(uni.p_chem)} == {
        zhang_chem.id,
        zhang_mech.id,
        li.id,
    }
    inventors.link_inventors(uni.p_chem.id, [str(zhang_chem.id)], actor=uni.chem_admin)
    inventors.link_inventors(uni.p_chem.id, actor=uni.admin, email=" ZW2@x.cn ")
    assert _linked(uni.p_chem) == sorted([zhang_chem.id, zhang_mech.id])
    inventors.unlink_inventors(uni.p_chem.id, [zhang_mech.id], actor=uni.admin)
    assert _linked(uni.p_chem) == [zhang_chem.id]
    vias = [(e.action, e.data["via"]) for e in events(entity="patent", entity_id=uni.p_chem.id)]
    assert vias == [
        ("link_inventor", "patent"),
        ("link_inventor", "patent"),
        ("unlink_inventor", "patent"),
    ]


def test_patent_links_only_inventor_accounts_of_its_institution(uni):
    stranger = make_user(Role.INVENTOR, organization=make_org(), name="张伟")
    colleague = make_user(Role.COLLEGE_ADMIN, organization=uni.org, college=uni.chem)
    for user in (stranger, colleague):
        with pytest.raises(ValidationFailed, match="只能关联本单位的发明人账号"):
            inventors.link_inventors(uni.p_chem.id, [user.id], actor=uni.admin)
    with pytest.raises(ValidationFailed, match="没有登录邮箱"):
        inventors.link_inventors(uni.p_chem.id, actor=uni.admin, email=stranger.email)
    with pytest.raises(ValidationFailed, match="请勾选"):
        inventors.link_inventors(uni.p_chem.id, [], actor=uni.admin)
    with pytest.raises(ValidationFailed, match="未关联"):
        inventors.unlink_inventors(uni.p_chem.id, [stranger.id], actor=uni.admin)
    assert _linked(uni.p_chem) == []


def test_college_admin_cannot_manage_another_colleges_patent(uni):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    with pytest.raises(NotFoundError):  # not even visible to them
        inventors.link_inventors(uni.p_mech.id, [zhang.id], actor=uni.chem_admin)
    assert not permissions.can_manage_inventors(uni.chem_admin, uni.p_mech)
    assert permissions.can_manage_inventors(uni.admin, uni.p_mech)


def test_linking_grants_the_inventor_the_patent_and_unlinking_takes_it_back(uni):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    assert not permissions.can_view(zhang, uni.p_chem)
    inventors.link_inventors(uni.p_chem.id, [zhang.id], actor=uni.admin)
    db.session.expire_all()
    assert permissions.can_view(zhang, db.session.get(Patent, uni.p_chem.id))
    inventors.unlink_inventors(uni.p_chem.id, [zhang.id], actor=uni.admin)
    db.session.expire_all()
    assert not permissions.can_view(zhang, db.session.get(Patent, uni.p_chem.id))


def test_links_may_be_managed_in_any_state(uni):
    zhang = make_user(Role.INVENTOR, organization=uni.org, name="张伟")
    entered = make_patent(uni.org, college=uni.chem, status=EntryStatus.ENTERED)
    assert inventors.link_inventors(entered.id, [zhang.id], actor=uni.chem_admin) == 1
