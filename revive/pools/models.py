"""Industry pools (产业知识产权数据库), their ranking runs and curated members, and roadshows.

A pool is defined by an officer: a name, what the industry is in plain words and key terms, and
optionally GB/T 4754 industry codes. A ranking run (PoolRun, the row is the record) asks the
engine for the best 已入库 patents and open demands; each becomes a candidate row (PoolPatent /
PoolDemand) that a curator includes or excludes. After an index build, patents entered since the
pool's last check that score above its bar are proposed as candidates too (source "new"), never
added silently.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from revive.accounts.models import Organization, User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import Patent
from revive.queue import Delivery


class IndustryMode(LabeledEnum):
    """How a pool's industry codes act on the ranking."""

    NONE = ("none", "不使用行业代码")
    BOOST = ("boost", "行业代码相符的专利优先")
    RESTRICT = ("restrict", "只排行业代码相符的专利")


class PoolRunKind(LabeledEnum):
    RANK = ("rank", "排序")
    PROPOSE = ("propose", "新入库专利推荐")


class PoolRunStatus(LabeledEnum):
    QUEUED = ("queued", "排队中")
    RUNNING = ("running", "运行中")
    SUCCEEDED = ("succeeded", "已完成")
    FAILED = ("failed", "失败")


class MemberState(LabeledEnum):
    CANDIDATE = ("candidate", "待确认")
    INCLUDED = ("included", "已纳入")
    EXCLUDED = ("excluded", "已排除")


class MemberSource(LabeledEnum):
    RANKING = ("ranking", "引擎排序")
    NEW = ("new", "新入库专利")


