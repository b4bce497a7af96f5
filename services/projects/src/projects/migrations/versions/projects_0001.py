"""Regions, sectors, departments, coordinators, projects, stage history and milestones.

Revision ID: projects_0001
Revises: messaging_0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "projects_0001"
down_revision = "messaging_0001"


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    """Create the projects service's own tables."""
    op.create_table(
        "regions",
        sa.Column("slug", sa.String, primary_key=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("period_start", sa.Integer, nullable=False),
        sa.Column("period_end", sa.Integer, nullable=False),
        *_timestamps(),
        sa.CheckConstraint("period_start <= period_end", name="ck_regions_period_order"),
    )
    op.create_table(
        "sectors",
        sa.Column("region", sa.String, sa.ForeignKey("regions.slug"), primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String, nullable=False),
        *_timestamps(),
    )
    op.create_table(
        "responsible_departments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, sa.ForeignKey("regions.slug"), nullable=False),
        sa.Column("full_name", sa.String, nullable=False),
        sa.Column("short_name", sa.String, nullable=False),
        sa.Column("emails", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("region", "full_name", name="uq_responsible_departments_region_name"),
    )
    op.create_table(
        "region_coordinators",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, sa.ForeignKey("regions.slug"), nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("email", sa.String, nullable=False),
        sa.Column("sector_numbers", JSONB, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        *_timestamps(),
        sa.UniqueConstraint("region", "email", name="uq_region_coordinators_region_email"),
    )
    op.create_table(
        "strategy_projects",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("region", sa.String, sa.ForeignKey("regions.slug"), nullable=False),
        sa.Column("sector_number", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("federal_recommended", sa.Boolean, nullable=False),
        sa.Column("goal", sa.Text, nullable=True),
        sa.Column("timeline", sa.Text, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("financing", sa.Text, nullable=True),
        sa.Column("region_role", sa.Text, nullable=True),
        sa.Column("beneficiaries", sa.Text, nullable=True),
        sa.Column("tasks", JSONB, nullable=False),
        sa.Column(
            "responsible_department_id",
            sa.Uuid,
            sa.ForeignKey("responsible_departments.id"),
            nullable=True,
        ),
        sa.Column("stage", sa.String, nullable=False),
        sa.Column("suspended_from", sa.String, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint(
            "region", "sector_number", "number", name="uq_strategy_projects_natural_key"
        ),
        sa.ForeignKeyConstraint(
            ["region", "sector_number"],
            ["sectors.region", "sectors.number"],
            name="fk_strategy_projects_sector",
        ),
        sa.CheckConstraint(
            "stage IN ('planned', 'launched', 'in_progress', 'completed', 'suspended', "
            "'cancelled')",
            name="ck_strategy_projects_stage",
        ),
        sa.CheckConstraint(
            "(stage = 'suspended') = (suspended_from IS NOT NULL)",
            name="ck_strategy_projects_suspended_from",
        ),
    )
    op.create_index(
        "ix_strategy_projects_name_search",
        "strategy_projects",
        [sa.text("to_tsvector('russian'::regconfig, name)")],
        postgresql_using="gin",
    )
    op.create_index(
        "ix_strategy_projects_department", "strategy_projects", ["responsible_department_id"]
    )
    op.create_index("ix_strategy_projects_stage", "strategy_projects", ["stage"])
    op.create_table(
        "project_stage_transitions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column(
            "project_id",
            sa.Uuid,
            sa.ForeignKey("strategy_projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("from_stage", sa.String, nullable=False),
        sa.Column("to_stage", sa.String, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_project_stage_transitions_project", "project_stage_transitions", ["project_id", "seq"]
    )
    op.create_table(
        "project_milestones",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "project_id",
            sa.Uuid,
            sa.ForeignKey("strategy_projects.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("missed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("evidence", sa.Text, nullable=True),
        *_timestamps(),
        sa.UniqueConstraint("project_id", "title", name="uq_project_milestones_project_title"),
        sa.CheckConstraint(
            "status IN ('pending', 'reached', 'missed')", name="ck_project_milestones_status"
        ),
        sa.CheckConstraint(
            "(status = 'reached') = (reached_at IS NOT NULL)",
            name="ck_project_milestones_reached_at",
        ),
    )
    op.create_index(
        "ix_project_milestones_pending_due",
        "project_milestones",
        ["due_date"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    """Drop the projects service's own tables."""
    for table in (
        "project_milestones",
        "project_stage_transitions",
        "strategy_projects",
        "region_coordinators",
        "responsible_departments",
        "sectors",
        "regions",
    ):
        op.drop_table(table)
