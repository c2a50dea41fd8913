"""Onboarding services: add an institution (the platform admin's form), add colleges in bulk
(a pasted list or a spreadsheet column). Public functions commit.

The spreadsheet import of institutions is an import kind (revive/onboarding/importers.py);
``revive create-admin`` uses accounts.services.create_platform_admin.
"""

from __future__ import annotations

import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from revive.accounts import services as account_services
from revive.accounts.models import College, InstitutionType, Organization, OrgKind, Role, User
from revive.audit import services as audit
from revive.errors import PermissionDenied, ValidationFailed
from revive.extensions import db
from revive.imports.reader import FileRejected, ReadLimits, read_table
from revive.onboarding.fields import validate_institution

#: Colleges one request may add (a university has dozens; a pasted list is capped like any
#: selection of ids, revive.selection).
MAX_COLLEGES = 500
#: A spreadsheet of college names is tiny; anything bigger is not one.
COLLEGE_FILE_MAX_BYTES = 1024 * 1024
COLLEGE_HEADERS = ("学院", "学院名称", "院系", "院系名称", "二级学院", "名称", "college")


def _check_platform_admin(actor: User | None) -> None:
    if actor is not None and actor.role != Role.PLATFORM_ADMIN:
        raise PermissionDenied("只有平台管理员可以添加高校/科研院所")


def conflict(name: str, code: str) -> tuple[str, str] | None:
    """(field, message) when ``name`` or ``code`` already names another organization."""
    by_code = db.session.scalar(sa.select(Organization).where(Organization.credit_code == code))
    if by_code is not None:
        return "credit_code", f"该统一社会信用代码已登记为「{by_code.name}」"
    if db.session.scalar(sa.select(Organization.id).where(Organization.name == name)):
        return "name", f"平台上已有名为「{name}」的单位"
    return None


def add_institution(
    *,
    actor: User,
    name: str,
    credit_code: str,
    region: str,
    institution_type: InstitutionType | str,
) -> Organization:
    """Register one university or research institute (platform admin). Audited."""
    _check_platform_admin(actor)
    record = validate_institution(
        {
            "name": name,
            "credit_code": credit_code,
            "region": region,
            "institution_type": institution_type,
        }
    )
    if record.errors:
        key, message = record.errors[0]
        raise ValidationFailed(message, details={"field": key})
    values = record.values
    clash = conflict(values["name"], values["credit_code"])
    if clash is not None:
        raise ValidationFailed(clash[1], details={"field": clash[0]})
    org = Organization(kind=OrgKind.UNIVERSITY, **values)
    db.session.add(org)
    db.session.flush()
    audit.record(
        "organization",
        org.id,
        "create",
        actor,
        organization_id=org.id,
        **{k: _plain(v) for k, v in values.items()},
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed("该单位名称或统一社会信用代码已被登记，请刷新后核对") from None
    return org


def _plain(value: object) -> object:
    return value.value if isinstance(value, InstitutionType) else value


# ---------------------------------------------------------------------------- colleges


def college_names(text: str | None) -> list[str]:
    """A pasted list: one name per line (blank lines, surrounding spaces and repeats dropped;
    numbering such as "1." or "（一）" left as typed — names are the university's own)."""
    names: list[str] = []
    for line in (text or "").splitlines():
        name = " ".join(line.replace("\u3000", " ").split())
        if name and name not in names:
            names.append(name)
    return names


def _header_key(text: object) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split()).strip("*").lower()


def college_names_from_file(stream: IO[bytes]) -> list[str]:
    """The college names in a spreadsheet (.xlsx or CSV): the column headed 学院/学院名称/
    院系…, or else the first column (its first cell then counts as a name too, for a bare list
    without a header). FileRejected when unreadable or too big for a list of names."""
    data = stream.read(COLLEGE_FILE_MAX_BYTES + 1)
    if len(data) > COLLEGE_FILE_MAX_BYTES:
        raise FileRejected("学院名单文件过大（不超过 1 MB）：只需一列学院名称")
    if not data:
        raise FileRejected("文件为空")
    with tempfile.TemporaryDirectory(prefix="revive-colleges-") as folder:
        path = Path(folder) / "colleges.upload"
        path.write_bytes(data)
        table = read_table(path, max_rows=MAX_COLLEGES * 2, limits=ReadLimits(cells=200_000))
        try:
            wanted = {_header_key(h) for h in COLLEGE_HEADERS}
            headed = [i for i, h in enumerate(table.header) if _header_key(h) in wanted]
            column = headed[0] if headed else 0
            cells_of = [] if headed else [table.header[0] if table.header else None]
            cells_of += [c[column] if column < len(c) else None for _line, c in table.rows]
        finally:
            table.close()
    return college_names("\n".join(str(v) for v in cells_of if v is not None))


def add_colleges(*, actor: User, organization_id: int, names: Iterable[str]) -> list[College]:
    """Add the colleges of ``names`` not yet there to a university the actor manages; names
    already present are skipped. Returns the new colleges (committed, all or none)."""
    org = account_services.college_owner(actor, organization_id)
    wanted = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if not wanted:
        raise ValidationFailed("请填写学院名称，每行一个", details={"field": "names"})
    if len(wanted) > MAX_COLLEGES:
        raise ValidationFailed(f"一次最多添加 {MAX_COLLEGES} 个学院", details={"field": "names"})
    too_long = [n for n in wanted if len(n) > 200]
    if too_long:
        raise ValidationFailed(
            f"学院名称过长（最多 200 字）：{too_long[0][:30]}…", details={"field": "names"}
        )
    existing = set(
        db.session.scalars(sa.select(College.name).where(College.institution_id == org.id))
    )
    added = [College(institution=org, name=n) for n in wanted if n not in existing]
    db.session.add_all(added)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ValidationFailed("有学院刚被他人添加，请刷新后重试") from None
    return added
