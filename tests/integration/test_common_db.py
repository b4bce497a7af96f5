"""The engine's connection pool against the real PostgreSQL: a connection that died while idle
is replaced before use; one in steady use is not pinged, and its death is noticed by the
statement that meets it."""

from contextlib import asynccontextmanager

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from common import db
from common.db import create_engine

pytestmark = pytest.mark.integration


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def one_connection_pool(database_factory, monkeypatch, ping_after_idle: float):
    """A pool of one connection whose idle limit the test chooses."""
    url = await database_factory("projects")
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", ping_after_idle)
    engine = create_engine(url, pool_size=1)
    try:
        yield url, engine
    finally:
        await engine.dispose()


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(text("SELECT pg_backend_pid()"))


async def terminate(url: str, pid: int) -> None:
    conn = await asyncpg.connect(plain(url))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_a_connection_killed_while_idle_is_replaced_before_use(database_factory, monkeypatch):
    # Every checkin counts as long idle: the next checkout pings.
    async with one_connection_pool(database_factory, monkeypatch, 0.0) as (url, engine):
        killed = await backend_pid(engine)
        await terminate(url, killed)
        assert await backend_pid(engine) != killed


async def test_a_connection_in_steady_use_is_not_pinged_and_a_dead_one_is_replaced_after_failing(
    database_factory, monkeypatch
):
    async with one_connection_pool(database_factory, monkeypatch, 3600.0) as (url, engine):
        killed = await backend_pid(engine)
        await terminate(url, killed)
        # Not pinged: the first statement meets the dead connection.
        with pytest.raises(DBAPIError) as failure:
            await backend_pid(engine)
        assert failure.value.connection_invalidated
        assert await backend_pid(engine) != killed
