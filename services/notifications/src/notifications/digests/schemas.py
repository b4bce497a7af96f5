"""Digest preview payloads."""

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel

from notifications.alerts.models import AlertKind


class DigestLinePublic(BaseModel):
    """One alert as the digest lists it."""

    alert_id: UUID
    status: str
    kind: AlertKind
    headline: str
    title: str
    period: str
    facts: str
    gap: str
    gap_percent: Decimal | None
    department_name: str | None


class DigestSectorPublic(BaseModel):
    """The lines of one sector, worst gap first."""

    number: int | None
    name: str
    lines: list[DigestLinePublic]


class DigestPreview(BaseModel):
    """What one recipient's next digest would say if it were built now."""

    recipient: str
    coordinator_id: UUID | None
    region: str
    region_name: str
    day: date
    window_start: datetime
    window_end: datetime
    subject: str
    new: int
    still_open: int
    resolved: int
    deferred_items: int
    sectors: list[DigestSectorPublic]
    text: str
