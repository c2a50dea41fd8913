"""Every hostile file of the corpus through the real import path, for every import kind.

Service layer (what the upload view and the worker run: create with the uploaded FileStorage,
validate, commit) for every case; a sample through the HTTP upload views as the right role.
Each case must end with its own Chinese message, no exception, and the database unchanged —
or, for row-level cases, exactly the valid rows in and the invalid ones reported by line.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from revive.accounts.models import Organization, OrgKind, Role
from revive.demands import importers as demand_importers
from revive.demands.models import Demand
from revive.errors import ValidationFailed
from revive.extensions import db
from revive.imports import reader, registry, services
from revive.imports.models import ImportJob, ImportRowError, ImportStatus
from revive.inventory.models import Patent
from revive.onboarding import importers as institution_importers
from tests.factories import make_college, make_org, make_user
from tests.imports.hostile.corpus import (
    COLLEGE,
    PROFILES,
    Case,
    corpus,
    write_corpus,
    xlsx_bytes,
)

CORPUS = corpus()
CASES = [(kind, case) for kind, cases in CORPUS.items() for case in cases]
JOB_TABLES = {"import_jobs", "import_row_errors"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def test_every_registered_kind_has_a_corpus_of_at_least_30_distinct_files(app):
    assert {k.name for k in registry.kinds()} == set(CORPUS)
    for kind, cases in CORPUS.items():
        assert len(cases) >= 30, kind
        assert len({c.name for c in cases}) == len(cases), kind
        assert len({c.data for c in cases if c.refused_at}) >= 30, kind


def test_script_writes_the_corpus_to_a_folder(tmp_path):
    paths = write_corpus(tmp_path, CORPUS)
    assert len(paths) == len(CASES)
    for kind, cases in CORPUS.items():
        lines = (tmp_path / kind / "expected.tsv").read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(cases) + 1
        assert lines[1].startswith("01-empty.csv\t上传时拒绝：文件为空")
    assert all(
        p.parent.parent == tmp_path and p.stat().st_size == len(c.data)
        for p, (_, c) in zip(paths, CASES, strict=True)
    )


# ---------------------------------------------------------------------------- helpers


def _snapshot() -> dict[str, tuple[int, str]]:
    """(row count, sha256 of every row) per table, except the import bookkeeping itself."""
    out = {}
    for table in db.metadata.sorted_tables:
        if table.name in JOB_TABLES:
            continue
        rows = db.session.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
        digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
        out[table.name] = (len(rows), digest)
    return out


def _keys(kind: str) -> set[str]:
    if kind == "institutions":
        query = sa.select(Organization.credit_code).where(Organization.kind == OrgKind.UNIVERSITY)
        return set(db.session.scalars(query)) - {None}
    column = Patent.application_no if kind == "patents" else Demand.title
    return set(db.session.scalars(sa.select(column)))


class World:
    def __init__(self) -> None:
        self.uni = make_org("示例理工大学")
        make_college(self.uni, COLLEGE)
        self.admin = make_user(Role.UNIVERSITY_ADMIN, organization=self.uni)
        self.officer = make_user(Role.OFFICER)
        self.platform_admin = make_user(Role.PLATFORM_ADMIN)

    def create(self, kind: str, file: FileStorage) -> ImportJob:
        if kind == "patents":
            return services.create_patent_import(
                file, actor=self.admin, institution_id=self.uni.id, enqueue=False
            )
        if kind == "institutions":
            return institution_importers.create_institution_import(
                file, actor=self.platform_admin, enqueue=False
            )
        return demand_importers.create_demand_import(file, actor=self.officer, enqueue=False)

    def actor(self, kind: str):
        return {"patents": self.admin, "institutions": self.platform_admin}.get(kind, self.officer)


@pytest.fixture
def world(app) -> World:
    return World()


def _upload(case: Case) -> FileStorage:
    return FileStorage(io.BytesIO(case.data), filename=case.upload_name)


def _run(world: World, kind: str, case: Case) -> tuple[ImportJob | None, str | None]:
    """Create, validate and commit like the upload view and the worker; (job, upload error)."""
    try:
        job = world.create(kind, _upload(case))
    except ValidationFailed as exc:
        return None, exc.message
    job = services.validate_job(job.id)
    if job.status == ImportStatus.VALIDATED:
        services.request_commit(job.id, actor=world.actor(kind), enqueue=False)
        job = services.commit_job(job.id)
    return job, None


# ---------------------------------------------------------------------------- every case


@pytest.mark.parametrize(("kind", "case"), CASES, ids=[f"{k}-{c.name}" for k, c in CASES])
def test_hostile_file(world, app, monkeypatch, kind, case):
    for key, value in case.config.items():
        monkeypatch.setitem(app.config, key, value)
    before = _snapshot()
    keys_before = _keys(kind)

    job, upload_error = _run(world, kind, case)

    if case.refused_at == "upload":
        assert upload_error is not None and case.message in upload_error
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0
        assert _snapshot() == before
        return
    assert upload_error is None
    assert job is not None
    if case.refused_at == "validate":
        assert job.status == ImportStatus.FAILED, (job.status, job.error)
        assert job.error and case.message in job.error, job.error
        assert job.error != services.GENERIC_FAILURE
        assert _snapshot() == before
        return

    assert job.status == ImportStatus.COMMITTED, job.error
    errors = [
        (e.line, e.column, e.message)
        for e in db.session.scalars(
            sa.select(ImportRowError).where(ImportRowError.job_id == job.id)
        )
    ]
    assert len(errors) == len(case.errors), errors
    for line, column, message in case.errors:
        assert any(el == line and ec == column and message in em for el, ec, em in errors), (
            line,
            column,
            message,
            errors,
        )
    assert _keys(kind) - keys_before == set(case.committed)
    assert job.result_counts["skipped_invalid"] == len({line for line, _, _ in case.errors})
    assert job.result_counts["created"] == len(case.committed)
    # The stored file never lands outside the upload folder, whatever the browser called it.
    upload_dir = Path(app.config["UPLOAD_FOLDER"]).resolve() / "imports"
    assert Path(job.stored_path).resolve().parent == upload_dir
    assert "/" not in job.filename and "\\" not in job.filename and len(job.filename) <= 255
    assert not any(ord(ch) < 32 for ch in job.filename)


def test_a_bad_file_leaves_existing_records_untouched(world):
    """A refused re-upload over existing data: every table keeps every byte."""
    good = next(c for c in CORPUS["patents"] if c.name == "gbk-csv")
    _run(world, "patents", good)
    before = _snapshot()
    for name in ("truncated-xlsx", "zip-bomb-ratio", "mixed-utf8-gbk", "billion-laughs"):
        case = next(c for c in CORPUS["patents"] if c.name == name)
        job, _ = _run(world, "patents", case)
        assert job.status == ImportStatus.FAILED
    assert _snapshot() == before


def test_a_sheet_full_of_formulas_without_results_is_refused_as_a_whole(world, monkeypatch):
    """Row by row up to a bound; beyond it the file is refused (never silently emptied)."""
    monkeypatch.setattr(reader, "_MAX_MARKED", 2)
    case = next(c for c in CORPUS["patents"] if c.name == "formula-without-cached-value")
    p = PROFILES["patents"]
    data = xlsx_bytes([p.header, *[[*p.valid(i)[:5], "=A1&B1"] for i in range(1, 4)]])
    job, _ = _run(world, "patents", replace(case, data=data, upload_name="many.xlsx"))
    assert job.status == ImportStatus.FAILED
    assert "工作表中有 2 个以上的公式没有计算结果" in job.error
    assert _keys("patents") == set()


def test_command_line_import_of_the_written_corpus_answers_each_refused_file(
    world, runner, tmp_path
):
    """The files the script writes (what people try in the UI) through `revive import-patents`:
    every file-level refusal exits 1 with its message; nothing is written."""
    from revive.inventory.cli import import_patents_command

    paths = write_corpus(tmp_path, {"patents": CORPUS["patents"]})
    before = _snapshot()
    refused = [
        (path, case)
        for path, case in zip(paths, CORPUS["patents"], strict=True)
        if case.refused_at == "validate" and not case.config
    ]
    assert len(refused) >= 25
    for path, case in refused:
        result = runner.invoke(import_patents_command, [str(path), "--institution", "示例理工大学"])
        assert result.exit_code == 1, (case.name, result.output)
        assert case.message in result.stderr, (case.name, result.stderr)
    assert _snapshot() == before


# ---------------------------------------------------------------------------- exports


# The kinds with an export of what they import (institutions have none: their list page
# shows names as escaped text).
EXPORTS = {"patents": "/patents/export", "demands": "/demands/export"}
UPLOAD_PAGES = {
    "patents": "/imports/",
    "demands": "/demands/import",
    "institutions": "/institutions/import",
}


@pytest.mark.parametrize("kind", sorted(EXPORTS))
def test_formula_strings_are_stored_as_text_and_exported_neutralised(world, client, auth, kind):
    case = next(c for c in CORPUS[kind] if c.name == "formula-injection-strings")
    job, _ = _run(world, kind, case)
    assert job.status == ImportStatus.COMMITTED
    p = PROFILES[kind]
    label = p.header[p.long_col]
    auth.login(world.actor(kind))
    url = EXPORTS[kind]
    for fmt in ("xlsx", "csv"):
        response = client.get(f"{url}.{fmt}")
        assert response.status_code == 200
        if fmt == "csv":
            # no cell types in a CSV: an apostrophe makes formula-like text plain text
            rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
            cells = [r[rows[0].index(label)] for r in rows[1:]]
            dangerous = [c for c in cells if c and c.startswith(FORMULA_START)]
            assert not dangerous, (fmt, dangerous)
            assert sum(1 for c in cells if c and c.startswith("'")) == 6, (fmt, cells)
        else:
            # a .xlsx types those cells as text: shown as written, never a formula
            ws = load_workbook(io.BytesIO(response.data)).active
            header = [c.value for c in ws[1]]
            col = header.index(label)
            assert all(c.data_type != "f" for r in ws.iter_rows(min_row=2) for c in r)
            typed = [r[col] for r in ws.iter_rows(min_row=2)]
            formula_like = [c for c in typed if c.value and c.value.startswith(FORMULA_START)]
            assert len(formula_like) == 6 and all(c.data_type == "s" for c in formula_like)
            cells = [c.value for c in typed]
        assert any("cmd|' /C calc'!A0" in c for c in cells)


def test_error_downloads_neutralise_formula_values(world, client, auth):
    case = next(c for c in CORPUS["patents"] if c.name == "formula-cells-cached")
    job, _ = _run(world, "patents", case)
    auth.login(world.admin)
    response = client.get(f"/imports/{job.id}/rows-with-errors.xlsx")
    ws = load_workbook(io.BytesIO(response.data)).active
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    assert [r[0].value for r in ws.iter_rows(min_row=2)] == [3, 4]


# ---------------------------------------------------------------------------- HTTP upload


HTTP_SAMPLE = [
    "xls-renamed",
    "xlsm-macros",
    "zip-bomb-ratio",
    "mixed-utf8-gbk",
    "no-sheet-with-a-header",
    "one-mb-cell-xlsx",
    "xxe-shared-strings-dat",
]


def _http_upload(client, kind: str, case: Case):
    url = UPLOAD_PAGES[kind]
    # Encoded in memory: the test client would spool a body over 500 KB to a temporary file
    # that nobody closes when the app stops reading early (413).
    body, length, boundary = stream_encode_multipart(
        {"file": FileStorage(io.BytesIO(case.data), case.upload_name)},
        threshold=len(case.data) + 1024 * 1024,
    )
    return client.post(
        url,
        input_stream=body,
        content_length=length,
        content_type=f'multipart/form-data; boundary="{boundary}"',
    )


@pytest.mark.parametrize("kind", sorted(CORPUS))
@pytest.mark.parametrize("name", HTTP_SAMPLE)
def test_http_upload_shows_the_message_on_the_job_page(world, client, auth, enqueued, kind, name):
    case = next(c for c in CORPUS[kind] if c.name == name)
    auth.login(world.actor(kind))
    before = _snapshot()
    response = _http_upload(client, kind, case)
    assert response.status_code == 302
    job = db.session.scalars(sa.select(ImportJob)).one()
    assert enqueued == [("imports.validate", (job.id,))]
    services.validate_job(job.id)  # what the worker runs
    page = client.get(f"/imports/{job.id}").get_data(as_text=True)
    if case.refused_at:
        assert case.message in page
    else:
        line, column, message = case.errors[0]
        assert message in page and column in page
    assert _snapshot() == before


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_http_upload_refuses_empty_and_oversized_files_on_the_form(
    world, app, client, auth, enqueued, monkeypatch, kind
):
    auth.login(world.actor(kind))
    empty = next(c for c in CORPUS[kind] if c.name == "empty")
    response = _http_upload(client, kind, empty)
    assert response.status_code == 422
    assert "文件为空" in response.get_data(as_text=True)

    huge = next(c for c in CORPUS[kind] if c.name == "file-over-size-limit")
    monkeypatch.setitem(app.config, "REVIVE_MAX_UPLOAD_MB", 1)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024 * 1024)
    response = _http_upload(client, kind, huge)
    assert response.status_code == 413
    assert "上传文件过大：单个文件不能超过 1 MB" in response.get_data(as_text=True)
    assert enqueued == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0
