"""notification_reads: an organization's notification is read per member

Revision ID: 5c2e8a1f9d47
Revises: 817d5e8c7526
Create Date: 2026-12-07 02:00:00

A new user found that an inventor's 全部标为已读 cleared the university admin's 请在 7 天内答复
requests: the read state of an organization's notification was one column on the row. A
member's read is now a row here (notification, user, when). ``notifications.read_at`` keeps
its meaning for a notification addressed to one user, and for an organization's notification
it now means read for everyone (settled by the platform, or read before this revision).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c2e8a1f9d47"
down_revision = "817d5e8c7526"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notification_reads",
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_reads_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", "user_id", name=op.f("pk_notification_reads")),
    )
    with op.batch_alter_table("notification_reads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_reads_user_id"), ["user_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notification_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_reads_user_id"))
    op.drop_table("notification_reads")
