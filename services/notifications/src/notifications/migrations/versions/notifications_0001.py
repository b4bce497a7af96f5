"""Read models, alerts, subscriptions and deliveries of the notifications service.

Revision ID: notifications_0001
Revises: messaging_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "notifications_0001"
down_revision = "messaging_0001"

TZ = sa.DateTime(timezone=True)
VALUE = sa.Numeric(20, 6)


def upgrade() -> None:
    """Create the tables."""
    op.create_table(
        "departments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, nullable=False),
        sa.Column("full_name", sa.String, nullable=False),
        sa.Column("short_name", sa.String, nullable=False),
        sa.Column("emails", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_departments_region", "departments", ["region"])
    op.create_table(
        "coordinators",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("sector_numbers", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_coordinators_region", "coordinators", ["region"])
    op.create_table(
        "projects",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, nullable=False),
        sa.Column("region_name", sa.String, nullable=False),
        sa.Column("sector_number", sa.Integer, nullable=False),
        sa.Column("sector_name", sa.String, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("responsible_department_id", sa.Uuid, nullable=True),
        sa.Column("stage", sa.String, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_projects_region", "projects", ["region"])
    op.create_table(
        "indicators",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("project_id", sa.Uuid, nullable=False),
        sa.Column("region", sa.String, nullable=False),
        sa.Column("sector_number", sa.Integer, nullable=True),
        sa.Column("responsible_department_id", sa.Uuid, nullable=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("unit", sa.String, nullable=False),
        sa.Column("direction", sa.String, nullable=False),
        sa.Column("targets", JSONB, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_indicators_project_id", "indicators", ["project_id"])
    op.create_table(
        "indicator_values",
        sa.Column("indicator_id", sa.Uuid, primary_key=True),
        sa.Column("period", sa.String, primary_key=True),
        sa.Column("value", VALUE, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("recorded_at", TZ, nullable=False),
    )

    op.create_table(
        "alerts",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("subject_type", sa.String, nullable=False),
        sa.Column("subject_id", sa.Uuid, nullable=False),
        sa.Column("period", sa.String, nullable=False),
        sa.Column("family", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("state", sa.String, nullable=False),
        sa.Column("region", sa.String, nullable=False),
        sa.Column("region_name", sa.String, nullable=False),
        sa.Column("sector_number", sa.Integer, nullable=True),
        sa.Column("sector_name", sa.String, nullable=True),
        sa.Column("project_id", sa.Uuid, nullable=True),
        sa.Column("project_name", sa.String, nullable=True),
        sa.Column("department_id", sa.Uuid, nullable=True),
        sa.Column("department_name", sa.String, nullable=True),
        sa.Column("title", sa.String, nullable=False),
        sa.Column("unit", sa.String, nullable=True),
        sa.Column("expected", VALUE, nullable=True),
        sa.Column("actual", VALUE, nullable=True),
        sa.Column("gap", VALUE, nullable=True),
        sa.Column("gap_percent", VALUE, nullable=True),
        sa.Column("projected", VALUE, nullable=True),
        sa.Column("deadline", sa.Date, nullable=True),
        sa.Column("opened_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("acknowledged_at", TZ, nullable=True),
        sa.Column("acknowledged_by", sa.String, nullable=True),
        sa.Column("ack_comment", sa.String, nullable=True),
        sa.Column("resolved_at", TZ, nullable=True),
        sa.Column("resolved_by", sa.String, nullable=True),
        sa.Column("next_reminder_at", TZ, nullable=True),
        sa.Column("reminder_count", sa.Integer, nullable=False),
        sa.Column("reopen_count", sa.Integer, nullable=False),
        sa.Column("event_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_region_state", "alerts", ["region", "state"])
    op.create_index(
        "uq_alerts_active_key",
        "alerts",
        ["subject_id", "period", "family"],
        unique=True,
        postgresql_where=sa.text("state <> 'resolved'"),
    )
    op.create_index(
        "ix_alerts_reminder_due",
        "alerts",
        ["next_reminder_at"],
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "alert_id", sa.Uuid, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String, nullable=False),
        sa.Column("effect", sa.String, nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("data", JSONB, nullable=False),
        sa.UniqueConstraint("alert_id", "event_id"),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "coordinator_id",
            sa.Uuid,
            sa.ForeignKey("coordinators.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("mode", sa.String, nullable=False),
        sa.Column("kinds", JSONB, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("coordinator_id", "mode"),
    )
    op.create_index("ix_subscriptions_coordinator_id", "subscriptions", ["coordinator_id"])

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "alert_id", sa.Uuid, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=True
        ),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("channel", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("recipient", sa.String, nullable=False),
        sa.Column("recipient_type", sa.String, nullable=False),
        sa.Column("department_id", sa.Uuid, nullable=True),
        sa.Column("coordinator_id", sa.Uuid, nullable=True),
        sa.Column("region", sa.String, nullable=False),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("message_id", sa.String, nullable=False, unique=True),
        sa.Column("thread_message_id", sa.String, nullable=True),
        sa.Column("digest_date", sa.Date, nullable=True),
        sa.Column("digest_id", sa.Uuid, nullable=True),
        sa.Column("dedup_key", sa.String, nullable=True, unique=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_smtp_code", sa.Integer, nullable=True),
        sa.Column("last_smtp_reply", sa.String, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("due_at", TZ, nullable=False),
        sa.Column("last_attempt_at", TZ, nullable=True),
        sa.Column("sent_at", TZ, nullable=True),
    )
    op.create_index("ix_deliveries_alert_id", "deliveries", ["alert_id"])
    op.create_index("ix_deliveries_status", "deliveries", ["status"])
    op.create_index("ix_deliveries_recipient_created", "deliveries", ["recipient", "created_at"])
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["due_at"],
        postgresql_where=sa.text("status = 'pending' AND channel = 'immediate'"),
    )
    op.create_index(
        "ix_deliveries_digest_items",
        "deliveries",
        ["recipient"],
        postgresql_where=sa.text("status = 'pending' AND channel = 'digest'"),
    )


def downgrade() -> None:
    """Drop the tables."""
    for table in (
        "deliveries",
        "subscriptions",
        "alert_events",
        "alerts",
        "indicator_values",
        "indicators",
        "projects",
        "coordinators",
        "departments",
    ):
        op.drop_table(table)
