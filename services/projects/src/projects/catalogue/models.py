"""Region and sector tables."""

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
)
from sqlmodel import Field

from projects.persistence import created_at_field, updated_at_field
from projects.tables import TableBase


class Region(TableBase, table=True):
    """A region with its strategy period; the slug is its natural key and its id."""

    __tablename__ = "regions"
    __table_args__ = (
        CheckConstraint("period_start <= period_end", name="ck_regions_period_order"),
    )
    __mapper_args__ = {"eager_defaults": True}

    slug: str = Field(sa_column=Column(String, primary_key=True))
    name: str = Field(sa_column=Column(String, nullable=False))
    period_start: int = Field(sa_column=Column(Integer, nullable=False))
    period_end: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime | None = created_at_field()
    updated_at: datetime | None = updated_at_field()


class Sector(TableBase, table=True):
    """A sector (отрасль) of a region's strategy, numbered as in the document."""

    __tablename__ = "sectors"
    __mapper_args__ = {"eager_defaults": True}

    region: str = Field(sa_column=Column(String, ForeignKey("regions.slug"), primary_key=True))
    number: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    name: str = Field(sa_column=Column(String, nullable=False))
    created_at: datetime | None = created_at_field()
    updated_at: datetime | None = updated_at_field()
