"""The reminder worker: re-sends open, unacknowledged problem alerts when their time comes."""

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from common.workers import PeriodicWorker
from notifications.alerts.service import remind_due
from notifications.policy import Policy


class ReminderWorker(PeriodicWorker):
    """Queues due reminders, in one transaction per round."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], policy: Policy, *, interval: float
    ) -> None:
        super().__init__(interval=interval)
        self._sessions = sessions
        self._policy = policy

    async def tick(self) -> None:
        """Queue every reminder that is due by the service clock."""
        async with self._sessions() as session, session.begin():
            await remind_due(session, self._policy)
