"""export_jobs: a large .xlsx export is built by a worker, with progress

Revision ID: 817d5e8c7526
Revises: 4e1f0c9b7a31
Create Date: 2026-12-06 18:12:15

An export of more than REVIVE_EXPORT_DIRECT_MAX_ROWS rows to .xlsx is no longer written inside
the request (openpyxl writes the whole workbook before the first byte can be sent): it becomes
a job (revive.exports). The row records who asked (created_by_id; the file is built with their
permissions, and only they may download it), with which role, organisation and college
(scope), what (kind, params and their digest params_key, file_format), the progress
(total_rows, processed_rows), the finished file (stored_path under REVIVE_DATA_DIR/exports,
NULL once failed or deleted after REVIVE_EXPORT_KEEP_HOURS; filename, ascii_filename,
file_size), the error in Chinese, and the delivery bookkeeping of revive.queue.Delivery: the
row is the outbox of its task, "exports.build".
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "817d5e8c7526"
down_revision = "4e1f0c9b7a31"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "succeeded",
                "failed",
                "expired",
                name="export_status",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("params_key", sa.String(length=64), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("ascii_filename", sa.String(length=255), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("stored_path", sa.String(length=500), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("celery_task_id", sa.String(length=64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("task_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_claimed_by", sa.String(length=64), nullable=True),
        sa.Column("task_heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_export_jobs_created_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_export_jobs_requester_status", ["created_by_id", "status"], unique=False
        )


def downgrade():
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_export_jobs_requester_status")
    op.drop_table("export_jobs")
