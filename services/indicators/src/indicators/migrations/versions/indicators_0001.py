"""Indicators, targets, measurements, period states, signals, idempotency, directory.

Revision ID: indicators_0001
Revises: messaging_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "indicators_0001"
down_revision = "messaging_0001"

VALUE = sa.Numeric(24, 6)


def _timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else sa.func.now(),
    )


def _indicator_key(primary_key: bool = True) -> sa.Column:
    return sa.Column(
        "indicator_id",
        sa.Uuid,
        sa.ForeignKey("indicators.id", ondelete="CASCADE"),
        primary_key=primary_key,
        nullable=False,
    )


def upgrade() -> None:
    """Create the indicators service's own tables."""
    op.create_table(
        "directory_projects",
        sa.Column("project_id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, nullable=False, index=True),
        sa.Column("region_name", sa.String, nullable=False),
        sa.Column("sector_number", sa.Integer, nullable=False),
        sa.Column("sector_name", sa.String, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("federal_recommended", sa.Boolean, nullable=False),
        sa.Column("responsible_department_id", sa.Uuid, nullable=True),
        sa.Column("stage", sa.String, nullable=False),
        _timestamp("updated_at"),
    )
    op.create_table(
        "directory_departments",
        sa.Column("department_id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, nullable=False),
        sa.Column("full_name", sa.String, nullable=False),
        sa.Column("short_name", sa.String, nullable=False),
        sa.Column("emails", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        _timestamp("updated_at"),
    )
    op.create_table(
        "indicators",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("project_id", sa.Uuid, nullable=False, index=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("unit", sa.String, nullable=False),
        sa.Column("direction", sa.String, nullable=False),
        sa.Column("frequency", sa.String, nullable=False),
        sa.Column("baseline_value", VALUE, nullable=True),
        sa.Column("baseline_year", sa.Integer, nullable=True),
        sa.Column("tolerance_percent", sa.Numeric(9, 4), nullable=False),
        sa.Column("region", sa.String, nullable=False, index=True),
        sa.Column("sector_number", sa.Integer, nullable=True),
        sa.Column("responsible_department_id", sa.Uuid, nullable=True, index=True),
        sa.Column("current_period", sa.String, nullable=True),
        sa.Column("current_status", sa.String, nullable=True, index=True),
        sa.Column("current_expected", VALUE, nullable=True),
        sa.Column("current_actual", VALUE, nullable=True),
        sa.Column("current_gap", VALUE, nullable=True),
        sa.Column("current_gap_percent", VALUE, nullable=True),
        _timestamp("archived_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.UniqueConstraint("project_id", "name", name="uq_indicators_project_name"),
    )
    op.create_table(
        "indicator_targets",
        _indicator_key(),
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("value", VALUE, nullable=False),
    )
    op.create_table(
        "measurements",
        sa.Column("id", sa.Uuid, primary_key=True),
        _indicator_key(primary_key=False),
        sa.Column("period", sa.String, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("value", VALUE, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("reported_by", sa.String, nullable=False),
        sa.Column("comment", sa.String, nullable=True),
        sa.Column("source", sa.String, nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expected", VALUE, nullable=True),
        sa.Column("status", sa.String, nullable=True),
        sa.Column("gap", VALUE, nullable=True),
        sa.Column("gap_percent", VALUE, nullable=True),
        sa.UniqueConstraint("indicator_id", "period", "revision", name="uq_measurements_revision"),
    )
    op.create_index(
        "ix_measurements_timeline",
        "measurements",
        ["indicator_id", "period_end", "period", "revision"],
    )
    op.create_table(
        "period_states",
        _indicator_key(),
        sa.Column("period", sa.String, primary_key=True),
        sa.Column("measurement_id", sa.Uuid, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("actual", VALUE, nullable=False),
        sa.Column("expected", VALUE, nullable=True),
        sa.Column("status", sa.String, nullable=True),
        sa.Column("gap", VALUE, nullable=True),
        sa.Column("gap_percent", VALUE, nullable=True),
        sa.Column("status_changes", sa.Integer, nullable=False),
    )
    op.create_table(
        "emitted_signals",
        _indicator_key(),
        sa.Column("period", sa.String, primary_key=True),
        sa.Column("kind", sa.String, primary_key=True),
        sa.Column("occurrence", sa.Integer, primary_key=True, autoincrement=False),
        _timestamp("emitted_at"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("request_hash", sa.String, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response", JSONB, nullable=False),
        _timestamp("created_at"),
    )


def downgrade() -> None:
    """Drop the indicators service's own tables."""
    for table in (
        "idempotency_keys",
        "emitted_signals",
        "period_states",
        "measurements",
        "indicator_targets",
        "indicators",
        "directory_departments",
        "directory_projects",
    ):
        op.drop_table(table)
