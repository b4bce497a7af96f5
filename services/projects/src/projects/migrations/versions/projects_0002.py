"""Projects carry the benefits of section 5 beside their beneficiaries.

Revision ID: projects_0002
Revises: projects_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "projects_0002"
down_revision = "projects_0001"


def upgrade() -> None:
    """Add strategy_projects.benefits."""
    op.add_column("strategy_projects", sa.Column("benefits", sa.Text, nullable=True))


def downgrade() -> None:
    """Drop strategy_projects.benefits."""
    op.drop_column("strategy_projects", "benefits")
