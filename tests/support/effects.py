"""A consumer whose effect is a row per applied event, to count 'exactly once in effect'.

Run as a script it consumes until killed and prints `ready` once it holds its partitions:
    python -m tests.support.effects DATABASE_URL GROUP_ID [TOPIC]
EFFECTS_COMMIT_INTERVAL_SECONDS (1) sets how often it commits offsets.
"""

import asyncio
import os
import sys

import asyncpg
import structlog
from sqlalchemy import text

from common.db import UnitOfWork, create_engine, session_factory
from common.events import DepartmentUpserted
from common.messaging.cloudevents import Envelope
from common.messaging.consumer import ConsumerRunner, Subscription, TransientError, Urgency
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS

EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS effects (id bigserial PRIMARY KEY, event_id uuid, subject text)"
)
# Departments with these short names make the handler fail, to exercise retries and the DLT.
POISON = "poison"
FLAKY_PREFIX = "flaky-"
_flaky_failures: dict[str, int] = {}


async def create_effects_table(dsn: str) -> None:
    """Create the effects table in the consumer's database."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(EFFECTS_DDL)
    finally:
        await conn.close()


async def count_effects(dsn: str, subjects: set[str]) -> tuple[int, int]:
    """(rows, distinct subjects) among the given subjects."""
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow(
            "SELECT count(*) AS n, count(DISTINCT subject) AS d FROM effects "
            "WHERE subject = ANY($1::text[])",
            list(subjects),
        )
    finally:
        await conn.close()
    return row["n"], row["d"]


async def record_effect(envelope: Envelope, uow: UnitOfWork) -> None:
    """Apply a department event: one effects row, unless the test asked for a failure."""
    short_name = envelope.data.short_name
    if short_name == POISON:
        raise ValueError("this department can never be applied")
    if short_name.startswith(FLAKY_PREFIX):
        failures = _flaky_failures.get(envelope.subject, 0)
        if failures < int(short_name.removeprefix(FLAKY_PREFIX)):
            _flaky_failures[envelope.subject] = failures + 1
            raise TransientError("dependency down")
    # Slow enough that a kill lands in the middle of a batch.
    await asyncio.sleep(0.005)
    await uow.session.exec(
        text("INSERT INTO effects (event_id, subject) VALUES (:event_id, :subject)"),
        params={"event_id": envelope.id, "subject": envelope.subject},
    )


def effects_runner(
    database_url: str,
    group_id: str,
    topic: str | None = None,
    bootstrap_servers: str = KAFKA_BOOTSTRAP_SERVERS,
    auto_offset_reset: str = "latest",
    max_batch: int = 200,
    commit_interval: float = 1.0,
    urgent: Urgency = False,
) -> ConsumerRunner:
    """A consumer runner applying DepartmentUpserted events as effects rows."""
    return ConsumerRunner(
        name=group_id,
        subscriptions=[Subscription(DepartmentUpserted, record_effect, topic=topic, urgent=urgent)],
        sessions=session_factory(create_engine(database_url, pool_size=2)),
        bootstrap_servers=[bootstrap_servers],
        source="effects",
        auto_offset_reset=auto_offset_reset,
        max_attempts=2,
        max_backoff=0.2,
        max_batch=max_batch,
        commit_interval=commit_interval,
    )


async def _main(database_url: str, group_id: str, topic: str | None) -> None:
    # stdout carries only the `ready` handshake; logs must not fill a pipe nobody reads.
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    commit_interval = float(os.environ.get("EFFECTS_COMMIT_INTERVAL_SECONDS", "1"))
    runner = effects_runner(database_url, group_id, topic, commit_interval=commit_interval)
    task = asyncio.create_task(runner.run())
    await runner.ready.wait()
    print("ready", flush=True)
    await task


if __name__ == "__main__":
    asyncio.run(_main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
