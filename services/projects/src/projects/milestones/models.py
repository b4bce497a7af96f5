"""Milestone table."""

from datetime import date, datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlmodel import Field

from projects.persistence import created_at_field, updated_at_field
from projects.tables import TableBase


class Milestone(TableBase, table=True):
    """A dated milestone of a project («К концу 2024 года: …»); (project_id, title) is its key."""

    __tablename__ = "project_milestones"
    __table_args__ = (
        UniqueConstraint("project_id", "title", name="uq_project_milestones_project_title"),
        CheckConstraint(
            "status IN ('pending', 'reached', 'missed')", name="ck_project_milestones_status"
        ),
        CheckConstraint(
            "(status = 'reached') = (reached_at IS NOT NULL)",
            name="ck_project_milestones_reached_at",
        ),
        # The overdue scan reads only pending milestones by due date.
        Index(
            "ix_project_milestones_pending_due",
            "due_date",
            postgresql_where=text("status = 'pending'"),
        ),
    )
    __mapper_args__ = {"eager_defaults": True}

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("strategy_projects.id", ondelete="CASCADE"), nullable=False
        )
    )
    title: str = Field(sa_column=Column(Text, nullable=False))
    due_date: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(sa_column=Column(String, nullable=False))
    reached_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    missed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    evidence: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime | None = created_at_field()
    updated_at: datetime | None = updated_at_field()
