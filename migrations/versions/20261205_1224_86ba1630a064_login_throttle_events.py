"""login throttle events: throttle_events replaces login_attempts; users.failed_logins and
users.locked_until dropped (the account lock is gone: device cookies, see accounts/services.py)

Revision ID: 86ba1630a064
Revises: a076abd928c1
Create Date: 2026-12-05 12:24:06

login_attempts only held the last 15 minutes of failures; they are not carried over (the
counters start empty after the upgrade).

The two users columns are dropped with a plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not
in batch mode: a batch rebuild of ``users`` would drop and re-create the table every other
table references, with foreign keys enforced (PRAGMA foreign_keys=ON, revive/app.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "86ba1630a064"
down_revision = "a076abd928c1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "throttle_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_events")),
    )
    with op.batch_alter_table("throttle_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_throttle_events_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            "ix_throttle_events_scope_key_created_at",
            ["scope", "key", "created_at"],
            unique=False,
        )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_attempts_created_at"))
        batch_op.drop_index("ix_login_attempts_ip_address_created_at")
    op.drop_table("login_attempts")
    op.drop_column("users", "failed_logins")
    op.drop_column("users", "locked_until")


def downgrade():
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip_address", sa.String(length=45), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_login_attempts_ip_address_created_at", ["ip_address", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_login_attempts_created_at"), ["created_at"], unique=False
        )
    with op.batch_alter_table("throttle_events", schema=None) as batch_op:
        batch_op.drop_index("ix_throttle_events_scope_key_created_at")
        batch_op.drop_index(batch_op.f("ix_throttle_events_created_at"))
    op.drop_table("throttle_events")
