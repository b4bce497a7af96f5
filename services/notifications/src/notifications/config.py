"""Settings of the notifications service."""

from datetime import time
from typing import Self

from pydantic import Field, SecretStr, model_validator

from common.settings import ServiceSettings, SmtpSettings
from notifications.alerts.ack_links import DEVELOPMENT_ACK_LINK_SECRET


class Settings(ServiceSettings):
    """Environment of the notifications service; defaults suit the local stack."""

    service_name: str = "notifications"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/notifications"

    smtp: SmtpSettings = Field(
        default_factory=SmtpSettings, description="Outgoing mail server (SMTP_* variables)"
    )
    smtp_retry_base_seconds: float = Field(
        5.0, gt=0, description="First wait after an SMTP 4xx or connection error; doubles each time"
    )
    smtp_retry_max_seconds: float = Field(
        900.0, gt=0, description="Longest wait between two attempts of one delivery"
    )
    smtp_max_attempts: int = Field(
        30,
        ge=1,
        description="Attempts after which a delivery answered only with 4xx is marked failed; "
        "connection errors (an outage) are retried without limit",
    )
    sender_batch_size: int = Field(20, ge=1, le=500, description="Deliveries sent per batch")
    sender_poll_interval_seconds: float = Field(
        1.0,
        gt=0,
        description="How often the sender looks for due deliveries when no NOTIFY woke it "
        "(retries coming due, a notification lost while its listener reconnected)",
    )
    smtp_idle_seconds: float = Field(
        10.0,
        ge=0,
        description="An SMTP connection unused this long is closed; until then batches reuse it",
    )

    reminder_interval_seconds: float = Field(
        7 * 24 * 3600.0,
        gt=0,
        description="An open, unacknowledged problem alert is re-sent after this long",
    )
    flap_window_seconds: float = Field(
        1800.0,
        ge=0,
        description="A resolution is announced only after holding this long; a relapse within "
        "it reopens the same alert silently",
    )
    hourly_cap_per_recipient: int = Field(
        20, ge=1, description="Immediate emails per recipient per hour; the excess joins the digest"
    )
    digest_time_utc: time = Field(
        time(6, 0), description="When the daily digest goes out (UTC, HH:MM)"
    )
    scheduler_poll_interval_seconds: float = Field(
        5.0, gt=0, description="How often reminders and digests are looked for"
    )
    read_model_grace_seconds: float = Field(
        300.0,
        ge=0,
        description="How long an alert event waits (retrying) for the project, indicator or "
        "department it names to arrive before it is routed with what it carries",
    )
    public_notifications_url: str = Field(
        "http://127.0.0.1:8003", description="Base URL of this service, for links in emails"
    )
    public_indicators_url: str = Field(
        "http://127.0.0.1:8002", description="Base URL of the indicators service, for links"
    )
    ack_link_secret: SecretStr | None = Field(
        None,
        min_length=32,
        description="Key signing the one-click acknowledgement links in emails (32 characters or "
        "more, the same on every replica); required outside development, where a fixed "
        "development key is used and refused elsewhere",
    )
    ack_link_lifetime_days: int = Field(
        30,
        ge=1,
        le=365,
        description="How long an acknowledgement link works; each reminder brings a fresh one",
    )

    @model_validator(mode="after")
    def _ack_link_secret(self) -> Self:
        # Checked here so a service that would mail unusable or forgeable links refuses to start.
        if self.ack_link_secret is None:
            if self.environment != "development":
                raise ValueError(
                    f"ACK_LINK_SECRET is required in the {self.environment} environment"
                )
            self.ack_link_secret = SecretStr(DEVELOPMENT_ACK_LINK_SECRET)
        elif (
            self.environment != "development"
            and self.ack_link_secret.get_secret_value() == DEVELOPMENT_ACK_LINK_SECRET
        ):
            raise ValueError(
                f"ACK_LINK_SECRET is the development key, refused in the {self.environment} "
                "environment"
            )
        return self
