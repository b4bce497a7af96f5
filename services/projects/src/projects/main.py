"""ASGI entry point of the projects service (port 8001 in the local stack)."""

from fastapi import FastAPI

from common.clock import Clock
from common.web import create_app
from projects.catalogue.router import router as catalogue_router
from projects.config import Settings
from projects.consumers import SUBSCRIPTIONS
from projects.departments.router import router as departments_router
from projects.identity.router import auth_router, jwks_router
from projects.identity.router import router as identity_router
from projects.milestones.router import router as milestones_router
from projects.milestones.scheduler import milestone_overdue_scheduler
from projects.portfolio.router import router as portfolio_router


def build_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The projects service application; tests pass their own settings and clock."""
    app = create_app(
        settings or Settings(),
        title="Projects service",
        description="The strategy catalogue: regions, sectors, departments, projects, their lifecycle and milestones.",
        routers=[
            auth_router,
            identity_router,
            catalogue_router,
            departments_router,
            portfolio_router,
            milestones_router,
        ],
        subscriptions=SUBSCRIPTIONS,
        workers=[milestone_overdue_scheduler],
        clock=clock,
    )
    # Where OpenID-style clients look for the verification key: the site root, not /api/v1.
    app.include_router(jwks_router)
    return app


app = build_app()
