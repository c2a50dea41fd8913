"""email_batches: one e-mail per person for the notices of one bulk action

Revision ID: f1a2b3c4d5e6
Revises: e6c9f4a03b28
Create Date: 2026-12-07 16:50:00

An officer pushing many matches at once sent each member of the enterprise and of each
university one e-mail per deal. The notices of such a bulk action now share an email_batches
row (the outbox of its task, with the delivery bookkeeping of revive.queue.Delivery): each
person gets one e-mail listing the notices that concern them. notifications.email_batch_id
names the batch; existing notifications have none (mailed one by one, as before).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f1a2b3c4d5e6"
down_revision = "e6c9f4a03b28"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "email_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("email_status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_claimed_by", sa.String(length=64), nullable=True),
        sa.Column("task_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_batches")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_batch_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_notifications_email_batch_id"), ["email_batch_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_email_batch_id_email_batches"),
            "email_batches",
            ["email_batch_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_notifications_email_batch_id_email_batches"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_notifications_email_batch_id"))
        batch_op.drop_column("email_batch_id")
    op.drop_table("email_batches")
