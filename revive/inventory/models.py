"""Patent records, their status log and field-change history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revive.accounts.models import College, Invitation, Organization, User
from revive.db import LabeledEnum, TimestampMixin, UtcDateTime, enum_column, utcnow
from revive.extensions import db


class PatentType(LabeledEnum):
    INVENTION = ("invention", "发明")
    UTILITY = ("utility", "实用新型")
    DESIGN = ("design", "外观设计")


class EntryStatus(LabeledEnum):
    DRAFT = ("draft", "草稿")
    PENDING_COLLEGE = ("pending_college", "待学院审核")
    PENDING_SCHOOL = ("pending_school", "待学校审核")
    RETURNED = ("returned", "退回")
    ENTERED = ("entered", "已入库")
    NOT_ENTERED = ("not_entered", "不入库")
    ABANDON = ("abandon", "建议放弃")


class ImplementationStatus(LabeledEnum):
    NOT_IMPLEMENTED = ("not_implemented", "未实施")
    SELF = ("self", "自行实施")
    LICENSED = ("licensed", "已许可")
    TRANSFERRED = ("transferred", "已转让")
    EQUITY = ("equity", "作价入股")
    INDUSTRIALIZED = ("industrialized", "已产业化")


class Willingness(LabeledEnum):
    WILLING = ("willing", "愿意")
    CONDITIONAL = ("conditional", "视条件")
    NOT_NOW = ("not_now", "暂不")


class TransferMode(LabeledEnum):
    ASSIGNMENT = ("assignment", "转让")
    LICENSE = ("license", "普通许可")
    EXCLUSIVE = ("exclusive", "独占或排他许可")
    OPEN_LICENSE = ("open_license", "开放许可")
    EQUITY = ("equity", "作价入股")
    JOINT_DEV = ("joint_dev", "合作开发")


# Which inventor accounts a patent is linked to (what an inventor may see and edit). Rows are
# written only by an explicit, audited decision (inventory.inventors), never from a name.
patent_inventors = sa.Table(
    "patent_inventors",
    db.metadata,
    sa.Column("patent_id", sa.ForeignKey("patents.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_patent_inventors_user_id", "user_id"),  # an inventor's "my patents" list
)


class Patent(TimestampMixin, db.Model):
    __tablename__ = "patents"
    __table_args__ = (
        sa.UniqueConstraint("institution_id", "application_no", name="institution_application_no"),
        sa.CheckConstraint("trl IS NULL OR trl BETWEEN 1 AND 9", name="trl_range"),
        sa.CheckConstraint(
            "value_grade IS NULL OR value_grade BETWEEN 1 AND 5", name="value_grade_range"
        ),
        sa.CheckConstraint("asking_price IS NULL OR asking_price >= 0", name="price_non_negative"),
        sa.CheckConstraint(
            "status <> 'entered' OR entered_at IS NOT NULL", name="entered_has_entered_at"
        ),
        sa.CheckConstraint(
            "status NOT IN ('pending_college', 'pending_school', 'entered', 'not_entered', "
            "'abandon') OR submitted_at IS NOT NULL",
            name="reviewed_states_were_submitted",
        ),
        # A patent may enter the pool only with its self-assessment complete.
        sa.CheckConstraint(
            "status <> 'entered' OR (trl IS NOT NULL AND value_grade IS NOT NULL "
            "AND transfer_willingness IS NOT NULL)",
            name="entered_is_graded",
        ),
        sa.Index("ix_patents_institution_status", "institution_id", "status"),
        sa.Index("ix_patents_institution_college", "institution_id", "college_id"),
        sa.Index("ix_patents_institution_updated", "institution_id", "updated_at"),
        sa.Index("ix_patents_status_updated", "status", "updated_at"),
        # Cross-university lists (officer, regulator) sort by recency with id as tie-breaker.
        sa.Index("ix_patents_updated_id", "updated_at", "id"),
        # The list sorted by title (either direction: a B-tree is read both ways).
        sa.Index("ix_patents_title_id", "title", "id"),
        # Keyword search (substring, ILIKE) on PostgreSQL: trigram GIN indexes (pg_trgm). On
        # SQLite these are plain indexes, harmless for a small embedded database.
        sa.Index(
            "ix_patents_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        sa.Index(
            "ix_patents_abstract_trgm",
            "abstract",
            postgresql_using="gin",
            postgresql_ops={"abstract": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    college_id: Mapped[int | None] = mapped_column(sa.ForeignKey("colleges.id"))
    # Canonical 申请号, e.g. "201710601862.3" (see inventory.appno).
    application_no: Mapped[str] = mapped_column(sa.String(20), index=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    patent_type: Mapped[PatentType] = mapped_column(enum_column(PatentType, "patent_type"))
    patentees: Mapped[str | None] = mapped_column(sa.String(500))
    inventors: Mapped[str | None] = mapped_column(sa.String(500))
    contact_name: Mapped[str | None] = mapped_column(sa.String(100))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(40))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    filing_date: Mapped[date | None] = mapped_column(sa.Date)
    grant_date: Mapped[date | None] = mapped_column(sa.Date)
    legal_status: Mapped[str | None] = mapped_column(sa.String(50))
    ipc_main: Mapped[str | None] = mapped_column(sa.String(50))
    ipc_all: Mapped[str | None] = mapped_column(sa.String(500))
    industry_code: Mapped[str | None] = mapped_column(sa.String(100))  # 国民经济行业分类
    emerging_industry: Mapped[str | None] = mapped_column(sa.String(100))  # 战略性新兴产业分类
    tech_field: Mapped[str | None] = mapped_column(sa.String(200))  # 技术主题/应用领域
    abstract: Mapped[str | None] = mapped_column(sa.Text)
    problem_solved: Mapped[str | None] = mapped_column(sa.Text)  # 所解决的问题
    advantages: Mapped[str | None] = mapped_column(sa.Text)  # 对应产品、技术优势、性能指标
    prospects: Mapped[str | None] = mapped_column(sa.Text)  # 产业化前景描述
    is_funded: Mapped[bool | None] = mapped_column(sa.Boolean)  # 是否财政资助科研项目形成
    implementation_status: Mapped[ImplementationStatus | None] = mapped_column(
        enum_column(ImplementationStatus, "implementation_status")
    )
    transfer_willingness: Mapped[Willingness | None] = mapped_column(
        enum_column(Willingness, "willingness")
    )
    # Comma-separated TransferMode values, e.g. "assignment,license".
    transfer_modes: Mapped[str | None] = mapped_column(sa.String(200))
    trl: Mapped[int | None] = mapped_column(sa.SmallInteger)  # 技术成熟度 1–9
    value_grade: Mapped[int | None] = mapped_column(sa.SmallInteger)  # 专利价值分级自评 1–5★
    asking_price: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # 意向价格（万元）
    # The university shows the asking price in the public pool (专利库); otherwise 面议.
    price_public: Mapped[bool | None] = mapped_column(sa.Boolean)
    partner_companies: Mapped[str | None] = mapped_column(sa.String(500))  # 合作企业

    status: Mapped[EntryStatus] = mapped_column(
        enum_column(EntryStatus, "entry_status"), default=EntryStatus.DRAFT
    )
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Optimistic locking: a stale edit raises StaleDataError instead of overwriting.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    institution: Mapped[Organization] = relationship()
    college: Mapped[College | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    inventor_users: Mapped[list[User]] = relationship(secondary=patent_inventors)
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="patent", order_by="StatusChange.id", cascade="all, delete-orphan"
    )
    revisions: Mapped[list[PatentRevision]] = relationship(
        back_populates="patent", order_by="PatentRevision.id", cascade="all, delete-orphan"
    )

    @property
    def modes(self) -> list[TransferMode]:
        return [TransferMode(v) for v in (self.transfer_modes or "").split(",") if v]

    def __repr__(self) -> str:
        return f"<Patent {self.id} {self.application_no}>"


# Sort keys for the nullable list columns: "not filled in" goes last in both directions (99 is
# above every grade/TRL, 0 below). Literal SQL, not bound parameters, so PostgreSQL matches the
# ORDER BY to the expression indexes below (asc walks *_asc forward, desc walks *_desc back).
def _nulls_last_keys(column: Any) -> tuple[Any, Any]:
    return (
        sa.func.coalesce(column, sa.literal_column("99")),
        sa.func.coalesce(column, sa.literal_column("0")),
    )


GRADE_SORT_KEYS = _nulls_last_keys(Patent.value_grade)
TRL_SORT_KEYS = _nulls_last_keys(Patent.trl)
sa.Index("ix_patents_grade_asc", GRADE_SORT_KEYS[0], Patent.id)
sa.Index("ix_patents_grade_desc", GRADE_SORT_KEYS[1], Patent.id)
sa.Index("ix_patents_trl_asc", TRL_SORT_KEYS[0], Patent.id)
sa.Index("ix_patents_trl_desc", TRL_SORT_KEYS[1], Patent.id)

# The trigram operator classes come from pg_trgm: create it with the table (tests' create_all;
# the migration does the same).
sa.event.listen(
    Patent.__table__,
    "before_create",
    sa.DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class StatusChange(db.Model):
    """One move in the entry workflow: who, when, from, to, comment."""

    __tablename__ = "patent_status_changes"
    # 按月进展 counts the moves of each month (entered, 建议放弃) across every patent
    __table_args__ = (sa.Index("ix_patent_status_changes_to_created", "to_status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    from_status: Mapped[EntryStatus | None] = mapped_column(
        enum_column(EntryStatus, "status_change_from")
    )
    to_status: Mapped[EntryStatus] = mapped_column(enum_column(EntryStatus, "status_change_to"))
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    patent: Mapped[Patent] = relationship(back_populates="status_changes")
    actor: Mapped[User | None] = relationship()


class PatentRevision(db.Model):
    """Field-level history of a patent record: {field: [old, new]} per edit or import."""

    __tablename__ = "patent_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    source: Mapped[str] = mapped_column(sa.String(20))  # create | edit | import
    import_job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_jobs.id"))
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    patent: Mapped[Patent] = relationship(back_populates="revisions")
    actor: Mapped[User | None] = relationship()


class InvitationPatent(db.Model):
    """A patent the inviter ticked when inviting an inventor: the new account is linked to it
    when the invitation is accepted (inventory.inventors.link_invited_patents), and that link
    is audited as the decision of ``chosen_by``."""

    __tablename__ = "invitation_patents"

    invitation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("invitations.id", ondelete="CASCADE"), primary_key=True
    )
    patent_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    chosen_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    invitation: Mapped[Invitation] = relationship()
    patent: Mapped[Patent] = relationship()
    chosen_by: Mapped[User] = relationship()


class FeeSetting(db.Model):
    """How much fee reduction (费减) an institution claims: 0, 70 or 85 (%). Set by its school
    admin (audited); without a row, REVIVE_FEE_REDUCTION_DEFAULT applies."""

    __tablename__ = "fee_settings"
    __table_args__ = (
        sa.CheckConstraint("reduction_pct IN (0, 70, 85)", name="reduction_pct_choice"),
    )

    institution_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    reduction_pct: Mapped[int] = mapped_column(sa.SmallInteger)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
