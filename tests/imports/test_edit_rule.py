"""An import changes a stored patent only where the edit form would let its uploader
(inventory.permissions.can_edit): a college admin's import was updating its college's
patents already 待学校审核 / 已入库 / 不入库 / 建议放弃, which the form refuses with 403."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role
from revive.errors import PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportStatus
from revive.inventory import services as inventory
from revive.inventory.models import EntryStatus, Patent
from tests.factories import make_patent, make_user
from tests.imports.helpers import appno, write_csv

S = EntryStatus
HEADER = ["申请号", "专利名称", "技术成熟度"]
PAST_COLLEGE = [S.PENDING_SCHOOL, S.ENTERED, S.NOT_ENTERED, S.ABANDON]


def _errors(job):
    return [(e.line, e.column, e.message) for e in services.first_errors(job, 1000)]


@pytest.fixture
def college_admin(uni):
    return make_user(Role.COLLEGE_ADMIN, organization=uni.org, college=uni.college)


@pytest.mark.parametrize("status", PAST_COLLEGE)
def test_college_admin_import_cannot_change_what_the_form_refuses(
    uni, college_admin, run_import, tmp_path, status
):
    patent = make_patent(uni.org, college=uni.college, status=status, application_no=appno(1))
    title = patent.title
    db.session.commit()
    # The form refuses the edit ...
    with pytest.raises(PermissionDenied):
        inventory.update_patent(patent.id, {"trl": "7"}, actor=college_admin)
    db.session.rollback()
    # ... and so does the import, naming the row and why.
    path = write_csv(tmp_path / "f.csv", [[appno(1), "改过的名称", "7"]], HEADER)
    job = run_import(path, actor=college_admin, commit=False)
    assert job.preview_counts["invalid"] == 1 and job.preview_counts["changed"] == 0
    assert _errors(job) == [(2, "申请号", f"该专利处于「{status.label}」状态，学院管理员不能修改")]
    with pytest.raises(ValidationFailed, match="没有可导入的有效行"):
        services.request_commit(job.id, actor=college_admin, enqueue=False)
    assert db.session.get(Patent, patent.id).title == title


def test_refused_rows_stay_as_they_were_and_the_others_import(
    uni, college_admin, run_import, tmp_path
):
    entered = make_patent(uni.org, college=uni.college, status=S.ENTERED, application_no=appno(1))
    draft = make_patent(uni.org, college=uni.college, application_no=appno(2))
    pending = make_patent(
        uni.org, college=uni.college, status=S.PENDING_COLLEGE, application_no=appno(3)
    )
    db.session.commit()
    rows = [[appno(n), f"新名称{n}", "7"] for n in (1, 2, 3)]
    job = run_import(write_csv(tmp_path / "f.csv", rows, HEADER), actor=college_admin)
    assert job.status == ImportStatus.COMMITTED, job.error
    assert job.result_counts == {
        "created": 0,
        "updated": 2,
        "unchanged": 0,
        "skipped_invalid": 1,
    }
    db.session.expire_all()
    titles = dict(db.session.execute(sa.select(Patent.id, Patent.title)).all())
    assert titles[entered.id] != "新名称1"
    assert (titles[draft.id], titles[pending.id]) == ("新名称2", "新名称3")


def test_all_or_nothing_refuses_the_whole_file(uni, college_admin, run_import, tmp_path):
    make_patent(uni.org, college=uni.college, status=S.ENTERED, application_no=appno(1))
    make_patent(uni.org, college=uni.college, application_no=appno(2))
    db.session.commit()
    rows = [[appno(n), f"新名称{n}", "7"] for n in (1, 2)]
    path = write_csv(tmp_path / "f.csv", rows, HEADER)
    job = run_import(path, actor=college_admin, all_or_nothing=True, commit=False)
    assert job.preview_counts["invalid"] == 1
    with pytest.raises(ValidationFailed, match="全部有效才导入"):
        services.request_commit(job.id, actor=college_admin, enqueue=False)
    assert db.session.scalar(sa.select(sa.func.count()).where(Patent.title.like("新名称%"))) == 0


def test_unchanged_rows_of_such_patents_are_no_change_and_no_refusal(
    uni, college_admin, run_import, tmp_path
):
    patent = make_patent(uni.org, college=uni.college, status=S.ENTERED, application_no=appno(1))
    db.session.commit()
    path = write_csv(tmp_path / "f.csv", [[appno(1), patent.title, "5"]], HEADER)
    job = run_import(path, actor=college_admin, commit=False)
    assert (job.preview_counts["unchanged"], job.preview_counts["invalid"]) == (1, 0)


@pytest.mark.parametrize("status", PAST_COLLEGE)
def test_university_admin_import_updates_as_the_form_does(uni, run_import, tmp_path, status):
    make_patent(uni.org, college=uni.college, status=status, application_no=appno(1))
    db.session.commit()
    path = write_csv(tmp_path / "f.csv", [[appno(1), "改过的名称", ""]], HEADER)
    job = run_import(path)
    assert job.result_counts["updated"] == 1, _errors(job)
