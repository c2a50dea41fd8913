"""task dispatches: outbox and leases of background tasks (revive.queue)

Revision ID: 7b3e5d1c9a20
Revises: 30ad6222851c
Create Date: 2026-11-21 09:55:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7b3e5d1c9a20"
down_revision = "30ad6222851c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "task_dispatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_name", sa.String(length=100), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("send_attempts", sa.Integer(), nullable=False),
        sa.Column("send_error", sa.String(length=500), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker", sa.String(length=255), nullable=True),
        sa.Column("worker_boot", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_dispatches")),
        sa.UniqueConstraint("task_id", name=op.f("uq_task_dispatches_task_id")),
    )
    with op.batch_alter_table("task_dispatches", schema=None) as batch_op:
        batch_op.create_index("ix_task_dispatches_open", ["finished_at", "sent_at"], unique=False)


def downgrade():
    with op.batch_alter_table("task_dispatches", schema=None) as batch_op:
        batch_op.drop_index("ix_task_dispatches_open")
    op.drop_table("task_dispatches")
