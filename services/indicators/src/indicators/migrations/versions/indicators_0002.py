"""The audit trail of API writes (the shared audit_log table).

Revision ID: indicators_0002
Revises: indicators_0001
"""

from common.audit import create_audit_table, drop_audit_table

revision = "indicators_0002"
down_revision = "indicators_0001"


def upgrade() -> None:
    """Create the audit table."""
    create_audit_table()


def downgrade() -> None:
    """Drop the audit table."""
    drop_audit_table()
