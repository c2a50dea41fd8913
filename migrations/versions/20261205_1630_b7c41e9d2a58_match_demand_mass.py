"""match strength reads the demand's specific weight: matches.demand_mass (issue 13)

Revision ID: b7c41e9d2a58
Revises: d7886a182c74
Create Date: 2026-12-05 16:30:00

A fourth strength feature (revive.engine.strength.demand_mass: ln(1 + Σ IDF × specificity over
the demand's words), the same for every candidate of a demand) is stored with the other
features at proposal time, so officers' decisions can refit a model that reads it. Existing
rows keep NULL (proposed before the feature existed); learning gives them the judged pairs'
mean (revive.matching.learning). The next run of a demand fills its candidates.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7c41e9d2a58"
down_revision = "d7886a182c74"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.add_column(sa.Column("demand_mass", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matches") as batch:
        batch.drop_column("demand_mass")
