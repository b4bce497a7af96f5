"""ASGI entry point of the notifications service (port 8003 in the local stack)."""

from common.web import create_app
from notifications.config import Settings
from notifications.consumers import SUBSCRIPTIONS

app = create_app(
    Settings(),
    title="Notifications service",
    description="Alerts on deviations, routed to departments and coordinators by email.",
    subscriptions=SUBSCRIPTIONS,
)
