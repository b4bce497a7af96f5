"""Request and response shapes of departments and coordinators."""

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from projects.validation import Email, Name, PositiveNumber, Slug


def _distinct(values: list) -> list:
    # Order is kept: the first email of a department is the one a letter is addressed to.
    return list(dict.fromkeys(values))


Emails = Annotated[list[Email], Field(min_length=1, max_length=20), AfterValidator(_distinct)]
SectorNumbers = Annotated[
    list[PositiveNumber],
    Field(max_length=100, description="Empty means the whole region"),
    AfterValidator(lambda numbers: sorted(set(numbers))),
]

DEPARTMENT_EXAMPLE = {
    "region": "leningrad-oblast",
    "full_name": "Комитет цифрового развития Ленинградской области",
    "short_name": "КЦР ЛО",
    "emails": ["kcr@lenreg.ru"],
    "active": True,
}
COORDINATOR_EXAMPLE = {
    "region": "nenets-ao",
    "name": "Иванова Мария Петровна",
    "email": "coordinator@adm-nao.ru",
    "sector_numbers": [1, 2],
    "active": True,
}


class DepartmentCreate(BaseModel):
    """A department; POST creates it, PUT /departments upserts it by (region, full_name)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [DEPARTMENT_EXAMPLE]})

    region: Slug
    full_name: Name
    short_name: Name
    emails: Emails
    active: bool = True


class DepartmentUpdate(BaseModel):
    """The fields PATCH /departments/{id} may change."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"emails": ["new@lenreg.ru"]}]}
    )

    full_name: Name | None = None
    short_name: Name | None = None
    emails: Emails | None = None
    active: bool | None = None


class DepartmentPublic(BaseModel):
    """A department as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    region: str
    full_name: str
    short_name: str
    emails: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class CoordinatorCreate(BaseModel):
    """A coordinator; POST creates one, PUT /coordinators upserts by (region, email)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [COORDINATOR_EXAMPLE]})

    region: Slug
    name: Name
    email: Email
    sector_numbers: SectorNumbers = []
    active: bool = True


class CoordinatorUpdate(BaseModel):
    """The fields PATCH /coordinators/{id} may change."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"sector_numbers": [], "active": False}]}
    )

    name: Name | None = None
    email: Email | None = None
    sector_numbers: SectorNumbers | None = None
    active: bool | None = None


class CoordinatorPublic(BaseModel):
    """A coordinator as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    region: str
    name: str
    email: str
    sector_numbers: list[int]
    active: bool
    created_at: datetime
    updated_at: datetime
