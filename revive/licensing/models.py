"""Open-licence declarations (专利开放许可声明)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import Organization, User
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


class ApplicationStatus(LabeledEnum):
    """开放许可实施申请: submitted by an enterprise; the holder confirms it (已确认) and/or
    records the signed licence (已签订), each with a date; the applicant may withdraw it before
    it is signed."""

    SUBMITTED = ("submitted", "已提交")
    CONFIRMED = ("confirmed", "已确认")
    SIGNED = ("signed", "已签订")
    WITHDRAWN = ("withdrawn", "已撤回")


# An enterprise has at most one application per declaration in these states (open or done).
HELD_STATUSES = (ApplicationStatus.SUBMITTED, ApplicationStatus.CONFIRMED, ApplicationStatus.SIGNED)


class LicenceApplication(TimestampMixin, db.Model):
    """An enterprise's application to implement a declared open licence (开放许可实施申请),
    with a snapshot of the declared terms it accepted (the declaration may be withdrawn or
    re-declared later; what was applied for stays on record). The fee is the declared one:
    there is no negotiated amount."""

    __tablename__ = "licence_applications"
    __table_args__ = (
        sa.CheckConstraint("terms_accepted", name="terms_accepted"),
        sa.CheckConstraint(
            "status <> 'confirmed' OR confirmed_on IS NOT NULL", name="confirmed_has_date"
        ),
        sa.CheckConstraint("status <> 'signed' OR signed_on IS NOT NULL", name="signed_has_date"),
        sa.CheckConstraint(
            "status <> 'withdrawn' OR withdrawn_at IS NOT NULL", name="withdrawn_has_time"
        ),
        # One held application per enterprise and declaration, enforced by the database too.
        sa.Index(
            "uq_licence_applications_declaration_enterprise_held",
            "declaration_id",
            "enterprise_id",
            unique=True,
            postgresql_where=sa.text("status IN ('submitted', 'confirmed', 'signed')"),
            sqlite_where=sa.text("status IN ('submitted', 'confirmed', 'signed')"),
        ),
        sa.Index("ix_licence_applications_status_patent", "status", "patent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    declaration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("open_licence_declarations.id", ondelete="CASCADE"), index=True
    )
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    applicant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[ApplicationStatus] = mapped_column(
        enum_column(ApplicationStatus, "licence_application_status"),
        default=ApplicationStatus.SUBMITTED,
    )
    # The applicant (申请人): the enterprise's name and credit code as they were, the contact.
    applicant_name: Mapped[str] = mapped_column(sa.String(200))
    credit_code: Mapped[str | None] = mapped_column(sa.String(18))
    contact_name: Mapped[str] = mapped_column(sa.String(100))
    contact_phone: Mapped[str] = mapped_column(sa.String(40))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    intended_use: Mapped[str] = mapped_column(sa.Text)  # 实施计划：产品、地点、规模
    terms_accepted: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The declared terms at the time of applying (licensing.applications.terms_snapshot).
    terms: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    confirmed_on: Mapped[date | None] = mapped_column(sa.Date)
    signed_on: Mapped[date | None] = mapped_column(sa.Date)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    holder_note: Mapped[str | None] = mapped_column(sa.Text)  # the holder's remark
    withdraw_reason: Mapped[str | None] = mapped_column(sa.String(500))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    declaration: Mapped[OpenLicenceDeclaration] = relationship()
    patent: Mapped[Patent] = relationship()
    enterprise: Mapped[Organization] = relationship()
    applicant: Mapped[User | None] = relationship(foreign_keys=[applicant_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_open(self) -> bool:
        return self.status in (ApplicationStatus.SUBMITTED, ApplicationStatus.CONFIRMED)
