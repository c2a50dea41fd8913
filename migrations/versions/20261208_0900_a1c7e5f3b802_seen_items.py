"""seen_items: what a user has looked at on its own page (the menu's 新 badges)

Revision ID: a1c7e5f3b802
Revises: a3c5e7f9b1d2
Create Date: 2026-12-08 09:00:00

User trials found the menu's 新 badges never cleared: an officer opened each new demand and
each 申请对接 from the inbox's links (the demand's matches, the match page), an enterprise
opened its demand's page from the 新入库专利 notice, and the badge still counted them, since
only opening the list or the queue (queue_seen) stamped anything. A row here says one user saw
one item (kind: demand | intent | suggestions, the item's id: a demand or a match) at seen_at;
the counts leave out what was seen after it arrived. The item is not a foreign key (two kinds
of item share the column); a row of a deleted item is never read again.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a1c7e5f3b802"
down_revision = "a3c5e7f9b1d2"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "seen_items",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_seen_items_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", "item_id", name=op.f("pk_seen_items")),
    )


def downgrade():
    op.drop_table("seen_items")
