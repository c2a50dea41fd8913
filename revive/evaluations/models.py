"""Enterprise evaluations of patents (市场评价) and invitations to evaluate."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import Organization, User
from revive.db import LabeledEnum, TimestampMixin, enum_column
from revive.extensions import db
from revive.inventory.models import Patent


class CooperationIntent(LabeledEnum):
    LICENSE = ("license", "许可")
    ASSIGNMENT = ("assignment", "转让")
    JOINT_RD = ("joint_rd", "合作研发")
    NONE = ("none", "暂无")


class Evaluation(TimestampMixin, db.Model):
    """One enterprise's evaluation of one patent; re-evaluating updates the row."""

    __tablename__ = "evaluations"
    __table_args__ = (
        sa.UniqueConstraint("patent_id", "enterprise_id", name="uq_evaluations_patent_enterprise"),
        sa.CheckConstraint("prospect_stars BETWEEN 1 AND 5", name="stars_1_to_5"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    prospect_stars: Mapped[int] = mapped_column(sa.SmallInteger)  # 产业化前景 1–5★
    improvement_needs: Mapped[str | None] = mapped_column(sa.Text)  # 技术改进需求
    intent: Mapped[CooperationIntent] = mapped_column(
        enum_column(CooperationIntent, "evaluation_intent")
    )  # 产学研合作意愿
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    patent: Mapped[Patent] = relationship()
    enterprise: Mapped[Organization] = relationship()
    user: Mapped[User | None] = relationship()


class EvaluationInvite(TimestampMixin, db.Model):
    """An officer or the patent's university invites an enterprise to evaluate a patent."""

    __tablename__ = "evaluation_invites"
    __table_args__ = (
        sa.UniqueConstraint(
            "patent_id", "enterprise_id", name="uq_evaluation_invites_patent_enterprise"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patent_id: Mapped[int] = mapped_column(sa.ForeignKey("patents.id", ondelete="CASCADE"))
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    patent: Mapped[Patent] = relationship()
    enterprise: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship()
