"""The "institutions" import kind: dry run and commit through the shared pipeline."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import InstitutionType, Organization, OrgKind, Role
from revive.audit.models import AuditEvent
from revive.errors import PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportRowError, ImportStatus
from revive.onboarding.importers import create_institution_import
from tests.factories import make_org, make_user
from tests.onboarding.helpers import HEADER, code, institutions_csv, row


def run(tmp_path, rows, *, header=HEADER, commit=True, all_or_nothing=False, actor=None):
    path = tmp_path / "单位.csv"
    path.write_bytes(institutions_csv(rows, header))
    actor = actor or make_user(Role.PLATFORM_ADMIN)
    job = create_institution_import(path, actor=actor, all_or_nothing=all_or_nothing, enqueue=False)
    job = services.validate_job(job.id)
    if commit and job.status == ImportStatus.VALIDATED:
        services.request_commit(job.id, actor=actor, enqueue=False)
        job = services.commit_job(job.id)
    return job


def universities() -> list[Organization]:
    return list(
        db.session.scalars(
            sa.select(Organization)
            .where(Organization.kind == OrgKind.UNIVERSITY)
            .order_by(Organization.name)
        )
    )


def errors(job) -> list[tuple[int, str, str]]:
    return [
        (e.line, e.column, e.message)
        for e in db.session.scalars(
            sa.select(ImportRowError).where(ImportRowError.job_id == job.id)
        )
    ]


def test_a_province_onboards_58_institutions_at_once(app, tmp_path):
    rows = [row(n) for n in range(1, 56)] + [
        row(56, "内蒙古农牧业科学院", kind="科研院所"),
        row(57, "内蒙古自治区煤炭科学研究院", kind="研究院"),
        row(58, "包头钢铁职业技术学院", region="包头市", kind="学院"),
    ]
    job = run(tmp_path, rows)
    assert job.status == ImportStatus.COMMITTED, job.error
    assert job.result_counts["created"] == 58
    orgs = universities()
    assert len(orgs) == 58
    kinds = {o.name: o.institution_type for o in orgs}
    assert kinds["内蒙古农牧业科学院"] == InstitutionType.INSTITUTE
    assert kinds["内蒙古自治区煤炭科学研究院"] == InstitutionType.INSTITUTE
    assert kinds["包头钢铁职业技术学院"] == InstitutionType.UNIVERSITY
    first = next(o for o in orgs if o.name == "北疆第1大学")
    assert first.credit_code == code(1) and first.region == "内蒙古自治区呼和浩特市"
    created = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity == "organization")
    ).all()
    assert len(created) == 58 and {e.action for e in created} == {"import_create"}
    assert all(e.organization_id == e.entity_id and e.data["import_job_id"] for e in created)
    # The same file again changes nothing.
    again = run(tmp_path, rows)
    assert again.preview_counts["unchanged"] == 58 and again.result_counts["created"] == 0


def test_dry_run_previews_and_writes_nothing(app, tmp_path):
    job = run(tmp_path, [row(1), row(2)], commit=False)
    assert job.status == ImportStatus.VALIDATED
    assert job.preview_counts["new"] == 2
    assert universities() == []


def test_a_known_code_updates_and_blanks_clear_nothing(app, tmp_path):
    run(tmp_path, [row(1)])
    job = run(tmp_path, [["北疆第1大学（新校名）", code(1), "", ""]])
    assert job.preview_counts["changed"] == 1 and job.result_counts["updated"] == 1
    (org,) = universities()
    assert org.name == "北疆第1大学（新校名）"
    assert (
        org.region == "内蒙古自治区呼和浩特市"
        and org.institution_type == InstitutionType.UNIVERSITY
    )
    update = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "import_update"))
    assert update.data["changes"] == {"name": ["北疆第1大学", "北疆第1大学（新校名）"]}


def test_a_university_registered_without_a_code_gets_it(app, tmp_path):
    make_org("北疆第1大学")
    job = run(tmp_path, [row(1)])
    assert job.result_counts == {**job.result_counts, "created": 0, "updated": 1}
    (org,) = universities()
    assert org.credit_code == code(1) and org.institution_type == InstitutionType.UNIVERSITY


def test_rows_are_refused_one_by_one_with_the_reason(app, tmp_path):
    make_org("某某科技有限公司", kind=OrgKind.ENTERPRISE, credit_code=code(90, authority="91"))
    make_org("已登记大学", credit_code=code(91))
    bad_check = code(3)[:-1] + ("0" if code(3)[-1] != "0" else "1")
    rows = [
        row(1),
        row(2, "北疆第1大学"),  # same name as line 2
        ["北疆第3大学", bad_check, "呼和浩特", "高校"],
        row(4, kind="医院"),
        ["北疆第5大学", code(5), "", ""],  # new: region and type required
        ["某某科技", code(90, authority="91"), "包头", "高校"],  # an enterprise's code
        ["已登记大学", code(92), "包头", "高校"],  # the name has another code
        row(1),  # same code as line 2
        ["", code(8), "包头", "高校"],
    ]
    job = run(tmp_path, rows, commit=False)
    assert job.preview_counts["new"] == 1 and job.preview_counts["invalid"] == 8
    found = errors(job)
    messages: dict[int, str] = {}
    for line, _column, message in found:
        messages[line] = f"{messages.get(line, '')}；{message}"
    assert "与第 2 行重复（同名单位）" in messages[3]
    assert "校验位错误" in messages[4]
    assert "单位类型取值无效：医院" in messages[5]
    assert {m for line, _c, m in found if line == 6} == {
        "新单位须填写所在地区",
        "新单位须填写单位类型",
    }
    assert "某某科技有限公司" in messages[7] and "不是高校/科研院所" in messages[7]
    assert code(91) in messages[8]
    assert "与第 2 行重复（同一统一社会信用代码）" in messages[9]
    assert "缺少必填项：单位名称" in messages[10]
    assert {column for _line, column, _m in found} <= set(HEADER)


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(app, tmp_path):
    admin = make_user(Role.PLATFORM_ADMIN)
    rows = [row(1), row(2, kind="医院")]
    job = run(tmp_path, rows, commit=False, all_or_nothing=True, actor=admin)
    with pytest.raises(ValidationFailed, match="全部有效才导入"):
        services.request_commit(job.id, actor=admin, enqueue=False)
    assert universities() == []


def test_a_file_without_the_code_column_is_refused(app, tmp_path):
    job = run(tmp_path, [["北疆大学", "呼和浩特"]], header=["学校名称", "地区"])
    assert job.status == ImportStatus.FAILED
    assert "统一社会信用代码" in job.error


def test_header_variants_are_recognised(app, tmp_path):
    header = ["学校名称*", "信用代码", "所在盟市", "类型（必填）"]
    job = run(tmp_path, [row(1)], header=header)
    assert job.status == ImportStatus.COMMITTED and job.result_counts["created"] == 1


def test_only_the_platform_admin_imports_institutions(app, tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(institutions_csv([row(1)]))
    for role in (Role.UNIVERSITY_ADMIN, Role.OFFICER, Role.REGULATOR):
        with pytest.raises(PermissionDenied):
            create_institution_import(path, actor=make_user(role), enqueue=False)
