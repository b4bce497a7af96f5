"""ASGI entry point of the notifications service (port 8003 in the local stack)."""

from fastapi import FastAPI

from common.clock import Clock, SystemClock
from common.web import create_app
from common.workers import WakeChannel
from notifications.alerts.reminders import ReminderWorker
from notifications.alerts.router import link_router as ack_link_router
from notifications.alerts.router import router as alerts_router
from notifications.config import Settings
from notifications.consumers import subscriptions_for
from notifications.deliveries.models import DUE_CHANNEL
from notifications.deliveries.router import router as deliveries_router
from notifications.deliveries.sender import DeliverySender
from notifications.digests.router import router as digests_router
from notifications.digests.worker import DigestWorker
from notifications.directory.router import router as directory_router
from notifications.policy import Policy
from notifications.subscriptions.router import router as subscriptions_router


def build_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The notifications service application; tests pass their own settings and clock."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    policy = Policy.from_settings(settings, clock)

    def sender(app: FastAPI) -> DeliverySender:
        return DeliverySender(
            app.state.sessions,
            settings.smtp,
            clock,
            batch_size=settings.sender_batch_size,
            poll_interval=settings.sender_poll_interval_seconds,
            retry_base=settings.smtp_retry_base_seconds,
            retry_max=settings.smtp_retry_max_seconds,
            max_attempts=settings.smtp_max_attempts,
            smtp_idle=settings.smtp_idle_seconds,
            wake_channel=WakeChannel(settings.asyncpg_dsn, DUE_CHANNEL),
        )

    def reminders(app: FastAPI) -> ReminderWorker:
        return ReminderWorker(
            app.state.sessions, policy, interval=settings.scheduler_poll_interval_seconds
        )

    def digest(app: FastAPI) -> DigestWorker:
        return DigestWorker(
            app.state.sessions,
            policy,
            at=settings.digest_time_utc,
            interval=settings.scheduler_poll_interval_seconds,
        )

    app = create_app(
        settings,
        title="Notifications service",
        description="Alerts on deviations, routed to departments and coordinators by email.",
        routers=[
            alerts_router,
            ack_link_router,
            deliveries_router,
            subscriptions_router,
            digests_router,
            directory_router,
        ],
        subscriptions=subscriptions_for(policy),
        workers=[sender, reminders, digest],
        clock=clock,
    )
    app.state.policy = policy
    return app


app = build_app()
