"""ASGI entry point of the notifications service (port 8003 in the local stack)."""

from fastapi import FastAPI

from common.web import create_app
from notifications.config import Settings
from notifications.consumers import SUBSCRIPTIONS


def build_app(settings: Settings | None = None) -> FastAPI:
    """The notifications service application; tests pass their own settings."""
    return create_app(
        settings or Settings(),
        title="Notifications service",
        description="Alerts on deviations, routed to departments and coordinators by email.",
        subscriptions=SUBSCRIPTIONS,
    )


app = build_app()
