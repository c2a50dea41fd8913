"""fee_settings: the fee reduction (费减) each institution claims on annual fees

Revision ID: b7d2e9f4a613
Revises: 997321b13141
Create Date: 2026-12-05 14:10:00

One row per institution whose school admin has set it (0, 70 or 85 %); institutions without a
row use REVIVE_FEE_REDUCTION_DEFAULT (revive/inventory/fees.py).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d2e9f4a613"
down_revision = "997321b13141"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "fee_settings",
        sa.Column("institution_id", sa.Integer(), nullable=False),
        sa.Column("reduction_pct", sa.SmallInteger(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "reduction_pct IN (0, 70, 85)", name=op.f("ck_fee_settings_reduction_pct_choice")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["organizations.id"],
            name=op.f("fk_fee_settings_institution_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_fee_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_fee_settings")),
    )


def downgrade():
    op.drop_table("fee_settings")
