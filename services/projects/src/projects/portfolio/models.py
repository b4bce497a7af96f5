"""Project and stage-transition tables."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from projects.persistence import created_at_field, updated_at_field
from projects.tables import TableBase

STAGES = "'planned', 'launched', 'in_progress', 'completed', 'suspended', 'cancelled'"
# The same expression the full-text search filters on, so PostgreSQL uses the index.
NAME_SEARCH_VECTOR = "to_tsvector('russian'::regconfig, name)"


class Project(TableBase, table=True):
    """A project of a sector; (region, sector_number, number) is its natural key."""

    __tablename__ = "strategy_projects"
    __table_args__ = (
        UniqueConstraint(
            "region", "sector_number", "number", name="uq_strategy_projects_natural_key"
        ),
        ForeignKeyConstraint(
            ["region", "sector_number"],
            ["sectors.region", "sectors.number"],
            name="fk_strategy_projects_sector",
        ),
        CheckConstraint(f"stage IN ({STAGES})", name="ck_strategy_projects_stage"),
        CheckConstraint(
            "(stage = 'suspended') = (suspended_from IS NOT NULL)",
            name="ck_strategy_projects_suspended_from",
        ),
        Index("ix_strategy_projects_name_search", text(NAME_SEARCH_VECTOR), postgresql_using="gin"),
        Index("ix_strategy_projects_department", "responsible_department_id"),
        Index("ix_strategy_projects_stage", "stage"),
    )
    __mapper_args__ = {"eager_defaults": True}

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    region: str = Field(sa_column=Column(String, ForeignKey("regions.slug"), nullable=False))
    sector_number: int = Field(sa_column=Column(Integer, nullable=False))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    name: str = Field(sa_column=Column(Text, nullable=False))
    federal_recommended: bool = Field(sa_column=Column(Boolean, nullable=False))
    goal: str | None = Field(default=None, sa_column=Column(Text))
    timeline: str | None = Field(default=None, sa_column=Column(Text))
    description: str | None = Field(default=None, sa_column=Column(Text))
    financing: str | None = Field(default=None, sa_column=Column(Text))
    region_role: str | None = Field(default=None, sa_column=Column(Text))
    beneficiaries: str | None = Field(default=None, sa_column=Column(Text))
    benefits: str | None = Field(default=None, sa_column=Column(Text))
    tasks: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    responsible_department_id: UUID | None = Field(
        default=None, sa_column=Column(Uuid, ForeignKey("responsible_departments.id"))
    )
    stage: str = Field(sa_column=Column(String, nullable=False))
    suspended_from: str | None = Field(default=None, sa_column=Column(String))
    created_at: datetime | None = created_at_field()
    updated_at: datetime | None = updated_at_field()


class StageTransition(TableBase, table=True):
    """One move of a project between lifecycle stages: from, to, when, who and why."""

    __tablename__ = "project_stage_transitions"
    __table_args__ = (Index("ix_project_stage_transitions_project", "project_id", "seq"),)

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    # The recording order: several transitions may share a timestamp.
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), nullable=False)
    )
    project_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("strategy_projects.id", ondelete="CASCADE"), nullable=False
        )
    )
    from_stage: str = Field(sa_column=Column(String, nullable=False))
    to_stage: str = Field(sa_column=Column(String, nullable=False))
    changed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    changed_by: str = Field(sa_column=Column(String, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text))
