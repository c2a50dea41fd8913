"""audit log without a back door: the append-only triggers refuse every UPDATE and DELETE

Revision ID: d7886a182c74
Revises: 5d2f8a6c1e37
Create Date: 2026-12-05 16:00:00

Until now an UPDATE of audit_events passed where the demo seed re-dated its own rows
(PostgreSQL: the transaction-local setting revive.audit_rewrite = 'on'; SQLite: the
connection function revive_audit_rewrite() returning 1). The seed now writes every event
with the clock held at the story's moment (revive.clock.held_at), so nothing needs the
exception: the triggers are recreated without it and refuse UPDATE, DELETE and (PostgreSQL)
TRUNCATE unconditionally, whoever connects. No schema change for the models.

The downgrade restores the conditional triggers (on SQLite they then call a function the app
no longer registers, so an UPDATE still fails).
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d7886a182c74"
down_revision = "5d2f8a6c1e37"
branch_labels = None
depends_on = None

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

# The function of revision 475168f4a049 (audit_events_append_only), for the downgrade.
PG_FUNCTION_WITH_REWRITE = """
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
    "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)


def _sqlite_triggers(update_condition: str) -> tuple[str, ...]:
    return (
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
        f"CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events {update_condition}"
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END",
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END",
    )


def _install(pg_function: str, sqlite_update_condition: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(pg_function)
        for ddl in PG_TRIGGERS:
            op.execute(ddl)
    elif dialect == "sqlite":
        for ddl in _sqlite_triggers(sqlite_update_condition):
            op.execute(ddl)


def upgrade():
    _install(PG_FUNCTION, "")


def downgrade():
    _install(PG_FUNCTION_WITH_REWRITE, "WHEN revive_audit_rewrite() IS NOT 1 ")
