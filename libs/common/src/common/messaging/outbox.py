"""Transactional outbox: events are rows committed with the state change, relayed to Kafka."""

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from common import metrics
from common.events import IntegrationEvent
from common.messaging.cloudevents import attributes_for, encode_headers
from common.messaging.kafka import backoff_seconds, create_producer
from common.messaging.models import OutboxMessage
from common.workers import NotifyListener

NOTIFY_CHANNEL = "outbox_messages"
# One relay per database publishes at a time, so events of one key keep their commit order
# even when a service runs several replicas.
RELAY_LOCK_ID = 0x6F7574626F78

log = structlog.get_logger(__name__)


def add_to_outbox(session: AsyncSession, event: IntegrationEvent, *, source: str) -> OutboxMessage:
    """Stage an event in the caller's transaction."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    headers = attributes_for(event, source=source, request_id=request_id)
    message = OutboxMessage(
        event_id=headers["ce_id"],
        topic=event.topic,
        key=event.aggregate_id,
        event_type=event.type,
        headers=headers,
        payload=event.model_dump(mode="json"),
    )
    session.add(message)
    log.debug("event staged", event_id=headers["ce_id"], event_type=event.type)
    return message


class OutboxRelay:
    """Publishes committed outbox rows to Kafka, woken by NOTIFY with a polling fallback."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        dsn: str,
        bootstrap_servers: list[str],
        client_id: str,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        max_backoff: float = 30.0,
        retention: timedelta = timedelta(days=7),
        linger: float = 0.0,
    ) -> None:
        self._engine = engine
        self._dsn = dsn
        self._bootstrap_servers = bootstrap_servers
        self._client_id = client_id
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_backoff = max_backoff
        self._retention = retention
        self._linger = linger
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._last_gauges = self._last_prune = datetime.now(UTC)
        # When the relay last published something (monotonic seconds): it lingers only while
        # commits keep coming, never for the first commit after a quiet spell.
        self._published_at = float("-inf")

    def stop(self) -> None:
        """Ask the relay to finish its current batch and return."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Relay until stopped; Kafka or database outages are waited out, never lost."""
        listener = asyncio.create_task(
            NotifyListener(
                self._dsn, NOTIFY_CHANNEL, self._wake.set, max_backoff=self._max_backoff
            ).run()
        )
        failures = 0
        try:
            while not self._stopping.is_set():
                try:
                    producer = await self._ensure_producer()
                    published = await self.publish_batch(producer)
                    if published:
                        self.published(time.monotonic())
                    failures = 0
                    await self._housekeeping()
                    if published == self._batch_size:
                        continue
                    await self._sleep(self._poll_interval)
                except (
                    TimeoutError,
                    KafkaError,
                    OSError,
                    asyncpg.PostgresError,
                    DBAPIError,
                ) as exc:
                    failures += 1
                    metrics.OUTBOX_FAILURES.inc()
                    delay = backoff_seconds(failures, self._max_backoff)
                    log.warning("outbox relay waiting", error=repr(exc), retry_in=delay)
                    await self._drop_producer()
                    await self._sleep(delay)
                except Exception as exc:  # the relay must outlive unexpected errors
                    failures += 1
                    delay = backoff_seconds(failures, self._max_backoff)
                    log.exception("outbox relay error", error=repr(exc), retry_in=delay)
                    await self._sleep(delay)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
            await self._drop_producer()

    async def publish_batch(self, producer: AIOKafkaProducer) -> int:
        """Publish the oldest pending rows in commit order; returns how many were published."""
        async with self._engine.begin() as conn:
            locked = await conn.scalar(select(func.pg_try_advisory_xact_lock(RELAY_LOCK_ID)))
            if not locked:
                return 0
            rows = (
                await conn.execute(
                    select(
                        OutboxMessage.seq,
                        OutboxMessage.topic,
                        OutboxMessage.key,
                        OutboxMessage.headers,
                        OutboxMessage.payload,
                    )
                    .where(OutboxMessage.published_at.is_(None))
                    .order_by(OutboxMessage.seq)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            sends = [
                await producer.send(
                    row.topic,
                    value=json.dumps(row.payload, ensure_ascii=False).encode(),
                    key=row.key.encode(),
                    headers=encode_headers(row.headers),
                )
                for row in rows
            ]
            results = await asyncio.gather(*sends, return_exceptions=True)
            # Stop at the first failure: rows after it wait so that per-key order survives.
            done = []
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    await conn.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.seq == row.seq)
                        .values(attempts=OutboxMessage.attempts + 1, last_error=repr(result)[:1000])
                    )
                    if done:
                        await self._mark_published(conn, done)
                    raise result
                done.append(row)
            await self._mark_published(conn, done)
            return len(done)

    async def _mark_published(self, conn, rows) -> None:
        await conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.seq.in_([r.seq for r in rows]))
            .values(published_at=func.now(), attempts=OutboxMessage.attempts + 1, last_error=None)
        )
        for row in rows:
            metrics.OUTBOX_PUBLISHED.labels(row.topic).inc()
            log.info(
                "event published",
                event_id=row.headers.get("ce_id"),
                topic=row.topic,
                event_type=row.headers.get("ce_type"),
                request_id=row.headers.get("ce_requestid"),
            )

    async def _housekeeping(self) -> None:
        """Refresh backlog gauges every second and prune old published rows every ten minutes."""
        now = datetime.now(UTC)
        if now - self._last_gauges < timedelta(seconds=1):
            return
        self._last_gauges = now
        prune = now - self._last_prune > timedelta(minutes=10)
        if prune:
            self._last_prune = now
        async with self._engine.begin() as conn:
            count, oldest = (
                await conn.execute(
                    select(func.count(), func.min(OutboxMessage.created_at)).where(
                        OutboxMessage.published_at.is_(None)
                    )
                )
            ).one()
            metrics.OUTBOX_BACKLOG.set(count)
            metrics.OUTBOX_OLDEST_AGE.set((now - oldest).total_seconds() if oldest else 0)
            if prune:
                await conn.execute(
                    delete(OutboxMessage).where(OutboxMessage.published_at < now - self._retention)
                )

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = create_producer(self._bootstrap_servers, self._client_id)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
            log.info("outbox relay connected to Kafka")
        return self._producer

    async def _drop_producer(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            try:
                await producer.stop()  # flushes what is still buffered
            except Exception as exc:
                log.warning("producer stop failed", error=repr(exc))

    def lingers(self, now: float) -> bool:
        """Whether a commit waking the relay at `now` (monotonic) waits for the ones after it:
        only while the relay is busy, having published within the last `linger` seconds."""
        return now - self._published_at < self._linger

    def published(self, now: float) -> None:
        """Note that the relay published at `now` (monotonic)."""
        self._published_at = now

    async def _sleep(self, seconds: float) -> None:
        """Sleep until woken by NOTIFY, stop(), or the timeout.

        Woken by a commit while busy (something was published within the last `linger`
        seconds), linger so that the commits of a stream leave in one batch rather than one
        relay transaction each; the first commit after a quiet spell is published at once.
        """
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        except TimeoutError:
            pass
        else:
            if self.lingers(time.monotonic()) and not self._stopping.is_set():
                try:
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._linger)
                except TimeoutError:
                    pass
        self._wake.clear()
