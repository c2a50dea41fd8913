"""deals.lapsed_at: the first answer deadline that passed unanswered, kept across extensions

Revision ID: e6c9f4a03b28
Revises: d5b8e3f92a17
Create Date: 2026-12-07 16:00:00

延长答复期限 moves response_due_at. An answer given after the first deadline lapsed must still
count as late in 按期答复率 (revive/dashboard/activity.py): the extension records the lapsed
deadline here. Existing deals have none (no extension granted after a lapse before this).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e6c9f4a03b28"
down_revision = "d5b8e3f92a17"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("deals") as batch:
        batch.add_column(sa.Column("lapsed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("lapsed_at")
