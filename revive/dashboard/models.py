"""Cached dashboard figures: one row per platform-wide aggregate (see revive.dashboard.cache)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from revive.db import UtcDateTime
from revive.extensions import db


class DashboardSnapshot(db.Model):
    """The last computed value of one expensive aggregate, with when and against what data."""

    __tablename__ = "dashboard_snapshots"

    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    payload: Mapped[Any] = mapped_column(sa.JSON)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Fingerprint of the source tables when computed (latest change times / ids).
    watermark: Mapped[str] = mapped_column(sa.String(300))
    # Patents the figure covered: below the sync limit figures are recomputed in the request.
    patents: Mapped[int] = mapped_column(sa.Integer)
    # Set while a background refresh is queued or running (one at a time per key).
    refreshing_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
