"""What the API shows of the read models."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class DepartmentPublic(BaseModel):
    """A department as the notifications service knows it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    region: str
    full_name: str
    short_name: str
    emails: list[str]
    active: bool
    updated_at: datetime


class CoordinatorPublic(BaseModel):
    """A coordinator as the notifications service knows it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    region: str
    name: str
    email: str
    sector_numbers: list[int]
    active: bool
    updated_at: datetime
