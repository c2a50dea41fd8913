"""Import jobs: one row per uploaded file, with progress, counts and per-row errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import Organization, User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column
from revive.extensions import db
from revive.queue import Delivery


class ImportStatus(LabeledEnum):
    QUEUED = ("queued", "排队中")
    VALIDATING = ("validating", "校验中")
    VALIDATED = ("validated", "待确认")
    COMMIT_QUEUED = ("commit_queued", "等待入库")
    COMMITTING = ("committing", "导入中")
    COMMITTED = ("committed", "已完成")
    FAILED = ("failed", "失败")
    CANCELLED = ("cancelled", "已取消")


class ImportJob(TimestampMixin, Delivery, db.Model):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30), index=True)  # "patents", later "demands"
    status: Mapped[ImportStatus] = mapped_column(
        enum_column(ImportStatus, "import_status"), default=ImportStatus.QUEUED, index=True
    )
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    # For college admins: rows are limited to this college.
    college_id: Mapped[int | None] = mapped_column(sa.ForeignKey("colleges.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(sa.String(255))
    stored_path: Mapped[str] = mapped_column(sa.String(500))
    file_size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    file_format: Mapped[str | None] = mapped_column(sa.String(10))  # xlsx | xls | csv
    encoding: Mapped[str | None] = mapped_column(sa.String(20))
    all_or_nothing: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    total_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Preview counts: {"new": n, "changed": n, "unchanged": n, "invalid": n}
    preview_counts: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Commit counts: {"created": n, "updated": n, "unchanged": n, "skipped_invalid": n}
    result_counts: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # Rows applied so far by a commit (lets a killed commit resume where it stopped).
    committed_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    header_map: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)  # file-level error, in Chinese
    celery_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    institution: Mapped[Organization | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    row_errors: Mapped[list[ImportRowError]] = relationship(
        back_populates="job", order_by="ImportRowError.id", cascade="all, delete-orphan"
    )

    @property
    def progress(self) -> float:
        if not self.total_rows:
            return 0.0
        return min(1.0, self.processed_rows / self.total_rows)


class ImportRowError(db.Model):
    __tablename__ = "import_row_errors"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(
        sa.ForeignKey("import_jobs.id", ondelete="CASCADE"), index=True
    )
    line: Mapped[int] = mapped_column(sa.Integer)  # 1-based line in the file (header = 1)
    column: Mapped[str | None] = mapped_column(sa.String(100))  # header as written in the file
    value: Mapped[str | None] = mapped_column(sa.String(500))
    message: Mapped[str] = mapped_column(sa.String(500))

    job: Mapped[ImportJob] = relationship(back_populates="row_errors")
