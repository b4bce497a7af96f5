"""The audit trail of API writes (the shared audit_log table).

Revision ID: notifications_0003
Revises: notifications_0002
"""

from common.audit import create_audit_table, drop_audit_table

revision = "notifications_0003"
down_revision = "notifications_0002"


def upgrade() -> None:
    """Create the audit table."""
    create_audit_table()


def downgrade() -> None:
    """Drop the audit table."""
    drop_audit_table()
