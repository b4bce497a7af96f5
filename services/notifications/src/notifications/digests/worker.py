"""The digest worker: builds the day's digests once their time has come."""

from datetime import time

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from common.workers import PeriodicWorker
from notifications.digests.service import build_due
from notifications.policy import Policy


class DigestWorker(PeriodicWorker):
    """Writes each due digest as a delivery, in one transaction per round."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        policy: Policy,
        *,
        at: time,
        interval: float,
    ) -> None:
        super().__init__(interval=interval)
        self._sessions = sessions
        self._policy = policy
        self._at = at

    async def tick(self) -> None:
        """Build today's digests if their time has come and they are not built yet."""
        async with self._sessions() as session, session.begin():
            await build_due(session, self._policy, self._at)
