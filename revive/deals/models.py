"""A pushed match (deal), its stage history and its contract."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import Organization, User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column, utcnow
from revive.demands.models import Demand
from revive.extensions import db
from revive.inventory.models import Patent
from revive.matching.models import Match


class Stage(LabeledEnum):
    RECOMMENDED = ("recommended", "已推荐")
    CONTACTED = ("contacted", "已接洽")
    NEGOTIATING = ("negotiating", "洽谈中")
    SIGNED = ("signed", "已签约")
    FAILED = ("failed", "未成交")


class UniversityResponse(LabeledEnum):
    INTERESTED = ("interested", "愿意对接")
    DECLINED = ("declined", "暂不对接")


class ContractKind(LabeledEnum):
    ASSIGNMENT = ("assignment", "转让")
    LICENSE = ("license", "许可")
    OPEN_LICENSE = ("open_license", "开放许可")
    EQUITY = ("equity", "作价入股")


class LicenseScope(LabeledEnum):
    """How exclusive a 许可 contract is (专利实施许可合同的许可方式)."""

    ORDINARY = ("ordinary", "普通许可")  # the university may license others as well
    SOLE = ("sole", "排他许可")  # the licensee and the university only, nobody else
    EXCLUSIVE = ("exclusive", "独占许可")  # the licensee alone, not even the university


# While a sole or exclusive licence is in force the university may license nobody else.
EXCLUSIVE_SCOPES = (LicenseScope.SOLE, LicenseScope.EXCLUSIVE)


class Deal(TimestampMixin, db.Model):
    """An accepted match pushed to the enterprise and the patent's university (供需对接)."""

    __tablename__ = "deals"
    __table_args__ = (
        sa.CheckConstraint(
            "stage <> 'failed' OR failure_reason IS NOT NULL", name="failed_has_reason"
        ),
        sa.CheckConstraint(
            "response IS NULL OR responded_at IS NOT NULL", name="response_has_time"
        ),
        sa.Index("ix_deals_university_responded", "university_id", "responded_at"),
        sa.Index("ix_deals_officer_stage", "officer_id", "stage"),  # officer workload
        sa.Index("ix_deals_pushed_at", "pushed_at"),  # 按月进展: deals pushed each month
        sa.Index("ix_deals_responded_at", "responded_at"),  # … and answered each month
        # overdue responses: open, unanswered deals by due date
        sa.Index(
            "ix_deals_unanswered_due",
            "response_due_at",
            postgresql_where=sa.text("responded_at IS NULL"),
            sqlite_where=sa.text("responded_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    match_id: Mapped[int] = mapped_column(
        sa.ForeignKey("matches.id", ondelete="CASCADE"), unique=True
    )
    demand_id: Mapped[int] = mapped_column(
        sa.ForeignKey("demands.id", ondelete="CASCADE"), index=True
    )
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    university_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # who pushed it
    # The officer's recommendation note (推荐说明) sent with the push: shown to both sides on
    # the deal, on the enterprise's demand page and in the push notification.
    note: Mapped[str | None] = mapped_column(sa.Text)
    stage: Mapped[Stage] = mapped_column(
        enum_column(Stage, "deal_stage"), default=Stage.RECOMMENDED, index=True
    )
    stage_changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    pushed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The university must answer within REVIVE_RESPONSE_DAYS; past this and unanswered = overdue.
    response_due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # The first deadline that passed unanswered, kept when staff extend it (延长答复期限): the
    # answer is late even if it comes before the new deadline (an extension after the lapse had
    # turned a late answer into an on-time one in 按期答复率: a trial)
    lapsed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    response: Mapped[UniversityResponse | None] = mapped_column(
        enum_column(UniversityResponse, "deal_response")
    )
    response_comment: Mapped[str | None] = mapped_column(sa.Text)
    responded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    failure_reason: Mapped[str | None] = mapped_column(sa.String(40))  # code, see deals.reasons
    failure_comment: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    match: Mapped[Match] = relationship()
    demand: Mapped[Demand] = relationship()
    patent: Mapped[Patent] = relationship()
    university: Mapped[Organization] = relationship(foreign_keys=[university_id])
    enterprise: Mapped[Organization] = relationship(foreign_keys=[enterprise_id])
    officer: Mapped[User | None] = relationship(foreign_keys=[officer_id])
    responded_by: Mapped[User | None] = relationship(foreign_keys=[responded_by_id])
    events: Mapped[list[DealEvent]] = relationship(
        back_populates="deal", order_by="DealEvent.id", cascade="all, delete-orphan"
    )
    contract: Mapped[Contract | None] = relationship(back_populates="deal", uselist=False)


class DealEvent(db.Model):
    """One stage change (or response) of a deal: who, when, from → to."""

    __tablename__ = "deal_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(sa.ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_stage: Mapped[Stage | None] = mapped_column(enum_column(Stage, "deal_event_from"))
    to_stage: Mapped[Stage] = mapped_column(enum_column(Stage, "deal_event_to"))
    kind: Mapped[str] = mapped_column(sa.String(20), default="stage")  # stage | response | contract
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    deal: Mapped[Deal] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class Contract(TimestampMixin, db.Model):
    """The contract signed on a deal, traceable to its demand and patent through the deal."""

    __tablename__ = "contracts"
    __table_args__ = (sa.CheckConstraint("amount_wan >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(sa.ForeignKey("deals.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[ContractKind] = mapped_column(enum_column(ContractKind, "contract_kind"))
    amount_wan: Mapped[Decimal] = mapped_column(sa.Numeric(14, 2))  # 金额（万元）
    signed_on: Mapped[date] = mapped_column(sa.Date, index=True)
    record_no: Mapped[str | None] = mapped_column(sa.String(100))  # 备案号
    parties: Mapped[str] = mapped_column(sa.String(500))  # 合同当事方
    # A 许可 contract's scope and the last day of its term (许可期限至; required for a sole or
    # exclusive licence, whose term decides when others may be licensed again). None on the
    # other kinds, and on licences recorded before the scope was asked.
    license_scope: Mapped[LicenseScope | None] = mapped_column(
        enum_column(LicenseScope, "license_scope")
    )
    license_until: Mapped[date | None] = mapped_column(sa.Date)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    deal: Mapped[Deal] = relationship(back_populates="contract")
    created_by: Mapped[User | None] = relationship()
