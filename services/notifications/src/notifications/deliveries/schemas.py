"""Delivery payloads."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from notifications.deliveries.models import Channel, DeliveryStatus, NotificationKind, RecipientType


class DeliveryPublic(BaseModel):
    """One email to one address and how its sending went."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    alert_id: UUID | None
    kind: NotificationKind
    channel: Channel
    status: DeliveryStatus
    recipient: str
    recipient_type: RecipientType
    department_id: UUID | None
    coordinator_id: UUID | None
    region: str
    subject: str
    message_id: str
    thread_message_id: str | None
    digest_date: date | None
    digest_id: UUID | None
    attempts: int
    last_smtp_code: int | None
    last_smtp_reply: str | None
    created_at: datetime
    due_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
