"""ASGI entry point of the indicators service (port 8002 in the local stack)."""

from fastapi import FastAPI

from common.clock import Clock
from common.web import API_PREFIX, create_app
from indicators.catalogue.router import router as catalogue_router
from indicators.config import Settings
from indicators.consumers import SUBSCRIPTIONS
from indicators.directory.router import router as directory_router
from indicators.measurements.router import IMPORT_PATH, measurement_writer
from indicators.measurements.router import router as measurements_router
from indicators.overdue.router import router as overdue_router
from indicators.overdue.worker import OverdueScanner


def build_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    """The indicators service application; tests pass their own settings and clock."""
    settings = settings or Settings()
    app = create_app(
        settings,
        title="Indicators service",
        description="Indicators with yearly targets, measurements from departments, and deviation detection.",
        routers=[catalogue_router, measurements_router, overdue_router, directory_router],
        subscriptions=SUBSCRIPTIONS,
        workers=[OverdueScanner],
        clock=clock,
        body_limits={API_PREFIX + IMPORT_PATH: settings.import_max_body_bytes},
    )
    app.state.measurement_writer = measurement_writer(app.state)
    return app


app = build_app()
