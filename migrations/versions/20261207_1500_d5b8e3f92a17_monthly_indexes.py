"""indexes for 按月进展: status moves by kind and time, deals by push and answer time

Revision ID: d5b8e3f92a17
Revises: c4a9e2d71f05
Create Date: 2026-12-07 15:00:00

The monthly progress page (revive/dashboard/activity.py) counts, for the last 12 months, the
patents entered and marked 建议放弃 (patent_status_changes by to_status and created_at) and the
deals pushed and answered (deals by pushed_at, responded_at) across the whole platform: without
these a national status log is read whole on every view.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d5b8e3f92a17"
down_revision = "c4a9e2d71f05"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_patent_status_changes_to_created",
        "patent_status_changes",
        ["to_status", "created_at"],
    )
    op.create_index("ix_deals_pushed_at", "deals", ["pushed_at"])
    op.create_index("ix_deals_responded_at", "deals", ["responded_at"])


def downgrade():
    op.drop_index("ix_deals_responded_at", table_name="deals")
    op.drop_index("ix_deals_pushed_at", table_name="deals")
    op.drop_index("ix_patent_status_changes_to_created", table_name="patent_status_changes")
