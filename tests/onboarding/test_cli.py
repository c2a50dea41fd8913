"""revive create-admin and revive add-institutions."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from werkzeug.security import check_password_hash

from revive.accounts.models import Organization, Role, User
from revive.audit.models import AuditEvent
from revive.extensions import db
from revive.onboarding import cli
from revive.onboarding.cli import add_institutions_command, create_admin_command
from tests.factories import make_user
from tests.onboarding.helpers import institutions_csv, row

PASSWORD = "Kai-shi-2026"


def admins() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role == Role.PLATFORM_ADMIN)))


def create(runner, *args, input=None):
    return runner.invoke(create_admin_command, list(args), input=input)


def test_create_admin_from_a_password_file(runner, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    result = create(
        runner, "--email", " Ops@Revive.CN ", "--name", "运维", "--password-file", str(secret)
    )
    assert result.exit_code == 0, result.output
    assert "已创建平台管理员" in result.stdout and PASSWORD not in result.output
    (user,) = admins()
    assert user.email == "ops@revive.cn" and user.name == "运维" and user.organization is None
    assert check_password_hash(user.password_hash, PASSWORD)
    event = db.session.scalar(sa.select(AuditEvent))
    assert (event.entity, event.action, event.actor_id) == ("user", "create_platform_admin", None)


def test_create_admin_reads_standard_input(runner):
    result = create(
        runner,
        "--email",
        "a@revive.cn",
        "--name",
        "甲",
        "--password-file",
        "-",
        input=PASSWORD + "\r\n",
    )
    assert result.exit_code == 0, result.output
    assert check_password_hash(admins()[0].password_hash, PASSWORD)


def test_create_admin_prompts_twice_and_retries(runner, monkeypatch):
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    typed = f"{PASSWORD}\nsomething-else1\nshort\nshort\n{PASSWORD}\n{PASSWORD}\n"
    result = create(runner, "--email", "b@revive.cn", "--name", "乙", input=typed)
    assert result.exit_code == 0, result.output
    assert "两次输入的密码不一致" in result.stderr and "密码至少 8 位" in result.stderr
    assert PASSWORD not in result.output
    assert check_password_hash(admins()[0].password_hash, PASSWORD)


def test_create_admin_without_a_terminal_or_file_is_refused(runner):
    result = create(runner, "--email", "c@revive.cn", "--name", "丙")
    assert result.exit_code == 1 and "--password-file" in result.stderr
    assert admins() == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password1", "过于常见"),
        ("abcdefgh", "字母和数字"),
        ("", "第一行是空的"),
        ("ding2026", "邮箱或姓名"),
    ],
)
def test_the_password_policy_applies(runner, tmp_path, password, message):
    secret = tmp_path / "pw"
    secret.write_text(password + "\n", encoding="utf-8")
    result = create(
        runner, "--email", "ding2026@revive.cn", "--name", "丁", "--password-file", str(secret)
    )
    assert result.exit_code == 1 and message in result.stderr
    assert admins() == []


def test_an_existing_email_is_refused_and_left_alone(runner, tmp_path):
    user = make_user(Role.ENTERPRISE, email="boss@firm.cn")
    before = user.password_hash
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD, encoding="utf-8")
    result = create(
        runner, "--email", "BOSS@firm.cn", "--name", "X", "--password-file", str(secret)
    )
    assert result.exit_code == 1
    assert "已有账号，未做任何修改" in result.stderr and "忘记密码" in result.stderr
    db.session.refresh(user)
    assert user.role == Role.ENTERPRISE and user.password_hash == before


@pytest.mark.parametrize(
    ("email", "name", "message"),
    [("not-an-email", "甲", "邮箱格式不正确"), ("e@revive.cn", "  ", "请填写姓名")],
)
def test_bad_email_or_name(runner, tmp_path, email, name, message):
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD, encoding="utf-8")
    result = create(runner, "--email", email, "--name", name, "--password-file", str(secret))
    assert result.exit_code == 1 and message in result.stderr


def test_a_missing_password_file_is_a_clear_error(runner, tmp_path):
    result = create(
        runner, "--email", "f@revive.cn", "--name", "戊", "--password-file", str(tmp_path / "nope")
    )
    assert result.exit_code == 1 and "无法读取密码文件" in result.stderr


def test_the_password_is_not_an_option(runner):
    result = create(runner, "--email", "g@revive.cn", "--name", "己", "--password", PASSWORD)
    assert result.exit_code == 2 and admins() == []


# ---------------------------------------------------------------------------- add-institutions


def _summary(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_add_institutions_dry_run_then_commit(runner, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes(institutions_csv([row(1), row(2), row(3, kind="医院")]))
    result = runner.invoke(add_institutions_command, [str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    summary = _summary(result)
    assert (summary["new"], summary["invalid"], summary["dry_run"]) == (2, 1, True)
    assert summary["errors"][0]["line"] == 4 and summary["errors"][0]["column"] == "单位类型"
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 0

    result = runner.invoke(add_institutions_command, [str(path)])
    assert result.exit_code == 0 and _summary(result)["created"] == 2
    names = set(db.session.scalars(sa.select(Organization.name)))
    assert names == {"北疆第1大学", "北疆第2大学"}

    result = runner.invoke(add_institutions_command, [str(path), "--all-or-nothing"])
    assert result.exit_code == 1 and "--all-or-nothing" in result.stderr


def test_add_institutions_refuses_a_file_it_cannot_read(runner, tmp_path):
    result = runner.invoke(add_institutions_command, [str(tmp_path / "none.xlsx")])
    assert result.exit_code == 1 and _summary(result)["error"].startswith("无法读取文件")


def test_the_commands_are_on_the_revive_cli():
    from revive.cli import _register, cli

    _register()
    assert {"create-admin", "add-institutions"} <= set(cli.commands)
