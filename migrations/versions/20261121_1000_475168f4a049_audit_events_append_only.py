"""audit events append-only: triggers refuse UPDATE, DELETE (and TRUNCATE) of audit_events

Revision ID: 475168f4a049
Revises: 5c1f0a7d2b93
Create Date: 2026-11-21 10:00:00

The app never edits an audit event (revive.audit.guard also refuses it in the ORM); these
triggers make the database refuse it to every client. An UPDATE passes only where the demo
seed re-dates its own rows: PostgreSQL with the transaction-local setting revive.audit_rewrite
= 'on', SQLite when the connection's revive_audit_rewrite() function (registered by the app)
returns 1. DELETE and TRUNCATE are always refused. No schema change for the models.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "475168f4a049"
down_revision = "5c1f0a7d2b93"
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND coalesce(current_setting('revive.audit_rewrite', true), '') = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

PG_TRIGGERS = (
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)

SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "WHEN revive_audit_rewrite() IS NOT 1 "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_FUNCTION)
        for ddl in PG_TRIGGERS:
            op.execute(ddl)
    elif dialect == "sqlite":
        for ddl in SQLITE_TRIGGERS:
            op.execute(ddl)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
