"""Helpers for the indicators service's integration tests: the service, a clock, a producer."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from common.clock import ManualClock
from common.db import UnitOfWork, create_engine, session_factory
from common.events import IntegrationEvent
from common.messaging.consumer import ConsumerRunner
from common.messaging.outbox import OutboxRelay
from indicators.config import Settings
from indicators.main import build_app
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.services import RunningService


def dsn(url: str) -> str:
    """The plain libpq form of a SQLAlchemy asyncpg URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def indicators_service(database_url: str, clock: ManualClock, **overrides: Any) -> RunningService:
    """The indicators service on a fresh database, fast scanners, its own consumer group."""
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS,
        kafka_consumer_group=f"test-{uuid4().hex}",
        kafka_auto_offset_reset="latest",
        outbox_poll_interval_seconds=0.2,
        overdue_scan_interval_seconds=0.2,
        log_json=False,
        **overrides,
    )
    return RunningService(lambda: build_app(settings, clock=clock))


async def consumer_ready(service: RunningService, timeout: float = 30) -> None:
    """Wait until the service's consumer holds its partitions (it reads from 'latest')."""
    runner = next(w for w in service.app.state.workers if isinstance(w, ConsumerRunner))
    await asyncio.wait_for(runner.ready.wait(), timeout)


def clock_at(year: int, month: int, day: int) -> ManualClock:
    """A manual clock at noon UTC of a day."""
    return ManualClock(datetime(year, month, day, 12, tzinfo=UTC))


def indicator_body(**fields: Any) -> dict[str, Any]:
    """A valid indicator definition with a unique name; fields override."""
    body = {
        "project_id": str(uuid4()),
        "name": f"Доля школ с доступом в Интернет {uuid4().hex[:8]}",
        "unit": "%",
        "direction": "higher_is_better",
        "frequency": "quarterly",
        "targets": {"2022": 40, "2023": 60, "2024": 80},
        "tolerance_percent": 5,
        "region": "leningrad-oblast",
    }
    body.update(fields)
    return body


def measurement(period: str, value: Any, **fields: Any) -> dict[str, Any]:
    """A measurement body."""
    return {"period": period, "value": value, "reported_by": "КЦР", **fields}


@asynccontextmanager
async def projects_producer(database_url: str) -> AsyncIterator["Producer"]:
    """A projects-like outbox: events committed to a throwaway database, relayed to Kafka."""
    engine = create_engine(database_url, pool_size=2)
    relay = OutboxRelay(
        engine,
        dsn=dsn(database_url),
        bootstrap_servers=[KAFKA_BOOTSTRAP_SERVERS],
        client_id="test-projects-relay",
        poll_interval=0.2,
        max_backoff=1.0,
    )
    task = asyncio.create_task(relay.run())
    try:
        yield Producer(session_factory(engine))
    finally:
        relay.stop()
        await asyncio.wait_for(task, 60)
        await engine.dispose()


class Producer:
    """Publishes events as the projects service does: outbox rows in a committed transaction."""

    def __init__(self, sessions) -> None:
        self._sessions = sessions

    async def publish(self, *events: IntegrationEvent) -> None:
        """Commit the events to the outbox; the relay takes them to Kafka."""
        async with UnitOfWork(self._sessions, source="projects") as uow:
            for event in events:
                uow.publish(event)
            await uow.commit()


async def fetchval(database_url: str, query: str, *args: Any) -> Any:
    """One value from the service's database."""
    conn = await asyncpg.connect(dsn(database_url))
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def wait_until(condition, timeout: float = 30.0) -> None:
    """Poll an async condition until it holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


def subject(indicator_id: str | UUID) -> str:
    """The CloudEvents subject (and Kafka key) of an indicator's events."""
    return str(indicator_id)


@asynccontextmanager
async def started(service: RunningService) -> AsyncIterator[RunningService]:
    """Run a service for the duration of a block."""
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def payload(seen) -> dict[str, Any]:
    """The JSON data of a tapped record."""
    return seen.envelope.data.model_dump(mode="json")
