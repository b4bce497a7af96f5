"""The audit trail of API writes (the shared audit_log table).

Revision ID: projects_0004
Revises: projects_0003
"""

from common.audit import create_audit_table, drop_audit_table

revision = "projects_0004"
down_revision = "projects_0003"


def upgrade() -> None:
    """Create the audit table."""
    create_audit_table()


def downgrade() -> None:
    """Drop the audit table."""
    drop_audit_table()
