"""licence applications: enterprises apply to implement declared open licences (issue 14)

Revision ID: 967047034f43
Revises: ee3aa2fb2465
Create Date: 2026-12-05 15:10:00

licence_applications (开放许可实施申请): the declaration, patent and enterprise, the applicant's
details and intended use, the accepted declared terms as a JSON snapshot, the status (submitted
→ confirmed / signed by the holder with their dates, or withdrawn by the applicant) and a row
version. CHECKs: the terms were accepted, a confirmed / signed / withdrawn application has its
date or time. A partial unique index keeps one held (submitted, confirmed or signed)
application per enterprise and declaration.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "967047034f43"
down_revision = "ee3aa2fb2465"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "licence_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "confirmed",
                "signed",
                "withdrawn",
                name="licence_application_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("applicant_name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=True),
        sa.Column("contact_name", sa.String(length=100), nullable=False),
        sa.Column("contact_phone", sa.String(length=40), nullable=False),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("intended_use", sa.Text(), nullable=False),
        sa.Column("terms_accepted", sa.Boolean(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("confirmed_on", sa.Date(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("holder_note", sa.Text(), nullable=True),
        sa.Column("withdraw_reason", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status <> 'confirmed' OR confirmed_on IS NOT NULL",
            name=op.f("ck_licence_applications_confirmed_has_date"),
        ),
        sa.CheckConstraint(
            "status <> 'signed' OR signed_on IS NOT NULL",
            name=op.f("ck_licence_applications_signed_has_date"),
        ),
        sa.CheckConstraint(
            "status <> 'withdrawn' OR withdrawn_at IS NOT NULL",
            name=op.f("ck_licence_applications_withdrawn_has_time"),
        ),
        sa.CheckConstraint("terms_accepted", name=op.f("ck_licence_applications_terms_accepted")),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["users.id"], name=op.f("fk_licence_applications_applicant_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_licence_applications_decided_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["declaration_id"],
            ["open_licence_declarations.id"],
            name=op.f("fk_licence_applications_declaration_id_open_licence_declarations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["organizations.id"],
            name=op.f("fk_licence_applications_enterprise_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_licence_applications_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_applications")),
    )
    with op.batch_alter_table("licence_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_licence_applications_declaration_id"), ["declaration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_licence_applications_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_licence_applications_patent_id"), ["patent_id"], unique=False
        )
        batch_op.create_index(
            "ix_licence_applications_status_patent", ["status", "patent_id"], unique=False
        )
        batch_op.create_index(
            "uq_licence_applications_declaration_enterprise_held",
            ["declaration_id", "enterprise_id"],
            unique=True,
            postgresql_where=sa.text("status IN ('submitted', 'confirmed', 'signed')"),
            sqlite_where=sa.text("status IN ('submitted', 'confirmed', 'signed')"),
        )


def downgrade():
    with op.batch_alter_table("licence_applications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_licence_applications_declaration_enterprise_held",
            postgresql_where=sa.text("status IN ('submitted', 'confirmed', 'signed')"),
            sqlite_where=sa.text("status IN ('submitted', 'confirmed', 'signed')"),
        )
        batch_op.drop_index("ix_licence_applications_status_patent")
        batch_op.drop_index(batch_op.f("ix_licence_applications_patent_id"))
        batch_op.drop_index(batch_op.f("ix_licence_applications_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_licence_applications_declaration_id"))

    op.drop_table("licence_applications")
