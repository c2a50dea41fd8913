"""users.email_confirmed_at, password_resets.purpose: a self-registered account proves its mailbox

Revision ID: a7d3c9e1b2f4
Revises: 5c2e8a1f9d47
Create Date: 2026-12-07 04:00:00

Anyone could register an enterprise under a real company's credit code with an address they
made up, and the code was then taken for the real company. With e-mail configured, a new
self-registered account now signs in only after opening a link e-mailed to it; a registration
left unconfirmed past the link's lifetime no longer holds the code, the name or the address.
The link is a row of password_resets with purpose "confirm". Existing accounts count as
confirmed when they were created.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a7d3c9e1b2f4"
down_revision = "5c2e8a1f9d47"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=10), server_default="reset", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("password_resets", schema=None) as batch_op:
        batch_op.drop_column("purpose")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_confirmed_at")
