"""Measurement, period-state, emitted-signal and idempotency tables."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from indicators.catalogue.models import GAP, VALUE
from indicators.tables import TableBase


class Measurement(TableBase, table=True):
    """A reported value; a later value for the same period is a new revision, never an update."""

    __tablename__ = "measurements"
    __table_args__ = (
        UniqueConstraint("indicator_id", "period", "revision", name="uq_measurements_revision"),
        Index("ix_measurements_timeline", "indicator_id", "period_end", "period", "revision"),
    )

    id: UUID = Field(sa_column=Column(Uuid, primary_key=True))
    indicator_id: UUID = Field(
        sa_column=Column(Uuid, ForeignKey("indicators.id", ondelete="CASCADE"), nullable=False)
    )
    period: str = Field(sa_column=Column(String, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))
    value: Decimal = Field(sa_column=Column(VALUE, nullable=False))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    as_of: date = Field(sa_column=Column(Date, nullable=False))
    reported_by: str = Field(sa_column=Column(String, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(String))
    source: str | None = Field(default=None, sa_column=Column(String))
    recorded_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expected: Decimal | None = Field(default=None, sa_column=Column(VALUE))
    status: str | None = Field(default=None, sa_column=Column(String))
    gap: Decimal | None = Field(default=None, sa_column=Column(GAP))
    gap_percent: Decimal | None = Field(default=None, sa_column=Column(GAP))


class PeriodState(TableBase, table=True):
    """The latest revision of an indicator-period and its evaluation."""

    __tablename__ = "period_states"

    indicator_id: UUID = Field(
        sa_column=Column(Uuid, ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True)
    )
    period: str = Field(sa_column=Column(String, primary_key=True))
    measurement_id: UUID = Field(sa_column=Column(Uuid, nullable=False))
    revision: int = Field(sa_column=Column(Integer, nullable=False))
    actual: Decimal = Field(sa_column=Column(VALUE, nullable=False))
    expected: Decimal | None = Field(default=None, sa_column=Column(VALUE))
    status: str | None = Field(default=None, sa_column=Column(String))
    gap: Decimal | None = Field(default=None, sa_column=Column(GAP))
    gap_percent: Decimal | None = Field(default=None, sa_column=Column(GAP))
    # How many status_changed signals this period raised: the occurrence of the next one.
    status_changes: int = Field(sa_column=Column(Integer, nullable=False))


class EmittedSignal(TableBase, table=True):
    """A signal put on the outbox; its key makes every signal at most once."""

    __tablename__ = "emitted_signals"

    indicator_id: UUID = Field(
        sa_column=Column(Uuid, ForeignKey("indicators.id", ondelete="CASCADE"), primary_key=True)
    )
    period: str = Field(sa_column=Column(String, primary_key=True))
    kind: str = Field(sa_column=Column(String, primary_key=True))
    occurrence: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    emitted_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


class IdempotencyRecord(TableBase, table=True):
    """A request made with an Idempotency-Key, and the answer every retry of it gets."""

    __tablename__ = "idempotency_keys"

    key: str = Field(sa_column=Column(String, primary_key=True))
    request_hash: str = Field(sa_column=Column(String, nullable=False))
    status_code: int = Field(sa_column=Column(Integer, nullable=False))
    response: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
