"""Index the deliveries the hourly cap counts: an address's immediate, uncancelled emails.

Under an alert storm most of an address's last hour is excess deferred to the digest; counting
through the general lower(recipient) index stepped over every one of those rows (5 ms a
notification on a busy local stack, thousands of rows filtered).

Revision ID: notifications_0005
Revises: notifications_0004
"""

from alembic import op

revision = "notifications_0005"
down_revision = "notifications_0004"


def upgrade() -> None:
    """Add the partial index the cap's count uses."""
    op.execute(
        "CREATE INDEX ix_deliveries_capped ON deliveries (lower(recipient), created_at) "
        "WHERE channel = 'immediate' AND kind <> 'digest' AND status <> 'cancelled'"
    )


def downgrade() -> None:
    """Drop it; the cap counts through the general recipient index again."""
    op.drop_index("ix_deliveries_capped", table_name="deliveries")
