"""demands.public_text_rules: the contact rules each stored public_text was written with

Revision ID: a3c5e7f9b1d2
Revises: f7d2a8c41b96
Create Date: 2026-12-07 21:00:00

public_text (what a reader without contact rights searches) was written with the contact
rules of its day. Each row now records the rules' version (revive.demands.contacts.
RULES_VERSION); rows of an older one are rewritten by the recovery sweep (revive.demands.upkeep).
Rows stored before this revision get version 0, so the first sweeps rewrite them all with the
rules of the running release (5,000 a beat; `revive requeue-jobs` does all at once).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a3c5e7f9b1d2"
down_revision = "f7d2a8c41b96"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("demands") as batch:
        batch.add_column(
            sa.Column("public_text_rules", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("demands") as batch:
        batch.drop_column("public_text_rules")
