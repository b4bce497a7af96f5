"""Outbox and inbox tables, shared by every service's database.

Every service's first own revision has `down_revision = "messaging_0001"`.

Revision ID: messaging_0001
Revises:
"""

from common.migrations import create_messaging_tables, drop_messaging_tables

revision = "messaging_0001"
down_revision = None


def upgrade() -> None:
    """Create the outbox and the inbox."""
    create_messaging_tables()


def downgrade() -> None:
    """Drop the outbox and the inbox."""
    drop_messaging_tables()
