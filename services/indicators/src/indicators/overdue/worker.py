"""The scheduler that looks for missed reporting deadlines, on the app's clock."""

from fastapi import FastAPI

from common.db import UnitOfWork
from common.workers import PeriodicWorker
from indicators.measurements.service import driver_connection
from indicators.overdue.service import announce_overdue


class OverdueScanner(PeriodicWorker):
    """Every OVERDUE_SCAN_INTERVAL_SECONDS, announces periods past their deadline (once each)."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(interval=app.state.settings.overdue_scan_interval_seconds)
        self._app = app

    async def tick(self) -> None:
        """One scan in its own transaction."""
        state = self._app.state
        async with UnitOfWork(state.sessions, source=state.settings.service_name) as uow:
            conn = await driver_connection(uow.session)
            await announce_overdue(
                conn,
                state.clock.now().date(),
                state.settings.report_deadline_days,
                state.settings.service_name,
            )
            await uow.commit()
