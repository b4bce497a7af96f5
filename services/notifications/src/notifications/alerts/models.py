"""Alert tables and the vocabulary of kinds and states."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from notifications.tables import FIGURE, TableBase


class AlertKind(StrEnum):
    """What happened to an indicator or a milestone."""

    target_missed = "target_missed"
    behind = "behind"
    at_risk = "at_risk"
    forecast_miss = "forecast_miss"
    report_overdue = "report_overdue"
    milestone_overdue = "milestone_overdue"
    back_on_track = "back_on_track"
    target_met = "target_met"
    milestone_reached = "milestone_reached"


class Resolution(StrEnum):
    """Why an alert was closed when no good news closed it."""

    # The milestone's due date moved on: it is no longer overdue (a later date may be missed anew).
    milestone_rescheduled = "milestone_rescheduled"
    # The milestone was taken out of its project: there is nothing left to be late.
    milestone_removed = "milestone_removed"
    # The year's target was taken out of the indicator's plan: nothing is expected of it now.
    target_withdrawn = "target_withdrawn"
    # The indicator was archived: it is no longer monitored.
    indicator_archived = "indicator_archived"


PROBLEM_KINDS = frozenset(
    {
        AlertKind.target_missed,
        AlertKind.behind,
        AlertKind.at_risk,
        AlertKind.forecast_miss,
        AlertKind.report_overdue,
        AlertKind.milestone_overdue,
    }
)
GOOD_NEWS_KINDS = frozenset(
    {AlertKind.back_on_track, AlertKind.target_met, AlertKind.milestone_reached}
)

# Kinds of one family share an alert: at risk → behind escalates one alert instead of opening two.
FAMILY: dict[AlertKind, str] = {
    AlertKind.at_risk: "status",
    AlertKind.behind: "status",
    AlertKind.target_missed: "target",
    AlertKind.forecast_miss: "forecast",
    AlertKind.report_overdue: "report",
    AlertKind.milestone_overdue: "milestone",
    AlertKind.back_on_track: "news",
    AlertKind.target_met: "news",
    AlertKind.milestone_reached: "news",
}

# Within a family a higher rank is worse; moving up is an escalation worth an email.
SEVERITY: dict[AlertKind, int] = {AlertKind.at_risk: 1, AlertKind.behind: 2}


class AlertState(StrEnum):
    """Where an alert is in its life."""

    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class SubjectType(StrEnum):
    """What an alert is about."""

    indicator = "indicator"
    milestone = "milestone"


class Alert(TableBase, table=True):
    """A deviation (or a piece of good news) with the facts the emails show."""

    __tablename__ = "alerts"
    __table_args__ = (
        # The heart of "never a second alert": one unresolved alert per key.
        Index(
            "uq_alerts_active_key",
            "subject_id",
            "period",
            "family",
            unique=True,
            postgresql_where=text("state <> 'resolved'"),
        ),
        Index("ix_alerts_region_state", "region", "state"),
        Index(
            "ix_alerts_reminder_due",
            "next_reminder_at",
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    subject_type: str
    subject_id: UUID
    period: str
    family: str
    kind: str
    state: str = Field(sa_column=Column(String, nullable=False, index=True))

    region: str
    region_name: str
    sector_number: int | None = None
    sector_name: str | None = None
    project_id: UUID | None = None
    project_name: str | None = None
    department_id: UUID | None = None
    department_name: str | None = None
    title: str = Field(description="Indicator name or milestone title")
    unit: str | None = None

    expected: Decimal | None = Field(default=None, sa_column=Column(FIGURE))
    actual: Decimal | None = Field(default=None, sa_column=Column(FIGURE))
    gap: Decimal | None = Field(default=None, sa_column=Column(FIGURE))
    gap_percent: Decimal | None = Field(default=None, sa_column=Column(FIGURE))
    projected: Decimal | None = Field(default=None, sa_column=Column(FIGURE))
    deadline: date | None = Field(default=None, sa_column=Column(Date))

    opened_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    acknowledged_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    acknowledged_by: str | None = None
    ack_comment: str | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    resolved_by: str | None = Field(
        default=None,
        description="The good-news kind that resolved it, or the Resolution that closed it",
    )
    next_reminder_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    reminder_count: int = 0
    reopen_count: int = 0
    event_count: int = 0


class AlertEvent(TableBase, table=True):
    """An integration event that opened, updated or resolved an alert."""

    __tablename__ = "alert_events"
    __table_args__ = (UniqueConstraint("alert_id", "event_id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    alert_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    event_id: UUID
    event_type: str
    effect: str = Field(description="opened, updated, escalated, reopened, resolved or recorded")
    occurred_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    received_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    data: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
