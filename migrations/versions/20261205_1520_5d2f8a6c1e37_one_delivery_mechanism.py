"""one delivery mechanism: job rows are the outbox; the dispatch ledger goes (issue 15)

Revision ID: 5d2f8a6c1e37
Revises: 967047034f43
Create Date: 2026-12-05 15:20:00

Every row a background task works on (import_jobs, index_builds, match_runs, strength_models,
notifications, password_resets) gets its delivery bookkeeping (revive.queue.Delivery):
task_sent_at (handed to the broker; NULL: not yet), task_claimed_by (the Celery task id
working on it), task_heartbeat_at (its last sign of life), task_attempts (deliveries started).

Existing rows: a row still active (queued or running) gets task_sent_at NULL, so the first
sweep after the upgrade sends it once (a duplicate of a message still in the broker finds
the row claimed or finished and does nothing). task_dispatches (ledger and leases) is dropped:
its open rows were exactly those active rows.

notifications.email_status gets an index: the sweep looks for 'queued' ones every minute.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d2f8a6c1e37"
down_revision = "967047034f43"
branch_labels = None
depends_on = None

TABLES = (
    "import_jobs",
    "index_builds",
    "match_runs",
    "strength_models",
    "notifications",
    "password_resets",
    "pool_runs",
    "alert_digests",
)


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("task_sent_at", sa.DateTime(timezone=True), nullable=True)
            )
            batch_op.add_column(sa.Column("task_claimed_by", sa.String(length=64), nullable=True))
            batch_op.add_column(
                sa.Column("task_heartbeat_at", sa.DateTime(timezone=True), nullable=True)
            )
            batch_op.add_column(
                sa.Column("task_attempts", sa.Integer(), server_default="0", nullable=False)
            )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_email_status", ["email_status"], unique=False)

    with op.batch_alter_table("task_dispatches", schema=None) as batch_op:
        batch_op.drop_index("ix_task_dispatches_open")
    op.drop_table("task_dispatches")


def downgrade():
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

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_email_status")
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("task_attempts")
            batch_op.drop_column("task_heartbeat_at")
            batch_op.drop_column("task_claimed_by")
            batch_op.drop_column("task_sent_at")
