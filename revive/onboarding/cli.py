"""revive create-admin --email … --name … [--password-file PATH|-]
revive add-institutions FILE [--dry-run] [--all-or-nothing]

``create-admin`` makes a platform admin on a fresh deployment (there is no other way to get
the first account: no demo data, no self-registration for staff). The password never appears
on the command line (it would sit in the shell history and the process list): it is typed
twice at a prompt, or read from the first line of a file (``-``: standard input). The password
policy applies; an address that already has an account is refused, never changed.

``add-institutions`` is the shared command-line import run (revive.imports.cli.run_import:
progress on stderr, a JSON summary last on stdout, exit status 1 on a file-level error) of
the "institutions" import kind.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from flask.cli import with_appcontext

from revive.accounts import services as account_services
from revive.errors import ValidationFailed
from revive.imports.cli import run_import
from revive.imports.models import ImportJob
from revive.onboarding.importers import create_institution_import

PROMPT_ATTEMPTS = 3
RESET_HINT = (
    "create-admin 不会修改已有账号：忘记密码请用登录页的「忘记密码」，"
    "或请另一位平台管理员在「成员管理」中重置"
)


def _fail(message: str) -> NoReturn:
    click.echo(f"错误：{message}", err=True)
    sys.exit(1)


def _read_password_file(source: str) -> str:
    """The first line of ``source`` (``-``: standard input), without its line break."""
    try:
        if source == "-":
            line = sys.stdin.readline()
        else:
            with Path(source).open(encoding="utf-8-sig") as fh:
                line = fh.readline()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"无法读取密码文件 {source}：{getattr(exc, 'strerror', None) or exc}")
    password = line.rstrip("\r\n")
    if not password:
        _fail(f"密码文件 {source} 的第一行是空的")
    return password


def _interactive() -> bool:
    return sys.stdin.isatty()


def _prompt_password(email: str, name: str) -> str:
    """Ask twice (hidden), check the policy; a few attempts, then give up."""
    if not _interactive():
        _fail("没有可输入密码的终端：请用 --password-file 指定密码文件（- 表示从标准输入读取）")
    for _ in range(PROMPT_ATTEMPTS):
        first = click.prompt("密码（至少 8 位，含字母和数字）", hide_input=True, err=True)
        second = click.prompt("再次输入密码", hide_input=True, err=True)
        if first != second:
            click.echo("两次输入的密码不一致，请重新输入", err=True)
            continue
        try:
            account_services.validate_password(first, email=email, name=name)
        except ValidationFailed as err:
            click.echo(f"{err.message}，请重新输入", err=True)
            continue
        return first
    _fail(f"{PROMPT_ATTEMPTS} 次都未能设置密码，未创建账号")


@click.command("create-admin")
@click.option("--email", required=True, help="登录邮箱")
@click.option("--name", required=True, help="姓名")
@click.option(
    "--password-file",
    default=None,
    metavar="PATH",
    help="从该文件的第一行读取密码（- 表示标准输入）；不给则在终端输入两次。"
    "密码不能作为命令行参数。",
)
@with_appcontext
def create_admin_command(email: str, name: str, password_file: str | None) -> None:
    """Create a platform admin (the first account of a fresh deployment)."""
    if account_services.account_exists(email):
        _fail(
            f"邮箱 {account_services.normalize_email(email)} 已有账号，未做任何修改。{RESET_HINT}"
        )
    if password_file is not None:
        password = _read_password_file(password_file)
    else:
        password = _prompt_password(email, name)
    try:
        user = account_services.create_platform_admin(email=email, name=name, password=password)
    except account_services.EmailTaken:
        _fail(
            f"邮箱 {account_services.normalize_email(email)} 已有账号，未做任何修改。{RESET_HINT}"
        )
    except ValidationFailed as err:
        _fail(f"{err.message}，未创建账号")
    click.echo(
        f"已创建平台管理员：{user.name}（{user.email}）。请用该邮箱和密码登录网站，"
        "在「高校/科研院所」中登记单位并邀请各单位的学校管理员。"
    )


@click.command("add-institutions")
@click.argument("file")
@click.option("--dry-run", is_flag=True, help="只校验并预览，不写入")
@click.option("--all-or-nothing", is_flag=True, help="有任何无效行则不写入任何数据")
@with_appcontext
def add_institutions_command(file: str, dry_run: bool, all_or_nothing: bool) -> None:
    """Import universities and research institutes from a spreadsheet (.xlsx / CSV)."""

    def create(path: Path) -> ImportJob:
        return create_institution_import(
            path, actor=None, all_or_nothing=all_or_nothing, enqueue=False
        )

    run_import(file, create, dry_run=dry_run, all_or_nothing=all_or_nothing)


commands = [create_admin_command, add_institutions_command]
