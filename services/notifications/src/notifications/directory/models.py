"""Local copies of other services' data, as the events described it."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Date, DateTime, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from notifications.tables import FIGURE, TableBase


class Department(TableBase, table=True):
    """A department (РОИВ) and the addresses its alerts go to."""

    __tablename__ = "departments"

    id: UUID = Field(primary_key=True)
    region: str = Field(sa_column=Column(String, nullable=False, index=True))
    full_name: str
    short_name: str
    emails: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    active: bool = True
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Coordinator(TableBase, table=True):
    """A coordinator of a region, optionally limited to some sectors."""

    __tablename__ = "coordinators"

    id: UUID = Field(primary_key=True)
    region: str = Field(sa_column=Column(String, nullable=False, index=True))
    name: str
    email: str
    sector_numbers: list[int] = Field(sa_column=Column(JSONB, nullable=False))
    active: bool = True
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Project(TableBase, table=True):
    """A project with the names an email shows."""

    __tablename__ = "projects"

    id: UUID = Field(primary_key=True)
    region: str = Field(sa_column=Column(String, nullable=False, index=True))
    region_name: str
    sector_number: int
    sector_name: str
    number: int
    name: str
    responsible_department_id: UUID | None = None
    stage: str
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class Indicator(TableBase, table=True):
    """An indicator with its unit and yearly targets."""

    __tablename__ = "indicators"

    id: UUID = Field(primary_key=True)
    project_id: UUID = Field(index=True)
    region: str
    sector_number: int | None = None
    responsible_department_id: UUID | None = None
    name: str
    unit: str
    direction: str
    targets: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class IndicatorValue(TableBase, table=True):
    """The latest reported value of an indicator-period, for the trend shown in emails."""

    __tablename__ = "indicator_values"

    indicator_id: UUID = Field(primary_key=True)
    period: str = Field(primary_key=True)
    value: Decimal = Field(sa_column=Column(FIGURE, nullable=False))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    as_of: date = Field(sa_column=Column(Date, nullable=False))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
