"""standing alerts: alerted pairs, alert preferences, queues last seen, digests (issue 14)

Revision ID: ee3aa2fb2465
Revises: c4e1a7d2b905
Create Date: 2026-12-05 15:05:00

match_alerts: each (demand, patent) pair a standing alert was raised for (unique: never twice),
with the run, the tier and whether the enterprise's inbox was told.

alert_preferences: a user's choice per alert kind (matches | queue); no row = subscribed.

queue_seen: when a user last opened a queue (the menu's "new since you last looked").

alert_digests: one alert e-mail per user and local day (text, kinds, outcome).

Indexes for the cheap "since" counts: demands.created_at, matches.intent_at.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "ee3aa2fb2465"
down_revision = "c4e1a7d2b905"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade():
    op.create_table(
        "alert_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("since_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("email_status", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_alert_digests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_digests")),
        sa.UniqueConstraint("user_id", "day", name="uq_alert_digests_user_day"),
    )
    op.create_table(
        "alert_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("alert_kind", "matches", "queue"), nullable=False),
        sa.Column("is_subscribed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_alert_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_alert_preferences")),
    )
    op.create_table(
        "queue_seen",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_queue_seen_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "queue", name=op.f("pk_queue_seen")),
    )
    op.create_table(
        "match_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("demand_id", sa.Integer(), nullable=False),
        sa.Column("patent_id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("tier", _enum("match_alert_tier", "strong", "medium", "weak"), nullable=False),
        sa.Column("strength", sa.Float(), nullable=True),
        sa.Column("enterprise_told", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["demand_id"],
            ["demands.id"],
            name=op.f("fk_match_alerts_demand_id_demands"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["match_id"],
            ["matches.id"],
            name=op.f("fk_match_alerts_match_id_matches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patent_id"],
            ["patents.id"],
            name=op.f("fk_match_alerts_patent_id_patents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["match_runs.id"],
            name=op.f("fk_match_alerts_run_id_match_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_alerts")),
        sa.UniqueConstraint("demand_id", "patent_id", name="uq_match_alerts_demand_patent"),
    )
    op.create_index("ix_match_alerts_created_at", "match_alerts", ["created_at"])
    op.create_index(op.f("ix_match_alerts_match_id"), "match_alerts", ["match_id"])
    op.create_index(op.f("ix_match_alerts_patent_id"), "match_alerts", ["patent_id"])
    # Plain CREATE INDEX, not a batch: a batch would copy the tables on SQLite.
    op.create_index("ix_demands_created_at", "demands", ["created_at"])
    op.create_index("ix_matches_intent_at", "matches", ["intent_at"])


def downgrade():
    op.drop_index("ix_matches_intent_at", table_name="matches")
    op.drop_index("ix_demands_created_at", table_name="demands")
    op.drop_index(op.f("ix_match_alerts_patent_id"), table_name="match_alerts")
    op.drop_index(op.f("ix_match_alerts_match_id"), table_name="match_alerts")
    op.drop_index("ix_match_alerts_created_at", table_name="match_alerts")
    op.drop_table("match_alerts")
    op.drop_table("queue_seen")
    op.drop_table("alert_preferences")
    op.drop_table("alert_digests")
