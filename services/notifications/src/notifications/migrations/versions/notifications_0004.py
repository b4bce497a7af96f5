"""Index deliveries by lower(recipient), the form every recipient lookup compares.

The plain `recipient` index could serve none of them: the hourly cap counted a recipient's
last hour by a sequential scan of every delivery ever made.

Revision ID: notifications_0004
Revises: notifications_0003
"""

from alembic import op

revision = "notifications_0004"
down_revision = "notifications_0003"


def upgrade() -> None:
    """Replace the recipient index with one on lower(recipient)."""
    op.drop_index("ix_deliveries_recipient_created", table_name="deliveries")
    op.execute(
        "CREATE INDEX ix_deliveries_recipient_created ON deliveries (lower(recipient), created_at)"
    )


def downgrade() -> None:
    """Back to the plain recipient index."""
    op.drop_index("ix_deliveries_recipient_created", table_name="deliveries")
    op.create_index("ix_deliveries_recipient_created", "deliveries", ["recipient", "created_at"])
