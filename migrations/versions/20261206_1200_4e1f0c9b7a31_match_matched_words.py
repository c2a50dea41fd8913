"""decisions teach the strength model's word rates: matches.matched (issue 13)

Revision ID: 4e1f0c9b7a31
Revises: b7c41e9d2a58
Create Date: 2026-12-06 12:00:00

The strength model's second stage reads how often the specific words a demand and a patent
share led to a relevant patent (revive.engine.strength.WordRates). Each proposal now stores
those words (Candidate.matched) beside its features, so an officer's accept or reject is
counted when the model is refitted from decisions (revive.matching.learning). Existing rows
keep NULL and count for nothing there; the next run of a demand fills its candidates.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4e1f0c9b7a31"
down_revision = "b7c41e9d2a58"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("matched", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("matched")
