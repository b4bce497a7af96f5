"""Periodic workers woken by PostgreSQL NOTIFY before their interval is up, against the real
PostgreSQL; the intervals are an hour, so only a NOTIFY can start a second tick in a test."""

import asyncio
from contextlib import asynccontextmanager
from uuid import uuid4

import asyncpg
import pytest

from common.workers import PeriodicWorker, WakeChannel

pytestmark = pytest.mark.integration

AN_HOUR = 3600.0
# Generous bounds for a shared machine; far below the interval all the same.
WAIT = 60.0


class TickRecorder(PeriodicWorker):
    """Counts its ticks into a queue the test reads."""

    def __init__(self, wake_channel: WakeChannel) -> None:
        super().__init__(interval=AN_HOUR, wake_channel=wake_channel)
        self.ticks: asyncio.Queue[int] = asyncio.Queue()
        self._count = 0

    async def tick(self) -> None:
        self._count += 1
        await self.ticks.put(self._count)


@asynccontextmanager
async def running(worker: PeriodicWorker):
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, WAIT)


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def notify(dsn: str, channel: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_notify($1, '')", channel)
    finally:
        await conn.close()


async def test_a_notify_starts_the_next_tick_before_the_interval(database_factory):
    dsn = plain(await database_factory("projects"))
    channel = f"test_{uuid4().hex}"
    async with running(TickRecorder(WakeChannel(dsn, channel))) as worker:
        assert await asyncio.wait_for(worker.ticks.get(), WAIT) == 1  # the tick at start
        await asyncio.wait_for(worker.listener.listening.wait(), WAIT)
        await notify(dsn, f"other_{channel}")
        await notify(dsn, channel)
        assert await asyncio.wait_for(worker.ticks.get(), WAIT) == 2
        assert worker.notifications == 1


LISTENERS = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    " AND pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
)


async def test_the_listener_comes_back_after_its_connection_is_killed(database_factory):
    dsn = plain(await database_factory("projects"))
    channel = f"test_{uuid4().hex}"
    async with running(TickRecorder(WakeChannel(dsn, channel))) as worker:
        await asyncio.wait_for(worker.ticks.get(), WAIT)
        await asyncio.wait_for(worker.listener.listening.wait(), WAIT)
        conn = await asyncpg.connect(dsn)
        try:
            [killed] = [row["pid"] for row in await conn.fetch(LISTENERS)]
            await conn.execute("SELECT pg_terminate_backend($1)", killed)

            async def listening_again() -> None:
                while [row["pid"] for row in await conn.fetch(LISTENERS)] in ([], [killed]):  # noqa: ASYNC110 (polls the database)
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(listening_again(), WAIT)
        finally:
            await conn.close()
        await notify(dsn, channel)
        assert await asyncio.wait_for(worker.ticks.get(), WAIT) == 2
        assert worker.notifications == 1
