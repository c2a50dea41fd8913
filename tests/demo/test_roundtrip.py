"""Export the seeded demo inventory and import the same file again (dry run): nothing changed,
nothing invalid, in both formats and for every university's export."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from revive.accounts.models import Role, User
from revive.common.spreadsheets import csv_chunks, xlsx_chunks
from revive.extensions import db
from revive.imports import services as imports
from revive.imports.models import ImportRowError, ImportStatus
from revive.inventory import export, queries


def _export(admin: User, fmt: str, path) -> None:
    rows = map(export.row_values, queries.export_rows(admin, queries.parse_filters({})))
    chunks = (
        xlsx_chunks(export.header(), rows, "专利盘点")
        if fmt == "xlsx"
        else csv_chunks(export.header(), rows)
    )
    with path.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_demo_export_reimports_unchanged(ctx, tmp_path, fmt):
    admins = db.session.scalars(
        sa.select(User).where(User.role == Role.UNIVERSITY_ADMIN).order_by(User.id)
    ).all()
    assert admins
    for admin in admins:
        path = tmp_path / f"{admin.id}.{fmt}"
        _export(admin, fmt, path)
        job = imports.create_patent_import(
            path, actor=admin, institution_id=admin.organization_id, enqueue=False
        )
        job = imports.validate_job(job.id)
        assert job.status == ImportStatus.VALIDATED, job.error
        errors = db.session.scalars(
            sa.select(ImportRowError).where(ImportRowError.job_id == job.id).limit(5)
        ).all()
        assert [(e.line, e.column, e.value, e.message) for e in errors] == []
        counts = job.preview_counts
        assert counts["unchanged"] > 0
        assert (counts["new"], counts["changed"], counts["invalid"]) == (0, 0, 0), counts
