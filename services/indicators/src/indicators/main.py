"""ASGI entry point of the indicators service (port 8002 in the local stack)."""

from fastapi import FastAPI

from common.web import create_app
from indicators.config import Settings
from indicators.consumers import SUBSCRIPTIONS


def build_app(settings: Settings | None = None) -> FastAPI:
    """The indicators service application; tests pass their own settings."""
    return create_app(
        settings or Settings(),
        title="Indicators service",
        description="Indicators with yearly targets, measurements from departments, and deviation detection.",
        subscriptions=SUBSCRIPTIONS,
    )


app = build_app()
