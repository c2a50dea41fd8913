"""Import kinds: which row spec, apply function and access rules a job's ``kind`` selects.

The imports package sits *below* the domains that use it (inventory, demands), so it never
imports them: each domain registers its kind when its ``importers`` module is imported, and
``create_app`` imports those modules (see revive/__init__.py). A job whose kind is unknown
fails with a clear message instead of a crash.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.errors import DomainError
from revive.imports.models import ImportJob


class RowSpec(Protocol):
    """Checks and plans the rows of one file (see imports.rows)."""

    def check(self, line: int, cells: list[Any]) -> Any: ...

    def plan(self, results: Sequence[Any]) -> None: ...


@dataclass(frozen=True)
class ImportKind:
    name: str  # ImportJob.kind
    label: str  # what is imported, e.g. "专利", "企业需求"
    roles: frozenset[Role]  # may upload and act on their own jobs of this kind
    # Build the row spec for a job from the file's header; raise FileRejected for a bad header.
    open_spec: Callable[[ImportJob, Sequence[str]], RowSpec]
    # Write one batch of checked rows (no commit); return counts {created, updated, unchanged}.
    apply: Callable[[ImportJob, list[Any], User | None, RowSpec], dict[str, int]]
    # (sheet title, header, field-guide rows) for the downloadable template.
    template: Callable[[], tuple[str, list[str], list[list[str]]]]
    # WHERE clause on ImportJob for the jobs ``user`` may see of this kind (None: none).
    visible: Callable[[User], sa.ColumnElement[bool] | None]
    # Roles that may act on any visible job of this kind, not only their own.
    managers: frozenset[Role] = frozenset()
    # After a successful commit (transaction closed): fire domain signals.
    after_commit: Callable[[ImportJob, RowSpec], None] | None = None
    # Extra lines for the preview, e.g. "将新建企业 3 家".
    preview_notes: Callable[[dict[str, Any]], list[str]] = field(default=lambda counts: [])
    # (endpoint, label) of the page listing the imported records, and of the upload page.
    result_link: tuple[str, str] | None = None
    upload_endpoint: str = "imports.upload"
    # Which of this kind's columns (its field key) does a header text name, if any (its field
    # index's match)? Lets the reader find the header below a title block and tell a data
    # sheet from a field guide (revive.imports.reader._split_title, _known).
    is_column: Callable[[Any], Any] | None = None


_KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    """Add (or replace, on re-import) a kind."""
    _KINDS[kind.name] = kind
    return kind


def get(name: str) -> ImportKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise DomainError(f"不支持的导入类型：{name}") from None


def find(name: str) -> ImportKind | None:
    return _KINDS.get(name)


def kinds() -> list[ImportKind]:
    return list(_KINDS.values())
