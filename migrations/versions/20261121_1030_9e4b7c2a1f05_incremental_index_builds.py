"""incremental index builds: kind (full/delta), base build, covered_at, shard count

Revision ID: 9e4b7c2a1f05
Revises: 475168f4a049
Create Date: 2026-11-21 10:30:00

Existing builds are full builds; their covered_at stays NULL, so the next build
of any kind becomes active over them (a delta then runs as a full build once).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9e4b7c2a1f05"
down_revision = "475168f4a049"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("index_builds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=10), server_default="full", nullable=False)
        )
        batch_op.add_column(sa.Column("base_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("covered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("shard_count", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_index_builds_covered_at"), ["covered_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("index_builds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_builds_covered_at"))
        batch_op.drop_column("shard_count")
        batch_op.drop_column("covered_at")
        batch_op.drop_column("base_id")
        batch_op.drop_column("kind")
