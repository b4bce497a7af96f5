"""Subscription payloads."""

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from notifications.alerts.models import AlertKind
from notifications.subscriptions.models import DeliveryMode


def _distinct(kinds: list[AlertKind]) -> list[AlertKind]:
    return sorted(set(kinds), key=list(AlertKind).index)


class SubscriptionCreate(BaseModel):
    """A coordinator's wish to receive some alert kinds, immediately or in the daily digest."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "coordinator_id": "0b9c1c52-5c1f-4d0a-9a43-6f7f2b1e9a10",
                    "mode": "digest",
                    "kinds": ["target_missed", "behind", "milestone_overdue"],
                }
            ]
        },
    )

    coordinator_id: UUID | None = Field(
        None,
        description=(
            "Whose subscription it is. Required for admins and for a shared coordinator desk "
            "(a login without a `coordinator_id` claim); a coordinator's own login may leave it "
            "out (it subscribes itself) and may not name another coordinator (403)."
        ),
    )
    mode: DeliveryMode = DeliveryMode.immediate
    kinds: list[AlertKind] = Field(min_length=1, description="Alert kinds to receive")

    @field_validator("kinds")
    @classmethod
    def _distinct_kinds(cls, kinds: list[AlertKind]) -> list[AlertKind]:
        return _distinct(kinds)


class SubscriptionUpdate(BaseModel):
    """Changes to a subscription; omitted fields stay."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"kinds": ["target_missed"]}]}
    )

    mode: DeliveryMode | None = None
    kinds: list[AlertKind] | None = Field(None, min_length=1)

    @field_validator("kinds")
    @classmethod
    def _distinct_kinds(cls, kinds: list[AlertKind] | None) -> list[AlertKind] | None:
        return None if kinds is None else _distinct(kinds)


class SubscriptionPublic(BaseModel):
    """A subscription with its coordinator's address and scope."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    coordinator_id: UUID
    coordinator_email: str
    region: str
    sector_numbers: list[int]
    mode: DeliveryMode
    kinds: list[AlertKind]
    created_at: datetime
    updated_at: datetime
