"""Tables every service carries: its outbox and its inbox of processed events."""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel


class OutboxMessage(SQLModel, table=True):
    """An integration event committed with the state change that caused it, waiting for Kafka."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index(
            "ix_outbox_messages_pending",
            "seq",
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    # seq keeps the commit order so events of one aggregate reach Kafka in order.
    seq: int | None = Field(
        default=None, sa_column=Column(BigInteger, Identity(always=True), primary_key=True)
    )
    event_id: UUID = Field(unique=True)
    topic: str
    key: str
    event_type: str
    headers: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    published_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    attempts: int = 0
    last_error: str | None = None


class ProcessedEvent(SQLModel, table=True):
    """An event a consumer has applied; recorded in the same transaction as its effects."""

    __tablename__ = "processed_events"

    consumer: str = Field(primary_key=True)
    event_id: UUID = Field(primary_key=True)
    processed_at: datetime | None = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
