"""A coordinator user may name the coordinator record it is.

Revision ID: projects_0005
Revises: projects_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "projects_0005"
down_revision = "projects_0004"


def upgrade() -> None:
    """Add users.coordinator_id."""
    op.add_column(
        "users",
        sa.Column(
            "coordinator_id", sa.Uuid, sa.ForeignKey("region_coordinators.id"), nullable=True
        ),
    )


def downgrade() -> None:
    """Drop users.coordinator_id."""
    op.drop_column("users", "coordinator_id")
