"""Files the app creates that hold people's details are its owner's alone: the embedded SQLite
database (0600), the data folder and the upload folders (0700), every uploaded import file
(0600). A security review found uploads and the database readable by every local account
under the usual umask."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from revive.accounts.models import Role
from revive.config import data_dir
from revive.imports import services
from tests.factories import make_org, make_user
from tests.imports.helpers import csv_bytes, row

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    """The usual umask, under which plain creation gives 0644 files and 0755 folders."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_sqlite_database_is_owner_only(app, tmp_path, umask_022):
    path = tmp_path / "revive.db"
    engine = sa.create_engine(f"sqlite:///{path}")  # any engine of the app's processes
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
            conn.commit()
    finally:
        engine.dispose()
    assert _mode(path) == 0o600
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if extra.exists():
            assert _mode(extra) == 0o600


def test_an_existing_database_keeps_its_mode(app, tmp_path, umask_022):
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()
    assert _mode(path) == 0o640


def test_a_new_data_folder_is_owner_only(tmp_path, monkeypatch, umask_022):
    monkeypatch.setenv("REVIVE_DATA_DIR", str(tmp_path / "fresh" / "data"))
    assert _mode(data_dir()) == 0o700


def test_uploaded_import_files_and_their_folders_are_owner_only(
    app, tmp_path, monkeypatch, enqueued, umask_022
):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    uni = make_org("示例理工大学")
    admin = make_user(Role.UNIVERSITY_ADMIN, organization=uni)
    upload = FileStorage(io.BytesIO(csv_bytes([row(1)])), filename="专利.csv")
    job = services.create_patent_import(upload, actor=admin, institution_id=uni.id)
    local = tmp_path / "盘点表.csv"  # the command line copies a file on the server
    local.write_bytes(csv_bytes([row(2)]))
    copied = services.create_patent_import(local, actor=None, institution_id=uni.id)
    assert _mode(tmp_path / "uploads") == 0o700
    assert _mode(tmp_path / "uploads" / "imports") == 0o700
    for stored in (job.stored_path, copied.stored_path):
        assert _mode(Path(stored)) == 0o600
    assert Path(copied.stored_path).read_bytes() == local.read_bytes()
