"""Inserting a due immediate delivery wakes the sender (NOTIFY deliveries_due).

Revision ID: notifications_0002
Revises: notifications_0001
"""

from alembic import op

revision = "notifications_0002"
down_revision = "notifications_0001"


def upgrade() -> None:
    """Create the NOTIFY trigger."""
    op.execute("""
        CREATE FUNCTION notify_deliveries_due() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('deliveries_due', ''); RETURN NULL; END $$;
    """)
    # Per row but with one payload: PostgreSQL sends a transaction's identical notifications
    # once, so a notification to many recipients wakes the sender once, at commit.
    op.execute("""
        CREATE TRIGGER deliveries_notify_due AFTER INSERT ON deliveries
        FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.channel = 'immediate')
        EXECUTE FUNCTION notify_deliveries_due();
    """)


def downgrade() -> None:
    """Drop the NOTIFY trigger."""
    op.execute("DROP TRIGGER IF EXISTS deliveries_notify_due ON deliveries")
    op.execute("DROP FUNCTION IF EXISTS notify_deliveries_due()")
