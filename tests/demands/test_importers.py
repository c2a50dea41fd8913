"""Demand import through the shared job pipeline: preview, row errors, idempotency, CLI."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from revive import signals
from revive.accounts.models import Organization, OrgKind, Role
from revive.demands import importers
from revive.demands.cli import import_demands_command
from revive.demands.models import Demand, DemandSource
from revive.errors import PermissionDenied
from revive.extensions import db
from revive.imports import services
from revive.imports.models import ImportStatus
from tests.demands.helpers import HEADER, PAST, bad_check, credit_code, row
from tests.imports.helpers import write_csv, write_xlsx_file


def run(path, actor, *, commit=True, all_or_nothing=False):
    job = importers.create_demand_import(
        path, actor=actor, all_or_nothing=all_or_nothing, enqueue=False
    )
    job = services.validate_job(job.id)
    if commit and job.status == ImportStatus.VALIDATED:
        services.request_commit(job.id, actor=actor, enqueue=False)
        job = services.commit_job(job.id)
    return job


def errors(job):
    return [(e.line, e.column, e.message) for e in services.first_errors(job, 100)]


def demands():
    return list(db.session.scalars(sa.select(Demand).order_by(Demand.id)))


@pytest.fixture
def officer(world):
    return world.users[Role.OFFICER]


def test_preview_counts_new_enterprises_and_commit_creates_them(world, officer, tmp_path):
    rows = [
        row(),
        row(title="盐碱地改良剂"),  # same new enterprise, second demand
        row(name="乙制造有限公司", code=credit_code(902), title="铝合金压铸件缺陷检测"),
    ]
    path = write_xlsx_file(tmp_path / "d.xlsx", rows, HEADER)
    job = run(path, officer, commit=False)
    assert job.status == ImportStatus.VALIDATED
    assert job.preview_counts["new"] == 3
    assert job.preview_counts["new_enterprises"] == 1
    assert demands() == []

    job = run(path, officer)
    assert job.result_counts["created"] == 3
    org = db.session.scalar(
        sa.select(Organization).where(Organization.credit_code == credit_code(1))
    )
    assert org.kind == OrgKind.ENTERPRISE
    assert org.name == "无锡智农装备科技有限公司"
    assert not org.users if hasattr(org, "users") else True
    got = demands()
    assert [d.enterprise_id for d in got] == [org.id, org.id, world.ent_b.id]
    assert all(d.source == DemandSource.SURVEY for d in got)
    assert got[0].cooperation_modes == "license,joint_dev"
    assert got[0].created_by_id == officer.id


def test_job_page_says_how_many_enterprises_will_be_created(world, officer, client, auth, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row()], HEADER)
    job = run(path, officer, commit=False)
    auth.login(officer)
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    assert "将新建企业 1 家" in page
    assert "企业需求" in page


def test_reimport_changes_nothing_and_changed_row_updates(world, officer, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row(), row(title="第二个需求")], HEADER)
    run(path, officer)
    before = [(d.id, d.version) for d in demands()]

    saved = []

    def receiver(sender, **kw):
        saved.append(kw)

    signals.demand_saved.connect(receiver)
    try:
        job = run(path, officer)
        assert job.preview_counts["unchanged"] == 2
        assert job.result_counts == {
            "created": 0,
            "updated": 0,
            "unchanged": 2,
            "skipped_invalid": 0,
        }
        assert [(d.id, d.version) for d in demands()] == before
        assert saved == []

        # Title matching ignores spacing and full-width forms; the description changed.
        changed = write_csv(
            tmp_path / "e.csv",
            [
                row(title=" 盐碱地水稻 稳产增产技术", description="新的描述"),
                row(title="第二个需求"),
            ],
            HEADER,
        )
        job = run(changed, officer)
        assert job.preview_counts["changed"] == 1
        assert job.result_counts["updated"] == 1
        first = demands()[0]
        assert first.description == "新的描述"
        assert first.title == "盐碱地水稻稳产增产技术"  # the key field keeps its stored form
        assert saved == [{"demand_id": first.id, "created": False}]
    finally:
        signals.demand_saved.disconnect(receiver)
    assert len(demands()) == 2


@pytest.mark.parametrize(
    ("bad", "column", "message"),
    [
        (row(code=bad_check(credit_code(1))), "统一社会信用代码", "校验位错误"),
        (row(code="123"), "统一社会信用代码", "应为 18 位"),
        (row(demand_type="随便什么"), "需求类型", "需求类型取值无效"),
        (row(modes="租赁"), "期望合作方式", "包含无效方式：租赁"),
        (row(deadline=PAST), "截止日期", "截止日期不能早于今天"),
        (row(name=""), "企业名称", "缺少必填项：企业名称"),
        (row(title=""), "需求名称", "缺少必填项：需求名称"),
        (row(description=""), "需求描述", "缺少必填项：需求描述"),
    ],
)
def test_row_errors_name_line_column_and_reason(world, officer, tmp_path, bad, column, message):
    path = write_csv(tmp_path / "d.csv", [row(title="好的一行"), bad], HEADER)
    job = run(path, officer)
    assert job.preview_counts["invalid"] == 1
    [(line, col, msg)] = errors(job)
    assert (line, col) == (3, column)
    assert message in msg
    assert [d.title for d in demands()] == ["好的一行"]


def test_duplicate_in_file_is_an_error(world, officer, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row(), row(title="盐碱地水稻稳产增产技术 ")], HEADER)
    job = run(path, officer, commit=False)
    [(line, column, message)] = errors(job)
    assert line == 3 and column == "需求名称"
    assert "与第 2 行重复" in message


def test_name_taken_by_another_credit_code_is_an_error(world, officer, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row(name="甲科技有限公司", code=credit_code(5))], HEADER)
    job = run(path, officer, commit=False)
    [(_, column, message)] = errors(job)
    assert column == "企业名称" and "已有同名单位" in message


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(world, officer, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row(), row(title="x", deadline=PAST)], HEADER)
    job = importers.create_demand_import(path, actor=officer, all_or_nothing=True, enqueue=False)
    job = services.validate_job(job.id)
    with pytest.raises(Exception, match="全部有效才导入"):
        services.request_commit(job.id, actor=officer, enqueue=False)
    assert demands() == []


def test_missing_required_column_fails_the_file(world, officer, tmp_path):
    path = write_csv(tmp_path / "d.csv", [["甲", "标题"]], ["企业名称", "需求名称"])
    job = run(path, officer)
    assert job.status == ImportStatus.FAILED
    assert "统一社会信用代码" in job.error


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.UNIVERSITY_ADMIN, Role.REGULATOR])
def test_only_officers_and_platform_admin_import_demands(world, tmp_path, role):
    path = write_csv(tmp_path / "d.csv", [row()], HEADER)
    with pytest.raises(PermissionDenied):
        importers.create_demand_import(path, actor=world.users[role], enqueue=False)


def test_officers_see_demand_jobs_but_university_admins_do_not(world, officer, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row()], HEADER)
    job = run(path, officer, commit=False)
    other_officer = __import__("tests.factories", fromlist=["make_user"]).make_user(Role.OFFICER)
    assert services.list_jobs(other_officer) == [job]
    assert services.list_jobs(world.users[Role.UNIVERSITY_ADMIN]) == []
    services.cancel_job(job.id, actor=other_officer)


def test_export_reimports_unchanged(world, officer, client, auth, tmp_path):
    path = write_csv(tmp_path / "d.csv", [row(), row(title='=HYPERLINK("x")')], HEADER)
    run(path, officer)
    auth.login(officer)
    for fmt in ("xlsx", "csv"):
        response = client.get(f"/demands/export.{fmt}")
        assert response.status_code == 200
        exported = tmp_path / f"export.{fmt}"
        exported.write_bytes(response.data)
        if fmt == "csv":
            assert "'=HYPERLINK" in response.data.decode("utf-8-sig")
        job = run(exported, officer, commit=False)
        assert job.status == ImportStatus.VALIDATED, job.error
        assert job.preview_counts["unchanged"] == 2, errors(job)
        job = run(exported, officer)
        assert job.status == ImportStatus.COMMITTED, job.error
        assert job.preview_counts["unchanged"] == 2, errors(job)
        assert job.result_counts["created"] == 0


# ---------------------------------------------------------------------------- CLI


def _invoke(runner, *args):
    result = runner.invoke(import_demands_command, list(args))
    lines = result.stdout.strip().splitlines()
    return result, json.loads(lines[-1]) if lines else None


def test_cli_imports_and_prints_json_summary(runner, world, tmp_path):
    path = write_csv(
        tmp_path / "d.csv", [row(), row(title="坏", code="123")], HEADER, encoding="gb18030"
    )
    result, summary = _invoke(runner, str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert summary["new"] == 1 and summary["invalid"] == 1 and summary["new_enterprises"] == 1
    assert summary["errors"][0]["line"] == 3
    assert demands() == []

    result, summary = _invoke(runner, str(path))
    assert result.exit_code == 0
    assert summary["created"] == 1
    assert demands()[0].created_by_id is None

    result, summary = _invoke(runner, str(path), "--all-or-nothing")
    assert result.exit_code == 1
    assert "未写入任何数据" in summary["error"]


def test_cli_file_level_errors_exit_non_zero(runner, world, tmp_path):
    result, summary = _invoke(runner, str(tmp_path / "missing.csv"))
    assert result.exit_code == 1
    assert "无法读取文件" in summary["error"]
    bad = tmp_path / "bad.csv"
    bad.write_text("甲,乙\n1,2\n", encoding="utf-8")
    result, summary = _invoke(runner, str(bad))
    assert result.exit_code == 1
    assert summary["status"] == "failed"


def test_every_data_sheet_of_a_workbook_is_read(world, officer, tmp_path):
    """The shared reader reads each data sheet (a school's second sheet was ignored)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "农业"
    wb.active.append(HEADER)
    wb.active.append(row())
    second = wb.create_sheet("制造")
    second.append(HEADER)
    second.append(row(name="乙制造有限公司", code=credit_code(902), title="铝合金压铸件缺陷检测"))
    wb.create_sheet("说明").append(["本表由平台导出"])
    wb.save(tmp_path / "d.xlsx")
    job = run(tmp_path / "d.xlsx", officer, commit=False)
    assert job.preview_counts["rows"] == 2 and job.preview_counts["new"] == 2, errors(job)
    assert job.preview_counts["sheet_rows"] == [["农业", 1], ["制造", 1]]
    assert [name for name, _ in job.header_map["skipped_sheets"]] == ["说明"]
