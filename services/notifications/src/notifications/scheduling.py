"""A worker running one job periodically in its own transaction (reminders, digests)."""

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from common.logging import get_logger

log = get_logger(__name__)

Job = Callable[[AsyncSession], Awaitable[int]]


class PeriodicJob:
    """Runs `job` every `interval` seconds; the job's work commits as one transaction."""

    def __init__(
        self, name: str, sessions: async_sessionmaker[AsyncSession], job: Job, interval: float
    ) -> None:
        self.name = name
        self._sessions = sessions
        self._job = job
        self._interval = interval
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Return after the current run."""
        self._stopping.set()

    async def run_once(self) -> int:
        """One run of the job; returns how many items it handled."""
        async with self._sessions() as session, session.begin():
            return await self._job(session)

    async def run(self) -> None:
        """Run until stopped; a failing run is logged and tried again next time."""
        log.info("scheduled job started", job=self.name)
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # the schedule must outlive any single failure
                log.exception("scheduled job failed", job=self.name, error=repr(exc))
            try:
                await asyncio.wait_for(self._stopping.wait(), self._interval)
            except TimeoutError:
                pass
        log.info("scheduled job stopped", job=self.name)
