"""Response shapes of the directory read model."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class ProjectPublic(BaseModel):
    """A project as the indicators service last heard of it."""

    model_config = ConfigDict(from_attributes=True)

    project_id: UUID
    region: str
    region_name: str
    sector_number: int
    sector_name: str
    number: int
    name: str
    federal_recommended: bool
    responsible_department_id: UUID | None
    stage: str
    updated_at: datetime


class DepartmentPublic(BaseModel):
    """A department as the indicators service last heard of it."""

    model_config = ConfigDict(from_attributes=True)

    department_id: UUID
    region: str
    full_name: str
    short_name: str
    emails: list[str]
    active: bool
    updated_at: datetime
