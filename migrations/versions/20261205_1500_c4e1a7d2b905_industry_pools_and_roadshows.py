"""pools, pool_runs, pool_patents, pool_demands: industry pools (产业知识产权数据库);
roadshows, roadshow_patents, roadshow_enterprises: 路演推介

Revision ID: c4e1a7d2b905
Revises: 34c652fe74e5
Create Date: 2026-12-05 15:00:00

A pool is defined by an officer (name, description, key terms, optional GB/T 4754 codes); a
ranking run (pool_runs) proposes entered patents and open demands as candidates that a curator
includes or excludes (pool_patents / pool_demands). A roadshow records the patents presented
for a pool or a tier, when and where, and the registered enterprises that attended.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c4e1a7d2b905"
down_revision = "34c652fe74e5"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pools",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("key_terms", sa.Text(), nullable=False),
        sa.Column("industry_codes", sa.String(length=500), nullable=True),
        sa.Column(
            "industry_mode",
            sa.Enum(
                "none",
                "boost",
                "restrict",
                name="pool_industry_mode",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("bar", sa.Float(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "bar IS NULL OR (bar >= 0 AND bar <= 1)", name=op.f("ck_pools_bar_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_pools_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pools")),
        sa.UniqueConstraint("name", name=op.f("uq_pools_name")),
    )
    op.create_table(
        "pool_demands",
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.Integer(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "candidate",
                "included",
                "excluded",
                name="pool_member_state",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("terms", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state = 'candidate' OR decided_at IS NOT NULL",
            name=op.f("ck_pool_demands_decided_has_time"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_pool_demands_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["demands.id"],
            name=op.f("fk_pool_demands_demand_id_demands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["pools.id"],
            name=op.f("fk_pool_demands_pool_id_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_demands")),
        sa.UniqueConstraint("pool_id", "demand_id", name="pool_demand"),
    )
    with op.batch_alter_table("pool_demands", schema=None) as batch_op:
        batch_op.create_index("ix_pool_demands_demand", ["demand_id"], unique=False)
        batch_op.create_index(
            "ix_pool_demands_pool_state_score", ["pool_id", "state", "score"], unique=False
        )

    op.create_table(
        "pool_patents",
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "ranking",
                "new",
                name="pool_member_source",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "candidate",
                "included",
                "excluded",
                name="pool_member_state",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("terms", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state = 'candidate' OR decided_at IS NOT NULL",
            name=op.f("ck_pool_patents_decided_has_time"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_pool_patents_decided_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_pool_patents_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["pools.id"],
            name=op.f("fk_pool_patents_pool_id_pools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_patents")),
        sa.UniqueConstraint("pool_id", "patent_id", name="pool_patent"),
    )
    with op.batch_alter_table("pool_patents", schema=None) as batch_op:
        batch_op.create_index("ix_pool_patents_patent", ["patent_id"], unique=False)
        batch_op.create_index(
            "ix_pool_patents_pool_state_score", ["pool_id", "state", "score"], unique=False
        )

    op.create_table(
        "pool_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "rank",
                "propose",
                name="pool_run_kind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                name="pool_run_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("index_version", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("patent_count", sa.Integer(), nullable=False),
        sa.Column("demand_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("celery_task_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_pool_runs_pool_id_pools"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["users.id"], name=op.f("fk_pool_runs_requested_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_runs")),
    )
    with op.batch_alter_table("pool_runs", schema=None) as batch_op:
        batch_op.create_index("ix_pool_runs_pool_status", ["pool_id", "status"], unique=False)

    op.create_table(
        "roadshows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=1), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "tier IS NULL OR tier IN ('A', 'B', 'C', 'D')", name=op.f("ck_roadshows_tier_letter")
        ),
        sa.CheckConstraint(
            "pool_id IS NOT NULL OR tier IS NOT NULL", name=op.f("ck_roadshows_pool_or_tier")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_roadshows_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["pools.id"], name=op.f("fk_roadshows_pool_id_pools"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roadshows")),
    )
    op.create_table(
        "roadshow_enterprises",
        sa.Column("roadshow_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["organizations.id"],
            name=op.f("fk_roadshow_enterprises_enterprise_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["roadshow_id"],
            ["roadshows.id"],
            name=op.f("fk_roadshow_enterprises_roadshow_id_roadshows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "roadshow_id", "enterprise_id", name=op.f("pk_roadshow_enterprises")
        ),
    )
    with op.batch_alter_table("roadshow_enterprises", schema=None) as batch_op:
        batch_op.create_index(
            "ix_roadshow_enterprises_enterprise_id", ["enterprise_id"], unique=False
        )

    op.create_table(
        "roadshow_patents",
        sa.Column("roadshow_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_roadshow_patents_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["roadshow_id"],
            ["roadshows.id"],
            name=op.f("fk_roadshow_patents_roadshow_id_roadshows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("roadshow_id", "patent_id", name=op.f("pk_roadshow_patents")),
    )


def downgrade():
    op.drop_table("roadshow_patents")
    with op.batch_alter_table("roadshow_enterprises", schema=None) as batch_op:
        batch_op.drop_index("ix_roadshow_enterprises_enterprise_id")

    op.drop_table("roadshow_enterprises")
    op.drop_table("roadshows")
    with op.batch_alter_table("pool_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_pool_runs_pool_status")

    op.drop_table("pool_runs")
    with op.batch_alter_table("pool_patents", schema=None) as batch_op:
        batch_op.drop_index("ix_pool_patents_pool_state_score")
        batch_op.drop_index("ix_pool_patents_patent")

    op.drop_table("pool_patents")
    with op.batch_alter_table("pool_demands", schema=None) as batch_op:
        batch_op.drop_index("ix_pool_demands_pool_state_score")
        batch_op.drop_index("ix_pool_demands_demand")

    op.drop_table("pool_demands")
    op.drop_table("pools")
