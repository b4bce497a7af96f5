"""Request and response shapes of regions and sectors."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from projects.validation import Name, PositiveNumber, Slug, Year


class RegionWrite(BaseModel):
    """What PUT /regions/{slug} sets."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Ленинградская область", "period_start": 2022, "period_end": 2024}
            ]
        },
    )

    name: Annotated[Name, Field(examples=["Ленинградская область"])]
    period_start: Year = 2022
    # Validated even as the default, so a late period_start alone is refused here and not
    # only when the service builds its RegionCreate from it.
    period_end: Annotated[Year, Field(validate_default=True)] = 2024

    @field_validator("period_end")
    @classmethod
    def _period_in_order(cls, value: int, info: ValidationInfo) -> int:
        start = info.data.get("period_start")
        if start is not None and value < start:
            raise ValueError("must not be before period_start")
        return value


class RegionCreate(RegionWrite):
    """A new region."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "nenets-ao",
                    "name": "Ненецкий автономный округ",
                    "period_start": 2022,
                    "period_end": 2024,
                }
            ]
        },
    )

    slug: Slug


class RegionPublic(BaseModel):
    """A region as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    period_start: int
    period_end: int
    created_at: datetime
    updated_at: datetime


class SectorWrite(BaseModel):
    """What PUT /regions/{slug}/sectors/{number} sets."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "Образование и наука"}]}
    )

    name: Annotated[Name, Field(examples=["Образование и наука"])]


class SectorCreate(SectorWrite):
    """A new sector of a region."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"number": 2, "name": "Здравоохранение"}]},
    )

    number: PositiveNumber


class SectorPublic(BaseModel):
    """A sector as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    region: str
    number: int
    name: str
    created_at: datetime
    updated_at: datetime
