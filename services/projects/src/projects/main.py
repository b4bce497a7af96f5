"""ASGI entry point of the projects service (port 8001 in the local stack)."""

from fastapi import FastAPI

from common.web import create_app
from projects.config import Settings
from projects.consumers import SUBSCRIPTIONS


def build_app(settings: Settings | None = None) -> FastAPI:
    """The projects service application; tests pass their own settings."""
    return create_app(
        settings or Settings(),
        title="Projects service",
        description="The strategy catalogue: regions, sectors, departments, projects, their lifecycle and milestones.",
        subscriptions=SUBSCRIPTIONS,
    )


app = build_app()
