"""The delivery table and its vocabulary."""

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID, uuid4

from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, String, Text, Uuid, text
from sqlmodel import Field

from notifications.tables import TableBase

# Inserting a pending immediate delivery NOTIFYs this channel (trigger of notifications_0002).
DUE_CHANNEL = "deliveries_due"


class DeliveryStatus(StrEnum):
    """Where an email is."""

    pending = "pending"
    sent = "sent"
    failed = "failed"
    # Held back by the hourly cap, then carried by a digest email.
    digested = "digested"
    # A held resolution notice withdrawn because the problem came back (flapping).
    cancelled = "cancelled"


class Channel(StrEnum):
    """Whether an email goes out on its own or as a line of the daily digest."""

    immediate = "immediate"
    digest = "digest"


class NotificationKind(StrEnum):
    """Why an email is written."""

    opened = "opened"
    escalated = "escalated"
    reminder = "reminder"
    resolved = "resolved"
    news = "news"
    digest = "digest"


class RecipientType(StrEnum):
    """Who a recipient is."""

    department = "department"
    coordinator = "coordinator"


class Delivery(TableBase, table=True):
    """One email to one address, rendered when the notification was decided."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index(
            "ix_deliveries_due",
            "due_at",
            postgresql_where=text("status = 'pending' AND channel = 'immediate'"),
        ),
        # Addresses are compared case-insensitively (the hourly cap, threads, the list filter).
        Index("ix_deliveries_recipient_created", text("lower(recipient)"), "created_at"),
        # What the hourly cap counts, and only that: under a storm most of an address's hour is
        # excess sent to the digest, which the count would otherwise step over row by row.
        Index(
            "ix_deliveries_capped",
            text("lower(recipient)"),
            "created_at",
            postgresql_where=text(
                "channel = 'immediate' AND kind <> 'digest' AND status <> 'cancelled'"
            ),
        ),
        Index(
            "ix_deliveries_digest_items",
            "recipient",
            postgresql_where=text("status = 'pending' AND channel = 'digest'"),
        ),
    )

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    alert_id: UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("alerts.id", ondelete="CASCADE"), index=True),
    )
    kind: str
    channel: str
    status: str = Field(sa_column=Column(String, nullable=False, index=True))
    recipient: str
    recipient_type: str
    department_id: UUID | None = None
    coordinator_id: UUID | None = None
    region: str

    subject: str
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str = Field(sa_column=Column(String, nullable=False, unique=True))
    thread_message_id: str | None = Field(
        default=None, description="Message-ID of the first email about the alert to this recipient"
    )

    digest_date: date | None = Field(default=None, sa_column=Column(Date))
    digest_id: UUID | None = Field(default=None, description="The digest that carried this item")
    dedup_key: str | None = Field(default=None, sa_column=Column(String, unique=True))

    attempts: int = 0
    last_smtp_code: int | None = None
    last_smtp_reply: str | None = None
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    due_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    last_attempt_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True))
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