class Pool(TimestampMixin, db.Model):
    __tablename__ = "pools"
    __table_args__ = (
        sa.CheckConstraint("bar IS NULL OR (bar >= 0 AND bar <= 1)", name="bar_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    key_terms: Mapped[str] = mapped_column(sa.Text, default="")
    # GB/T 4754 codes or prefixes, comma-separated ("C144,A0311"); empty: none.
    industry_codes: Mapped[str | None] = mapped_column(sa.String(500))
    industry_mode: Mapped[IndustryMode] = mapped_column(
        enum_column(IndustryMode, "pool_industry_mode"), default=IndustryMode.NONE
    )
    # Proposal bar for newly entered patents (engine score); None: REVIVE_POOL_PROPOSE_BAR.
    bar: Mapped[float | None] = mapped_column(sa.Float)
    # Entered patents up to this moment have been considered for proposals.
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    created_by: Mapped[User | None] = relationship()

    @property
    def codes(self) -> list[str]:
        return [c for c in (self.industry_codes or "").split(",") if c]


class PoolRun(TimestampMixin, Delivery, db.Model):
    """One ranking (or proposal) run of a pool; the pages and the API read this row. It is the
    outbox of its task (revive.queue)."""

    __tablename__ = "pool_runs"
    __table_args__ = (sa.Index("ix_pool_runs_pool_status", "pool_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pool_id: Mapped[int] = mapped_column(sa.ForeignKey("pools.id", ondelete="CASCADE"))
    kind: Mapped[PoolRunKind] = mapped_column(
        enum_column(PoolRunKind, "pool_run_kind"), default=PoolRunKind.RANK
    )
    status: Mapped[PoolRunStatus] = mapped_column(
        enum_column(PoolRunStatus, "pool_run_status"), default=PoolRunStatus.QUEUED
    )
    index_version: Mapped[int | None] = mapped_column(sa.Integer)
    total: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed: Mapped[int] = mapped_column(sa.Integer, default=0)
    patent_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    demand_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    celery_task_id: Mapped[str | None] = mapped_column(sa.String(64))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    pool: Mapped[Pool] = relationship()
    requested_by: Mapped[User | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in (PoolRunStatus.QUEUED, PoolRunStatus.RUNNING)


class _Member:
    """Columns shared by a pool's patents and demands."""

    id: Mapped[int] = mapped_column(primary_key=True)
    state: Mapped[MemberState] = mapped_column(
        enum_column(MemberState, "pool_member_state"), default=MemberState.CANDIDATE
    )
    score: Mapped[float] = mapped_column(sa.Float, default=0.0)
    rank: Mapped[int | None] = mapped_column(sa.Integer)  # in the latest run; None: left it
    # Spans the pool's text and the member's text share, best first (shown to curators).
    reasons: Mapped[list[str]] = mapped_column(
        sa.JSON, default=list, server_default=sa.text("'[]'")
    )
    terms: Mapped[list[Any]] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    comment: Mapped[str | None] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}


class PoolPatent(_Member, TimestampMixin, db.Model):
    __tablename__ = "pool_patents"
    __table_args__ = (
        sa.UniqueConstraint("pool_id", "patent_id", name="pool_patent"),
        sa.CheckConstraint(
            "state = 'candidate' OR decided_at IS NOT NULL", name="decided_has_time"
        ),
        sa.Index("ix_pool_patents_pool_state_score", "pool_id", "state", "score"),
        sa.Index("ix_pool_patents_patent", "patent_id"),
    )

    pool_id: Mapped[int] = mapped_column(sa.ForeignKey("pools.id", ondelete="CASCADE"))
    patent_id: Mapped[int] = mapped_column(sa.ForeignKey("patents.id", ondelete="CASCADE"))
    source: Mapped[MemberSource] = mapped_column(
        enum_column(MemberSource, "pool_member_source"), default=MemberSource.RANKING
    )
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    pool: Mapped[Pool] = relationship()
    patent: Mapped[Patent] = relationship()
    decided_by: Mapped[User | None] = relationship()


class PoolDemand(_Member, TimestampMixin, db.Model):
    __tablename__ = "pool_demands"
    __table_args__ = (
        sa.UniqueConstraint("pool_id", "demand_id", name="pool_demand"),
        sa.CheckConstraint(
            "state = 'candidate' OR decided_at IS NOT NULL", name="decided_has_time"
        ),
        sa.Index("ix_pool_demands_pool_state_score", "pool_id", "state", "score"),
        sa.Index("ix_pool_demands_demand", "demand_id"),
    )

    pool_id: Mapped[int] = mapped_column(sa.ForeignKey("pools.id", ondelete="CASCADE"))
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id", ondelete="CASCADE"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    pool: Mapped[Pool] = relationship()
    demand: Mapped[Demand] = relationship()
    decided_by: Mapped[User | None] = relationship()


# ---------------------------------------------------------------------------- roadshows

roadshow_enterprises = sa.Table(
    "roadshow_enterprises",
    db.metadata,
    sa.Column("roadshow_id", sa.ForeignKey("roadshows.id", ondelete="CASCADE"), primary_key=True),
    sa.Column(
        "enterprise_id", sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_roadshow_enterprises_enterprise_id", "enterprise_id"),
)


class Roadshow(TimestampMixin, db.Model):
    """路演推介: patents presented on a date at a place, for a pool or a promotion tier, to the
    registered enterprises that attended."""

    __tablename__ = "roadshows"
    __table_args__ = (
        sa.CheckConstraint("pool_id IS NOT NULL OR tier IS NOT NULL", name="pool_or_tier"),
        sa.CheckConstraint("tier IS NULL OR tier IN ('A', 'B', 'C', 'D')", name="tier_letter"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    held_on: Mapped[date] = mapped_column(sa.Date)
    place: Mapped[str] = mapped_column(sa.String(200))
    pool_id: Mapped[int | None] = mapped_column(sa.ForeignKey("pools.id", ondelete="SET NULL"))
    tier: Mapped[str | None] = mapped_column(sa.String(1))
    notes: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    pool: Mapped[Pool | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    items: Mapped[list[RoadshowPatent]] = relationship(
        order_by="RoadshowPatent.position", cascade="all, delete-orphan"
    )
    enterprises: Mapped[list[Organization]] = relationship(
        secondary=roadshow_enterprises, order_by=Organization.name
    )


class RoadshowPatent(db.Model):
    __tablename__ = "roadshow_patents"

    roadshow_id: Mapped[int] = mapped_column(
        sa.ForeignKey("roadshows.id", ondelete="CASCADE"), primary_key=True
    )
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(sa.Integer, default=0)

    patent: Mapped[Patent] = relationship()
