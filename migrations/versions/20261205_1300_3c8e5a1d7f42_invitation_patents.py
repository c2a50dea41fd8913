"""invitation_patents: the patents an inviter ticks for an inventor invitation

Revision ID: 3c8e5a1d7f42
Revises: 5b6af9eb47c8
Create Date: 2026-12-05 13:00:00

Inventor accounts are no longer linked to patents by name (security issue #12): an inviter
ticks the patents to link, they are stored here and linked when the invitation is accepted.
Existing patent_inventors rows stay as they are.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "3c8e5a1d7f42"
down_revision = "5b6af9eb47c8"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "invitation_patents",
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("chosen_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_by_id"],
            ["users.id"],
            name=op.f("fk_invitation_patents_chosen_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_invitation_patents_invitation_id_invitations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_invitation_patents_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("invitation_id", "patent_id", name=op.f("pk_invitation_patents")),
    )
    with op.batch_alter_table("invitation_patents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_patents_patent_id"), ["patent_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("invitation_patents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_patents_patent_id"))
    op.drop_table("invitation_patents")
