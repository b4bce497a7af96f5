"""The scheduler that looks for missed reporting deadlines, on the app's clock."""

import asyncio

from fastapi import FastAPI

from common.db import UnitOfWork
from common.logging import get_logger
from indicators.measurements.service import driver_connection
from indicators.overdue.service import announce_overdue

log = get_logger(__name__)


class OverdueScanner:
    """Every OVERDUE_SCAN_INTERVAL_SECONDS, announces periods past their deadline (once each)."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the scan in progress and return."""
        self._stopping.set()

    async def scan_once(self) -> int:
        """One scan in its own transaction; returns how many reports became overdue."""
        state = self._app.state
        async with UnitOfWork(state.sessions, source=state.settings.service_name) as uow:
            conn = await driver_connection(uow.session)
            announced = await announce_overdue(
                conn,
                state.clock.now().date(),
                state.settings.report_deadline_days,
                state.settings.service_name,
            )
            await uow.commit()
        return announced

    async def run(self) -> None:
        """Scan until stopped; a failed scan is logged and retried at the next interval."""
        interval = self._app.state.settings.overdue_scan_interval_seconds
        while not self._stopping.is_set():
            try:
                await self.scan_once()
            except Exception as exc:  # the scheduler must outlive a database outage
                log.warning("overdue scan failed", error=repr(exc))
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=interval)
            except TimeoutError:
                pass
