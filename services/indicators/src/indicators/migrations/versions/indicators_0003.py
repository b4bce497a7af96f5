"""Gaps without a digit limit: a gap of two storable values, or in % of a tiny expectation,
outgrows NUMERIC(24, 6).

Revision ID: indicators_0003
Revises: indicators_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "indicators_0003"
down_revision = "indicators_0002"

GAP_COLUMNS = {
    "indicators": ("current_gap", "current_gap_percent"),
    "measurements": ("gap", "gap_percent"),
    "period_states": ("gap", "gap_percent"),
}


def upgrade() -> None:
    """Lift the columns' precision (PostgreSQL rewrites no row for it)."""
    for table, columns in GAP_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Numeric(), existing_nullable=True)


def downgrade() -> None:
    """Bring the precision back (fails while a stored gap exceeds it)."""
    for table, columns in GAP_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Numeric(24, 6), existing_nullable=True)
