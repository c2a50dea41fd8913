"""Who may change a patent's college, and when (inventory.permissions.college_change_refusal):
one rule for the form, the API and imports (security issue #12, medium: an inventor cleared
the college of a returned patent and submitted it straight to 学校审核)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.errors import PermissionDenied
from revive.extensions import db
from revive.imports import services as import_services
from revive.imports.models import ImportStatus
from revive.inventory import permissions, services
from revive.inventory.models import EntryStatus, Patent, StatusChange
from tests.audit.helpers import events
from tests.factories import make_college, make_org, make_patent, make_user
from tests.imports.helpers import appno, write_csv

S = EntryStatus


@pytest.fixture
def w(app):
    org = make_org("甲大学")
    chem, mech = make_college(org, "化学学院"), make_college(org, "机械学院")
    inventor = make_user(Role.INVENTOR, organization=org, name="张伟")
    return SimpleNamespace(
        org=org,
        chem=chem,
        mech=mech,
        inventor=inventor,
        admin=make_user(Role.UNIVERSITY_ADMIN, organization=org),
        chem_admin=make_user(Role.COLLEGE_ADMIN, organization=org, college=chem),
        platform=make_user(Role.PLATFORM_ADMIN),
    )


def _fresh(patent: Patent) -> Patent:
    db.session.expire_all()
    return db.session.get(Patent, patent.id)


# ---------------------------------------------------------------------------- inventors


@pytest.mark.parametrize("college", ["", "机械学院"])
def test_inventor_cannot_clear_or_change_the_college_of_a_returned_patent(w, college):
    patent = make_patent(w.org, college=w.chem, status=S.RETURNED, inventors=[w.inventor])
    with pytest.raises(PermissionDenied, match="发明人不能更改或清除"):
        services.update_patent(patent.id, {"college": college}, actor=w.inventor)
    assert _fresh(patent).college_id == w.chem.id
    # … so resubmitting still goes through 化学学院's review.
    services.perform_action(patent.id, "submit", actor=w.inventor)
    assert _fresh(patent).status == S.PENDING_COLLEGE


def test_inventor_may_set_a_college_on_a_draft_that_has_none(w):
    patent = make_patent(w.org, inventors=[w.inventor])
    services.update_patent(patent.id, {"college": "化学学院"}, actor=w.inventor)
    assert _fresh(patent).college_id == w.chem.id
    with pytest.raises(PermissionDenied):
        services.update_patent(patent.id, {"college": "机械学院"}, actor=w.inventor)


def test_inventor_may_keep_the_college_as_it_is(w):
    patent = make_patent(w.org, college=w.chem, inventors=[w.inventor])
    services.update_patent(patent.id, {"college": "化学学院", "trl": "4"}, actor=w.inventor)
    assert _fresh(patent).trl == 4


def test_api_refuses_the_inventors_college_change_with_403(w, client, auth):
    patent = make_patent(w.org, college=w.chem, status=S.RETURNED, inventors=[w.inventor])
    auth.login(w.inventor)
    resp = client.patch(f"/api/v1/patents/{patent.id}", json={"college": None})
    assert resp.status_code == 403 and "学院" in resp.get_json()["message"]
    resp = client.patch(f"/api/v1/patents/{patent.id}", json={"college": "机械学院"})
    assert resp.status_code == 403
    assert _fresh(patent).college_id == w.chem.id


def test_the_form_locks_the_college_for_the_inventor(w, client, auth):
    from revive.inventory.forms import initial_data

    patent = make_patent(w.org, college=w.chem, status=S.RETURNED, inventors=[w.inventor])
    auth.login(w.inventor)
    page = client.get(f"/patents/{patent.id}/edit").get_data(as_text=True)
    assert 'name="college"' not in page and "化学学院" in page and "不能更改" in page
    # A forged field is not taken from a locked form: the college stays, the rest is saved.
    data = {**initial_data(patent), "college": "", "title": "改过的标题"}
    assert client.post(f"/patents/{patent.id}/edit", data=data).status_code == 302
    assert (_fresh(patent).college_id, _fresh(patent).title) == (w.chem.id, "改过的标题")


def test_the_form_offers_colleges_to_an_inventor_whose_draft_has_none(w, client, auth):
    patent = make_patent(w.org, inventors=[w.inventor])
    auth.login(w.inventor)
    page = client.get(f"/patents/{patent.id}/edit").get_data(as_text=True)
    assert re.search(r"<select[^>]* name=\"college\"", page) and "机械学院" in page


def test_the_form_follows_the_rule_for_a_university_admin(w, client, auth):
    pending = make_patent(w.org, college=w.chem, status=S.PENDING_COLLEGE)
    draft = make_patent(w.org, college=w.chem)
    entered = make_patent(w.org, college=w.chem, status=S.ENTERED)
    auth.login(w.admin)
    page = client.get(f"/patents/{pending.id}/edit").get_data(as_text=True)
    assert re.search(r"<select[^>]* name=\"college\"", page) and "（不指定学院）" not in page
    assert "（不指定学院）" in client.get(f"/patents/{draft.id}/edit").get_data(as_text=True)
    page = client.get(f"/patents/{entered.id}/edit").get_data(as_text=True)
    assert 'name="college"' not in page and "撤回重审" in page


# ---------------------------------------------------------------------------- college admins


@pytest.mark.parametrize("college", ["", "机械学院"])
def test_college_admin_never_moves_a_patent_out_of_their_college(w, college):
    patent = make_patent(w.org, college=w.chem, status=S.PENDING_COLLEGE)
    with pytest.raises(PermissionDenied, match="学院管理员"):
        services.update_patent(patent.id, {"college": college}, actor=w.chem_admin)
    assert _fresh(patent).college_id == w.chem.id


# ---------------------------------------------------------------------------- university admins


def test_university_admin_moves_a_draft_or_clears_its_college(w):
    patent = make_patent(w.org, college=w.chem)
    services.update_patent(patent.id, {"college": "机械学院"}, actor=w.admin)
    assert _fresh(patent).college_id == w.mech.id
    services.update_patent(patent.id, {"college": ""}, actor=w.admin)
    assert _fresh(patent).college_id is None


def test_moving_a_patent_pending_college_review_puts_it_in_the_new_colleges_queue(w):
    patent = make_patent(w.org, college=w.chem, status=S.PENDING_COLLEGE)
    services.update_patent(patent.id, {"college": "机械学院"}, actor=w.admin)
    assert (_fresh(patent).status, _fresh(patent).college_id) == (S.PENDING_COLLEGE, w.mech.id)
    with pytest.raises(PermissionDenied, match="跳过学院审核"):
        services.update_patent(patent.id, {"college": ""}, actor=w.admin)
    assert _fresh(patent).college_id == w.mech.id


@pytest.mark.parametrize("start", [None, "chem"])
def test_a_new_college_while_pending_school_review_sends_it_back_to_college_review(w, start):
    patent = make_patent(
        w.org, college=getattr(w, start) if start else None, status=S.PENDING_SCHOOL
    )
    services.update_patent(patent.id, {"college": "机械学院"}, actor=w.admin)
    fresh = _fresh(patent)
    assert (fresh.status, fresh.college_id) == (S.PENDING_COLLEGE, w.mech.id)
    change = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.patent_id == patent.id)
    ).one()
    assert (change.from_status, change.to_status) == (S.PENDING_SCHOOL, S.PENDING_COLLEGE)
    assert "机械学院" in change.comment and change.actor_id == w.admin.id
    moved = events(entity="patent", entity_id=patent.id, action="college_changed")
    assert len(moved) == 1 and moved[0].actor_id == w.admin.id


def test_clearing_the_college_while_pending_school_review_keeps_it_there(w):
    patent = make_patent(w.org, college=w.chem, status=S.PENDING_SCHOOL)
    services.update_patent(patent.id, {"college": ""}, actor=w.admin)
    assert (_fresh(patent).status, _fresh(patent).college_id) == (S.PENDING_SCHOOL, None)


@pytest.mark.parametrize("status", [S.ENTERED, S.NOT_ENTERED, S.ABANDON])
@pytest.mark.parametrize("who", ["admin", "platform"])
def test_nobody_changes_the_college_after_the_decision(w, status, who):
    patent = make_patent(w.org, college=w.chem, status=status)
    with pytest.raises(PermissionDenied, match="撤回重审"):
        services.update_patent(patent.id, {"college": "机械学院"}, actor=getattr(w, who))
    assert _fresh(patent).college_id == w.chem.id


def test_the_rule_in_one_place(w):
    returned = make_patent(w.org, college=w.chem, status=S.RETURNED, inventors=[w.inventor])
    draft = make_patent(w.org, inventors=[w.inventor])
    entered = make_patent(w.org, college=w.chem, status=S.ENTERED)
    assert not permissions.can_change_college(w.inventor, returned)
    assert permissions.can_change_college(w.inventor, draft)
    assert permissions.may_clear_college(w.inventor, draft)  # it has none: nothing changes
    assert not permissions.may_clear_college(w.inventor, returned)
    assert not permissions.can_change_college(w.chem_admin, returned)
    assert permissions.can_change_college(w.admin, returned)
    assert permissions.may_clear_college(w.admin, returned)
    assert not permissions.can_change_college(w.admin, entered)
    assert permissions.college_change_refusal(w.inventor, returned, w.chem.id) is None  # same


# ---------------------------------------------------------------------------- imports


def _import(w, tmp_path, rows, actor=None):
    path = write_csv(tmp_path / "f.csv", rows, header=["申请号", "专利名称", "所属学院"])
    job = import_services.create_patent_import(
        path, actor=actor or w.admin, institution_id=w.org.id, enqueue=False
    )
    job = import_services.validate_job(job.id)
    if job.status == ImportStatus.VALIDATED:
        import_services.request_commit(job.id, actor=actor or w.admin, enqueue=False)
        job = import_services.commit_job(job.id)
    return job


def test_imports_follow_the_same_rule(w, tmp_path):
    entered = make_patent(w.org, college=w.chem, status=S.ENTERED, application_no=appno(1))
    waiting = make_patent(w.org, college=w.chem, status=S.PENDING_SCHOOL, application_no=appno(2))
    draft = make_patent(w.org, college=w.chem, application_no=appno(3))
    job = _import(
        w,
        tmp_path,
        [
            [appno(1), entered.title, "机械学院"],
            [appno(2), waiting.title, "机械学院"],
            [appno(3), draft.title, "机械学院"],
        ],
    )
    assert job.result_counts["updated"] == 2 and job.result_counts["skipped_invalid"] == 1
    (error,) = import_services.first_errors(job)
    assert error.line == 2 and "撤回重审" in error.message
    assert _fresh(entered).college_id == w.chem.id
    assert (_fresh(waiting).status, _fresh(waiting).college_id) == (S.PENDING_COLLEGE, w.mech.id)
    assert _fresh(draft).college_id == w.mech.id
    (moved,) = events(entity="patent", entity_id=waiting.id, action="college_changed")
    assert moved.actor_id == w.admin.id
