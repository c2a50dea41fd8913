"""the enterprise's side: intents, officers' picks, push notes, alert flag, settings (issue 14)

Revision ID: 34c652fe74e5
Revises: b7d2e9f4a613
Create Date: 2026-12-05 14:20:00

matches: who brought the pair (source: machine | intent | officer, CHECK ck_matches_match_source;
existing rows are machine proposals), the officer's note for the enterprise and who added the
pair by hand, and an enterprise's intent (message, time, who; CHECK: a time has a message).

deals: the recommendation note sent with the push. Existing deals get the comment their match
was accepted with: that note was written for the enterprise but stayed in matches.comment.

demands: alert_subscribed (订阅新专利提醒), on by default and for existing demands.

patents: price_public (the asking price shows in the public pool; NULL/false: 面议).

platform_settings: settings a platform admin changes at run time (public_pool).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "34c652fe74e5"
down_revision = "b7d2e9f4a613"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "platform_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_platform_settings_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_platform_settings_key")),
    )
    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))

    with op.batch_alter_table("demands", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("alert_subscribed", sa.Boolean(), server_default=sa.true(), nullable=False)
        )

    with op.batch_alter_table("matches", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "source",
                sa.Enum(
                    "machine",
                    "intent",
                    "officer",
                    name="match_source",
                    native_enum=False,
                    create_constraint=True,
                    length=24,
                ),
                server_default="machine",
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("added_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("intent_message", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("intent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("intent_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_matches_added_by_id_users"), "users", ["added_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_matches_intent_by_id_users"), "users", ["intent_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            "intent_has_message", "(intent_at IS NULL) = (intent_message IS NULL)"
        )

    # Plain ALTERs, not a batch: SQLite's batch copy of patents would lose its expression
    # indexes (ix_patents_grade_asc …), which it cannot reflect.
    op.add_column("patents", sa.Column("price_public", sa.Boolean(), nullable=True))

    # The push notes that never reached the enterprise (see the module docstring).
    op.execute(
        "UPDATE deals SET note = (SELECT matches.comment FROM matches "
        "WHERE matches.id = deals.match_id AND matches.state = 'accepted') "
        "WHERE note IS NULL"
    )


def downgrade():
    op.drop_column("patents", "price_public")  # SQLite ≥ 3.35 drops a column in place

    with op.batch_alter_table("matches", schema=None) as batch_op:
        # CHECKs first: SQLite's batch copy would keep them on a table without the columns.
        batch_op.drop_constraint(op.f("ck_matches_intent_has_message"), type_="check")
        batch_op.drop_constraint(op.f("ck_matches_match_source"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_matches_intent_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_matches_added_by_id_users"), type_="foreignkey")
        batch_op.drop_column("intent_by_id")
        batch_op.drop_column("intent_at")
        batch_op.drop_column("intent_message")
        batch_op.drop_column("added_by_id")
        batch_op.drop_column("note")
        batch_op.drop_column("source")

    with op.batch_alter_table("demands", schema=None) as batch_op:
        batch_op.drop_column("alert_subscribed")

    with op.batch_alter_table("deals", schema=None) as batch_op:
        batch_op.drop_column("note")

    op.drop_table("platform_settings")
