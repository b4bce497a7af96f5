"""ASGI entry point of the indicators service (port 8002 in the local stack)."""

from common.web import create_app
from indicators.config import Settings
from indicators.consumers import SUBSCRIPTIONS

app = create_app(
    Settings(),
    title="Indicators service",
    description="Indicators with yearly targets, measurements from departments, and deviation detection.",
    subscriptions=SUBSCRIPTIONS,
)
