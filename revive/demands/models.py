"""Enterprise technology demands."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import Organization, User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column
from revive.demands.contacts import RULES_VERSION, hide_contacts
from revive.extensions import db

TITLE_MAX = 300  # characters of a demand's title (the column's length)


class DemandType(LabeledEnum):
    PROBLEM = ("problem", "技术难题攻关")
    ACQUISITION = ("acquisition", "成果引进")
    JOINT_RD = ("joint_rd", "合作研发")
    COMMISSIONED = ("commissioned", "委托开发")
    CONSULTING = ("consulting", "技术咨询")
    TALENT = ("talent", "人才团队")


class DemandSource(LabeledEnum):
    SELF = ("self", "企业自填")
    SURVEY = ("survey", "服务机构调研")
    CENTER = ("center", "运营中心")
    EVENT = ("event", "活动征集")


class Visibility(LabeledEnum):
    PUBLIC = ("public", "公开（高校可见）")
    PLATFORM = ("platform", "仅平台与技术经理人可见")


class DemandStatus(LabeledEnum):
    OPEN = ("open", "征集中")
    CLOSED = ("closed", "已关闭")


class Demand(TimestampMixin, db.Model):
    __tablename__ = "demands"
    __table_args__ = (
        sa.CheckConstraint(
            "expected_trl IS NULL OR expected_trl BETWEEN 1 AND 9", name="expected_trl_range"
        ),
        sa.CheckConstraint("budget IS NULL OR budget >= 0", name="budget_non_negative"),
        sa.CheckConstraint(
            "status <> 'closed' OR closed_at IS NOT NULL", name="closed_has_closed_at"
        ),
        sa.Index("ix_demands_status_updated", "status", "updated_at"),
        sa.Index("ix_demands_enterprise_status", "enterprise_id", "status"),
        # Officers' "new demands since I last looked" and the alert digests (revive.alerts).
        sa.Index("ix_demands_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(TITLE_MAX))  # 需求名称
    description: Mapped[str] = mapped_column(sa.Text)  # 需求描述
    target_specs: Mapped[str | None] = mapped_column(sa.Text)  # 量化技术指标
    # The description and targets as a reader without contact rights reads them (contact
    # details hidden, revive.demands.privacy): what that reader's keyword search looks in. Kept
    # on every write by _keep_public_text.
    public_text: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # contacts.RULES_VERSION of the public_text stored: an older one (a release that finds
    # contacts another way) and the recovery sweep writes it again (revive.demands.upkeep)
    public_text_rules: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    industry: Mapped[str | None] = mapped_column(sa.String(100), index=True)  # 行业
    region: Mapped[str | None] = mapped_column(sa.String(100))  # 地区
    demand_type: Mapped[DemandType | None] = mapped_column(enum_column(DemandType, "demand_type"))
    # Comma-separated inventory.models.TransferMode values (期望合作方式), as Patent.transfer_modes,
    # so "acceptable modes overlap" is a set intersection.
    cooperation_modes: Mapped[str | None] = mapped_column(sa.String(200))
    expected_trl: Mapped[int | None] = mapped_column(sa.SmallInteger)  # 期望技术成熟度
    budget: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 预算（万元）
    deadline: Mapped[date | None] = mapped_column(sa.Date)  # 截止日期
    contact_name: Mapped[str | None] = mapped_column(sa.String(100))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    source: Mapped[DemandSource] = mapped_column(
        enum_column(DemandSource, "demand_source"), default=DemandSource.SELF
    )
    visibility: Mapped[Visibility] = mapped_column(
        enum_column(Visibility, "demand_visibility"), default=Visibility.PUBLIC
    )
    status: Mapped[DemandStatus] = mapped_column(
        enum_column(DemandStatus, "demand_status"), default=DemandStatus.OPEN, index=True
    )
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    close_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # 订阅新专利提醒: the enterprise wants to hear of newly entered patents that fit this demand
    # (read by the standing alerts; on by default, switched on the demand page).
    alert_subscribed: Mapped[bool] = mapped_column(
        sa.Boolean, default=True, server_default=sa.true()
    )
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    enterprise: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def text(self) -> str:
        """What the matcher reads: title, description and target specs."""
        return "\n".join(p for p in (self.title, self.description, self.target_specs) if p)


@sa.event.listens_for(Demand, "before_insert")
@sa.event.listens_for(Demand, "before_update")
def _keep_public_text(_mapper: object, _connection: object, demand: Demand) -> None:
    # each text on its own, as the pages hide them (a number ending the description is not
    # read with the targets' first line: 13912345678 / 千亩… looked like a quantity)
    demand.public_text = public_text_of(demand.description, demand.target_specs)
    demand.public_text_rules = RULES_VERSION


def public_text_of(description: str | None, target_specs: str | None) -> str:
    """The description and targets with contact details hidden, each text on its own."""
    return "\n".join(hide_contacts(p) for p in (description, target_specs) if p)
