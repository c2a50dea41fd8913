"""contracts.license_scope, contracts.license_until: 普通 / 排他 / 独占许可 and the licence's term

Revision ID: b81e4f6a0c3d
Revises: a7d3c9e1b2f4
Create Date: 2026-12-07 05:00:00

A 许可 contract did not say how exclusive it was, so the platform let a university license a
patent to a second enterprise during an exclusive licence, and declare an open licence on it.
Licences recorded before this revision keep no scope (shown as 未注明).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b81e4f6a0c3d"
down_revision = "a7d3c9e1b2f4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "license_scope",
                sa.Enum(
                    "ordinary",
                    "sole",
                    "exclusive",
                    name="license_scope",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("license_until", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contracts_license_scope"), type_="check")
        batch_op.drop_column("license_until")
        batch_op.drop_column("license_scope")
