"""Export jobs: one row per background .xlsx export, with progress and the stored file."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column
from revive.extensions import db
from revive.queue import Delivery


class ExportStatus(LabeledEnum):
    QUEUED = ("queued", "排队中")
    RUNNING = ("running", "导出中")
    SUCCEEDED = ("succeeded", "已完成")
    FAILED = ("failed", "失败")
    EXPIRED = ("expired", "已过期")


class ExportJob(TimestampMixin, Delivery, db.Model):
    __tablename__ = "export_jobs"
    __table_args__ = (
        # The requester's unfinished jobs (the cap, the reuse of an identical request) and
        # their list of recent exports.
        sa.Index("ix_export_jobs_requester_status", "created_by_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(30))  # revive.exports.registry: "patents", …
    status: Mapped[ExportStatus] = mapped_column(
        enum_column(ExportStatus, "export_status"), default=ExportStatus.QUEUED
    )
    # Who asked: the task builds the file as this user, and only they may download it.
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    # The requester's role, organisation and college when they asked ("role:org:college"):
    # the file is built and handed over only while they are the same.
    scope: Mapped[str] = mapped_column(sa.String(100))
    # The export's filters as its kind reads them back (query-string arguments), and their
    # digest (identical requests of one user share an unfinished job).
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    params_key: Mapped[str] = mapped_column(sa.String(64))
    file_format: Mapped[str] = mapped_column(sa.String(10))  # xlsx
    filename: Mapped[str] = mapped_column(sa.String(255))  # the download's name
    ascii_filename: Mapped[str] = mapped_column(sa.String(255))  # for clients without filename*
    total_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Where the finished file is kept (under REVIVE_DATA_DIR/exports, shared by web and
    # workers); NULL once the job failed or its file was deleted.
    stored_path: Mapped[str | None] = mapped_column(sa.String(500))
    file_size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)  # in Chinese
    celery_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    created_by: Mapped[User] = relationship()

    @property
    def progress(self) -> float:
        if self.status in (ExportStatus.SUCCEEDED, ExportStatus.EXPIRED):
            return 1.0
        if not self.total_rows:
            return 0.0
        return min(1.0, self.processed_rows / self.total_rows)
