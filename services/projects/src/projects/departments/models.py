"""Department and coordinator tables."""

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from projects.persistence import created_at_field, updated_at_field
from projects.tables import TableBase


class Department(TableBase, table=True):
    """A regional executive body (РОИВ); (region, full_name) is its natural key."""

    __tablename__ = "responsible_departments"
    __table_args__ = (
        UniqueConstraint("region", "full_name", name="uq_responsible_departments_region_name"),
    )
    __mapper_args__ = {"eager_defaults": True}

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    region: str = Field(sa_column=Column(String, ForeignKey("regions.slug"), nullable=False))
    full_name: str = Field(sa_column=Column(String, nullable=False))
    short_name: str = Field(sa_column=Column(String, nullable=False))
    emails: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    active: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime | None = created_at_field()
    updated_at: datetime | None = updated_at_field()


class Coordinator(TableBase, table=True):
    """A person who receives alerts of a region (or of some of its sectors); key (region, email)."""

    __tablename__ = "region_coordinators"
    __table_args__ = (
        UniqueConstraint("region", "email", name="uq_region_coordinators_region_email"),
    )
    __mapper_args__ = {"eager_defaults": True}

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    region: str = Field(sa_column=Column(String, ForeignKey("regions.slug"), nullable=False))
    name: str = Field(sa_column=Column(String, nullable=False))
    email: str = Field(sa_column=Column(String, nullable=False))
    sector_numbers: list[int] = Field(sa_column=Column(JSONB, nullable=False))
    active: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime | None = created_at_field()
    updated_at: datetime | None = updated_at_field()
