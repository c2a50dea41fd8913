"""revive import-patents: same pipeline, synchronous, JSON summary last on stdout."""

from __future__ import annotations

import json

import sqlalchemy as sa

from revive.extensions import db
from revive.inventory.cli import import_patents_command
from revive.inventory.models import Patent
from tests.imports.helpers import row, write_csv, write_xlsx_file


def _invoke(runner, *args):
    result = runner.invoke(import_patents_command, list(args))
    lines = result.stdout.strip().splitlines()
    return result, json.loads(lines[-1]) if lines else None


def _patents():
    return db.session.scalar(sa.select(sa.func.count()).select_from(Patent))


def test_import_prints_progress_and_summary(runner, uni, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(1), row(2), ["坏号", "x"]], encoding="gb18030")
    result, summary = _invoke(runner, str(path), "--institution", "示例理工大学")
    assert result.exit_code == 0, result.output
    assert summary["rows"] == 3
    assert summary["new"] == 2
    assert summary["invalid"] == 1
    assert summary["created"] == 2
    assert summary["updated"] == 0
    assert summary["dry_run"] is False
    assert summary["errors"][0]["line"] == 4
    assert summary["errors"][0]["column"] == "申请号"
    assert "校验" in result.stderr
    assert "导入完成" in result.stderr
    assert _patents() == 2

    result, summary = _invoke(runner, str(path), "--institution", "示例理工大学")
    assert summary["unchanged"] == 2
    assert summary["created"] == 0
    assert _patents() == 2


def test_dry_run_writes_nothing(runner, uni, tmp_path):
    path = write_xlsx_file(tmp_path / "f.xlsx", [row(1)])
    result, summary = _invoke(runner, str(path), "--institution", "示例理工大学", "--dry-run")
    assert result.exit_code == 0
    assert summary["dry_run"] is True
    assert summary["new"] == 1
    assert _patents() == 0


def test_all_or_nothing_with_invalid_rows_exits_non_zero(runner, uni, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(1), ["坏号", "x"]])
    result, summary = _invoke(
        runner, str(path), "--institution", "示例理工大学", "--all-or-nothing"
    )
    assert result.exit_code == 1
    assert "未写入任何数据" in result.stderr
    assert summary["invalid"] == 1
    assert _patents() == 0


def test_a_file_of_invalid_rows_only_exits_non_zero(runner, uni, tmp_path):
    """An operator's cron read exit 0 for a file none of whose rows could be imported."""
    path = write_csv(tmp_path / "f.csv", [["坏号", "x"], ["又坏", "y"]])
    result, summary = _invoke(runner, str(path), "--institution", "示例理工大学")
    assert result.exit_code == 1
    assert "全部 2 行无效" in result.stderr and summary["invalid"] == 2
    assert _patents() == 0
    result, _ = _invoke(runner, str(path), "--institution", "示例理工大学", "--dry-run")
    assert result.exit_code == 1  # a dry run of it too


def test_college_option_limits_rows(runner, uni, tmp_path):
    path = write_csv(tmp_path / "f.csv", [row(1, college=""), row(2, college="材料学院")])
    result, summary = _invoke(
        runner, str(path), "--institution", "示例理工大学", "--college", "计算机学院"
    )
    assert result.exit_code == 0
    assert summary["created"] == 1
    assert summary["invalid"] == 1


def test_file_level_errors_exit_non_zero_with_chinese_message(runner, uni, tmp_path):
    cases = {
        "missing": (str(tmp_path / "nope.csv"), "无法读取文件"),
        "no_column": (str(write_csv(tmp_path / "a.csv", [["x"]], header=["名称"])), "申请号"),
        "empty": (str(write_csv(tmp_path / "b.csv", [])), "没有数据行"),
        "png": (None, "PNG"),
    }
    png = tmp_path / "c.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    cases["png"] = (str(png), "PNG")
    for name, (path, message) in cases.items():
        result, summary = _invoke(runner, path, "--institution", "示例理工大学")
        assert result.exit_code == 1, name
        assert message in result.stderr, name
        assert message in summary["error"], name
    result, _ = _invoke(
        runner, str(write_csv(tmp_path / "d.csv", [row(1)])), "--institution", "不存在的大学"
    )
    assert result.exit_code == 1
    assert "未找到高校/科研院所" in result.stderr
    assert _patents() == 0


def test_requeue_jobs_command_runs_the_recovery_sweep(runner, tmp_path, enqueued):
    import json
    from datetime import timedelta

    from revive.cli_commands import requeue_jobs_command
    from revive.db import utcnow
    from revive.extensions import db
    from revive.imports import services
    from tests.factories import make_user
    from tests.imports.helpers import row, write_csv

    admin = make_user()
    job = services.create_patent_import(
        write_csv(tmp_path / "f.csv", [row(1)]), actor=admin, institution_id=admin.organization_id
    )
    result = runner.invoke(requeue_jobs_command, [])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {}  # sent, not lost yet

    job.task_sent_at = utcnow() - timedelta(hours=1)  # the broker lost it
    db.session.commit()
    result = runner.invoke(requeue_jobs_command, [])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {"imports.validate": [job.id]}
