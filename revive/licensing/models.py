"""Open-licence declarations (专利开放许可声明)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column
from revive.extensions import db
from revive.inventory.models import Patent


class FeeMode(LabeledEnum):
    LUMP_SUM = ("lump_sum", "一次性付费")
    ROYALTY = ("royalty", "提成")
    ENTRY_PLUS_ROYALTY = ("entry_plus_royalty", "入门费+提成")


class DeclarationStatus(LabeledEnum):
    ACTIVE = ("active", "已声明")
    WITHDRAWN = ("withdrawn", "已撤回")


class OpenLicenceDeclaration(TimestampMixin, db.Model):
    """A declared open licence. The fee is public and the same for every licensee; the rules
    (caps, period ≥ 1 year, consents, no exclusive licence, not in the grace period) are checked
    by revive.licensing.rules before a row is written."""

    __tablename__ = "open_licence_declarations"
    __table_args__ = (
        sa.CheckConstraint("end_date > start_date", name="period_positive"),
        sa.CheckConstraint(
            "status <> 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn_has_time"
        ),
        # At most one active declaration per patent, enforced by the database too.
        sa.Index(
            "uq_open_licence_declarations_patent_active",
            "patent_id",
            unique=True,
            postgresql_where=sa.text("status = 'active'"),
            sqlite_where=sa.text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    fee_mode: Mapped[FeeMode] = mapped_column(enum_column(FeeMode, "licence_fee_mode"))
    lump_sum_wan: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 一次性费用（万元）
    entry_fee_wan: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 入门费（万元）
    royalty_sales_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))  # 净销售额提成 %
    royalty_profit_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))  # 利润提成 %
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)
    co_owners_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    exclusive_licence_in_force: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    in_fee_grace_period: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    pledged: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    pledgee_consent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    evaluation_report_no: Mapped[str | None] = mapped_column(sa.String(100))  # 专利权评价报告
    terms: Mapped[str | None] = mapped_column(sa.Text)  # other public terms
    status: Mapped[DeclarationStatus] = mapped_column(
        enum_column(DeclarationStatus, "licence_status"), default=DeclarationStatus.ACTIVE
    )
    declared_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    patent: Mapped[Patent] = relationship()
    declared_by: Mapped[User | None] = relationship()
