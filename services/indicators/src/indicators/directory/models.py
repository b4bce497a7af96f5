"""Read-model tables: what the projects service said about projects and departments."""

from datetime import datetime
from uuid import UUID

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Uuid, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from indicators.tables import TableBase


class DirectoryProject(TableBase, table=True):
    """A project as last announced by `project.created/updated/stage_changed`."""

    __tablename__ = "directory_projects"

    project_id: UUID = Field(sa_column=Column(Uuid, primary_key=True))
    region: str = Field(sa_column=Column(String, nullable=False, index=True))
    region_name: str = Field(sa_column=Column(String, nullable=False))
    sector_number: int = Field(sa_column=Column(Integer, nullable=False))
    sector_name: str = Field(sa_column=Column(String, nullable=False))
    number: int = Field(sa_column=Column(Integer, nullable=False))
    name: str = Field(sa_column=Column(String, nullable=False))
    federal_recommended: bool = Field(sa_column=Column(Boolean, nullable=False))
    responsible_department_id: UUID | None = Field(default=None, sa_column=Column(Uuid))
    stage: str = Field(sa_column=Column(String, nullable=False))
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )


class DirectoryDepartment(TableBase, table=True):
    """A department (РОИВ) as last announced by `department.upserted`."""

    __tablename__ = "directory_departments"

    department_id: UUID = Field(sa_column=Column(Uuid, primary_key=True))
    region: str = Field(sa_column=Column(String, nullable=False))
    full_name: str = Field(sa_column=Column(String, nullable=False))
    short_name: str = Field(sa_column=Column(String, nullable=False))
    emails: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False))
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )
