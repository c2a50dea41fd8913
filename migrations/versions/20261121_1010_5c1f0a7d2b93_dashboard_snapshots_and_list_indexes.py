"""dashboard snapshots and list indexes

The cached platform-wide dashboard figures (dashboard_snapshots, see revive.dashboard.cache)
and the indexes that keep the inventory list fast at 1M patents.

Revision ID: 5c1f0a7d2b93
Revises: 7b3e5d1c9a20
Create Date: 2026-11-21 10:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c1f0a7d2b93"
down_revision = "7b3e5d1c9a20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dashboard_snapshots",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("watermark", sa.String(length=300), nullable=False),
        sa.Column("patents", sa.Integer(), nullable=False),
        sa.Column("refreshing_since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dashboard_snapshots")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Trigram operator classes for the keyword search's GIN indexes (a trusted extension:
        # the database owner may create it).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("patents", schema=None) as batch_op:
        batch_op.create_index("ix_patents_title_id", ["title", "id"], unique=False)
        # GIN (gin_trgm_ops) on PostgreSQL; a plain index on SQLite (postgresql_* ignored).
        batch_op.create_index(
            "ix_patents_title_trgm",
            ["title"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        )
        batch_op.create_index(
            "ix_patents_abstract_trgm",
            ["abstract"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"abstract": "gin_trgm_ops"},
        )
        # Sort keys with "not filled in" last in both directions (inventory.models).
        for name, expr in SORT_KEY_INDEXES:
            batch_op.create_index(name, [sa.text(expr), "id"], unique=False)


SORT_KEY_INDEXES = (
    ("ix_patents_grade_asc", "coalesce(value_grade, 99)"),
    ("ix_patents_grade_desc", "coalesce(value_grade, 0)"),
    ("ix_patents_trl_asc", "coalesce(trl, 99)"),
    ("ix_patents_trl_desc", "coalesce(trl, 0)"),
)


def downgrade():
    with op.batch_alter_table("patents", schema=None) as batch_op:
        for name, _expr in SORT_KEY_INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_index("ix_patents_abstract_trgm")
        batch_op.drop_index("ix_patents_title_trgm")
        batch_op.drop_index("ix_patents_title_id")
    op.drop_table("dashboard_snapshots")
