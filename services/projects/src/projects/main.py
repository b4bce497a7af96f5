"""ASGI entry point of the projects service (port 8001 in the local stack)."""

from common.web import create_app
from projects.config import Settings
from projects.consumers import SUBSCRIPTIONS

app = create_app(
    Settings(),
    title="Projects service",
    description="The strategy catalogue: regions, sectors, departments, projects, their lifecycle and milestones.",
    subscriptions=SUBSCRIPTIONS,
)
