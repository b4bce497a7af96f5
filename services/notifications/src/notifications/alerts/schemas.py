"""Alert payloads."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from notifications.alerts.models import AlertKind, AlertState, Resolution, SubjectType
from notifications.deliveries.schemas import DeliveryPublic

ACK_COMMENT_MAX_LENGTH = 2000


class AckRequest(BaseModel):
    """Acknowledging an alert: someone has taken it up."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"comment": "Уточняем данные у подведомственных школ"}]},
    )

    comment: str | None = Field(
        None, max_length=ACK_COMMENT_MAX_LENGTH, description="What is being done"
    )


class AlertPublic(BaseModel):
    """An alert with the facts its emails show."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    subject_type: SubjectType
    subject_id: UUID
    period: str
    family: str
    kind: AlertKind
    state: AlertState
    region: str
    region_name: str
    sector_number: int | None
    sector_name: str | None
    project_id: UUID | None
    project_name: str | None
    department_id: UUID | None
    department_name: str | None
    title: str
    unit: str | None
    expected: Decimal | None
    actual: Decimal | None
    gap: Decimal | None
    gap_percent: Decimal | None
    projected: Decimal | None
    deadline: date | None
    opened_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    ack_comment: str | None
    resolved_at: datetime | None
    resolved_by: AlertKind | Resolution | None
    next_reminder_at: datetime | None
    reminder_count: int
    reopen_count: int
    event_count: int


class AlertEventPublic(BaseModel):
    """An event that changed the alert."""

    model_config = ConfigDict(from_attributes=True)

    event_id: UUID
    event_type: str
    effect: str
    occurred_at: datetime
    received_at: datetime
    data: dict[str, Any]


class AlertDetail(AlertPublic):
    """An alert with its deliveries and the events behind it."""

    deliveries: list[DeliveryPublic]
    events: list[AlertEventPublic]
