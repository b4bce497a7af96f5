"""Indicator and target tables."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlmodel import Field

from indicators.tables import TableBase

# Digits in all and after the decimal point; input beyond them is refused (rows.number_problem).
VALUE_DIGITS, VALUE_PLACES = 24, 6
VALUE = Numeric(VALUE_DIGITS, VALUE_PLACES)
TOLERANCE_DIGITS, TOLERANCE_PLACES = 9, 4
# A gap of two values, or in % of a tiny expectation, can outgrow VALUE: no digit limit.
GAP = Numeric()


class Indicator(TableBase, table=True):
    """An indicator of a project; (project_id, name) is its natural key.

    region, sector_number and responsible_department_id are copied from the directory read
    model when it knows the project, and refreshed when the project's events arrive. The
    current_* columns mirror the chronologically latest evaluated period.
    """

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_indicators_project_name"),)

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    project_id: UUID = Field(sa_column=Column(Uuid, nullable=False, index=True))
    name: str = Field(sa_column=Column(String, nullable=False))
    unit: str = Field(sa_column=Column(String, nullable=False))
    direction: str = Field(sa_column=Column(String, nullable=False))
    frequency: str = Field(sa_column=Column(String, nullable=False))
    baseline_value: Decimal | None = Field(default=None, sa_column=Column(VALUE))
    baseline_year: int | None = Field(default=None, sa_column=Column(Integer))
    tolerance_percent: Decimal = Field(
        sa_column=Column(Numeric(TOLERANCE_DIGITS, TOLERANCE_PLACES), nullable=False)
    )
    region: str = Field(sa_column=Column(String, nullable=False, index=True))
    sector_number: int | None = Field(default=None, sa_column=Column(Integer))
    responsible_department_id: UUID | None = Field(default=None, sa_column=Column(Uuid, index=True))
    current_period: str | None = Field(default=None, sa_column=Column(String))
    current_status: str | None = Field(default=None, sa_column=Column(String, index=True))
    current_expected: Decimal | None = Field(default=None, sa_column=Column(VALUE))
    current_actual: Decimal | None = Field(default=None, sa_column=Column(VALUE))
    current_gap: Decimal | None = Field(default=None, sa_column=Column(GAP))
    current_gap_percent: Decimal | None = Field(default=None, sa_column=Column(GAP))
    archived_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    updated_at: datetime | None = Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )


class IndicatorTarget(TableBase, table=True):
    """The value an indicator must reach by the end of a year."""

    __tablename__ = "indicator_targets"

    indicator_id: UUID = Field(
        sa_column=Column(Uuid, ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True)
    )
    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    value: Decimal = Field(sa_column=Column(VALUE, nullable=False))
