"""Users and API keys of the identity provider.

Revision ID: projects_0003
Revises: projects_0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "projects_0003"
down_revision = "projects_0002"


def _scope() -> list[sa.Column]:
    return [
        sa.Column("role", sa.String, nullable=False),
        sa.Column("region", sa.String, sa.ForeignKey("regions.slug"), nullable=True),
        sa.Column(
            "department_id", sa.Uuid, sa.ForeignKey("responsible_departments.id"), nullable=True
        ),
        sa.Column("sector_numbers", JSONB, nullable=False),
    ]


def upgrade() -> None:
    """Create users and api_keys."""
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("email", sa.String, nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("password_hash", sa.String, nullable=False),
        *_scope(),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("prefix", sa.String, nullable=False),
        sa.Column("secret_hash", sa.String, nullable=False, unique=True),
        *_scope(),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Drop api_keys and users."""
    op.drop_table("api_keys")
    op.drop_table("users")
