"""The subscription table."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, DateTime, ForeignKey, UniqueConstraint, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from notifications.tables import TableBase


class DeliveryMode(StrEnum):
    """How a coordinator wants to hear about alerts."""

    immediate = "immediate"
    digest = "digest"


class Subscription(TableBase, table=True):
    """A coordinator's wish to receive some alert kinds in one mode."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("coordinator_id", "mode"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    coordinator_id: UUID = Field(
        sa_column=Column(
            Uuid, ForeignKey("coordinators.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    mode: str
    kinds: list[str] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
