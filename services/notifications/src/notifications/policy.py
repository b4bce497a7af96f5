"""The knobs of alerting and delivery, with the clock, handed to handlers and workers."""

from dataclasses import dataclass
from datetime import timedelta

from common.clock import Clock
from notifications.alerts.ack_links import AckLinkSigner
from notifications.config import Settings
from notifications.deliveries.email import Links


@dataclass(frozen=True)
class Policy:
    """How alerts become emails: timing, caps, addresses; `clock` tells the time."""

    clock: Clock
    sender: str
    links: Links
    reminder_interval: timedelta
    flap_window: timedelta
    hourly_cap: int
    read_model_grace: timedelta

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> "Policy":
        """Read the policy from the service settings."""
        return cls(
            clock=clock,
            sender=settings.smtp.sender,
            links=Links(
                settings.public_notifications_url,
                settings.public_indicators_url,
                AckLinkSigner(
                    settings.ack_link_secret.get_secret_value(),
                    timedelta(days=settings.ack_link_lifetime_days),
                    clock,
                ),
            ),
            reminder_interval=timedelta(seconds=settings.reminder_interval_seconds),
            flap_window=timedelta(seconds=settings.flap_window_seconds),
            hourly_cap=settings.hourly_cap_per_recipient,
            read_model_grace=timedelta(seconds=settings.read_model_grace_seconds),
        )
