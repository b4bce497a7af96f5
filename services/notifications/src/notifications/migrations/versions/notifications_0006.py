"""Figures without a digit limit: what the indicators service measured and computed is kept as
it came.

NUMERIC(20, 6) held 14 digits before the point; the indicators service accepts values of 18,
and a gap in % of a tiny plan has more still. An event with such a figure failed its insert and
went to the dead-letter topic, its alert never raised.

Revision ID: notifications_0006
Revises: notifications_0005
"""

import sqlalchemy as sa
from alembic import op

revision = "notifications_0006"
down_revision = "notifications_0005"

FIGURE_COLUMNS = {
    "alerts": ("expected", "actual", "gap", "gap_percent", "projected"),
    "indicator_values": ("value",),
}


def upgrade() -> None:
    """Lift the columns' precision (PostgreSQL rewrites no row for it)."""
    for table, columns in FIGURE_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Numeric())


def downgrade() -> None:
    """Bring the precision back (fails while a stored figure exceeds it)."""
    for table, columns in FIGURE_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=sa.Numeric(20, 6))
