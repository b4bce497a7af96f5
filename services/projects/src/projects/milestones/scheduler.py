"""The worker that reports milestones whose due date passed, once each, across restarts."""

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from common.clock import Clock
from common.db import UnitOfWork
from common.workers import PeriodicWorker
from projects.config import Settings
from projects.milestones.service import local_date, mark_overdue


class MilestoneOverdueScheduler(PeriodicWorker):
    """Every interval, marks pending milestones past their due date missed and emits the event.

    The state lives in the database (a missed milestone is never pending again unless it is
    rescheduled), so a restart neither repeats nor loses an overdue event.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        source: str,
        interval: float,
        batch_size: int,
        timezone: str,
    ) -> None:
        super().__init__(interval=interval)
        self._sessions = sessions
        self._clock = clock
        self._source = source
        self._batch_size = batch_size
        self._timezone = timezone

    async def tick(self) -> None:
        """One scan."""
        await self.scan()

    async def scan(self) -> int:
        """Mark every overdue milestone, a batch per transaction; returns how many."""
        now = self._clock.now()
        today = local_date(now, self._timezone)
        total = 0
        while not self.stopping:
            async with UnitOfWork(self._sessions, source=self._source) as uow:
                marked = await mark_overdue(uow, today, now, self._batch_size)
                await uow.commit()
            total += marked
            if marked < self._batch_size:
                break
        return total


def milestone_overdue_scheduler(app: FastAPI) -> MilestoneOverdueScheduler:
    """The worker factory create_app calls once the database is open."""
    settings: Settings = app.state.settings
    return MilestoneOverdueScheduler(
        app.state.sessions,
        app.state.clock,
        source=settings.service_name,
        interval=settings.milestone_overdue_interval_seconds,
        batch_size=settings.milestone_overdue_batch_size,
        timezone=settings.milestone_timezone,
    )
