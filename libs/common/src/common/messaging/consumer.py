"""Consumer runner: explicit subscriptions, inbox deduplication, retries and a dead-letter topic."""

import asyncio
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.types import Uuid
from sqlmodel.ext.asyncio.session import AsyncSession

from common import metrics
from common.db import UnitOfWork
from common.events import IntegrationEvent
from common.messaging.cloudevents import Envelope, MalformedEvent, decode
from common.messaging.kafka import backoff_seconds, create_producer

log = structlog.get_logger(__name__)

# The inbox: an event id already there was applied before, by this consumer.
_CLAIM = text(
    "INSERT INTO processed_events (consumer, event_id) "
    "SELECT :consumer, id FROM unnest(:ids) AS claimed(id) "
    "ON CONFLICT DO NOTHING RETURNING event_id"
).bindparams(bindparam("ids", type_=ARRAY(Uuid)))

Handler = Callable[[Envelope, UnitOfWork], Awaitable[None]]

# How long a commit of offsets may take before it is given up (the records are read again).
COMMIT_TIMEOUT_SECONDS = 10.0


def _advance(applied: dict[TopicPartition, int], records: list[ConsumerRecord]) -> None:
    """Note the next offset to commit of each partition these records came from; a partition
    read again after a rebalance never moves it back."""
    for record in records:
        tp = _partition(record)
        applied[tp] = max(applied.get(tp, 0), record.offset + 1)


def _partition(record: ConsumerRecord) -> TopicPartition:
    return TopicPartition(record.topic, record.partition)


def _flatten(lanes: list[list[ConsumerRecord]]) -> list[ConsumerRecord]:
    return [record for lane in lanes for record in lane]


def _before_first(
    offsets: dict[TopicPartition, int], pending: list[ConsumerRecord]
) -> dict[TopicPartition, int]:
    """Next offsets to commit that stop at each partition's first pending record."""
    first: dict[TopicPartition, int] = {}
    for record in pending:
        tp = _partition(record)
        first[tp] = min(first.get(tp, record.offset), record.offset)
    return {tp: min(offset, first.get(tp, offset)) for tp, offset in offsets.items()}


def _merge(applied: dict[TopicPartition, int], offsets: dict[TopicPartition, int]) -> None:
    """Note next offsets to commit, never moving a partition's back."""
    for tp, offset in offsets.items():
        applied[tp] = max(applied.get(tp, 0), offset)


# Whether an event is one someone waits to hear about: always, never, or as its data says.
Urgency = bool | Callable[[Any], bool]


@dataclass(frozen=True)
class Subscription:
    """One event contract and the handler that applies it (read from the contract's topic).

    An `urgent` event (one that may email someone at once) is applied, with the records of its
    key before it in the same fetch, before the rest of that fetch.
    """

    event: type[IntegrationEvent]
    handler: Handler
    topic: str | None = None
    urgent: Urgency = False

    @property
    def source_topic(self) -> str:
        """Where the events are read: the contract's topic unless another one is named."""
        return self.topic or self.event.topic


class TransientError(Exception):
    """An error worth retrying forever (a dependency is down), never dead-lettered."""


# Failures of infrastructure rather than of the message: retried until they pass.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    OperationalError,
    InterfaceError,
)


# A deadlock or a serialization failure says nothing of the message: PostgreSQL rolled the
# transaction back for its timing, and the same work passes when tried again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(exc: BaseException) -> bool:
    """Whether an exception means 'try again later' rather than 'this message is bad'."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if getattr(getattr(exc, "orig", exc), "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, TRANSIENT_ERRORS)


def dead_letter_topic(topic: str) -> str:
    """Where poison messages of a topic go."""
    return f"{topic}.dlt"


class ConsumerRunner:
    """Applies each event once in effect: handler and inbox row commit together, then the offset."""

    def __init__(
        self,
        *,
        name: str,
        subscriptions: Sequence[Subscription],
        sessions: async_sessionmaker[AsyncSession],
        bootstrap_servers: list[str],
        source: str,
        group_id: str | None = None,
        auto_offset_reset: str = "earliest",
        max_attempts: int = 3,
        max_backoff: float = 30.0,
        max_batch: int = 200,
        commit_interval: float = 1.0,
        consumer_options: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self._handlers = {s.event.type: s.handler for s in subscriptions}
        self._urgency = {s.event.type: s.urgent for s in subscriptions if s.urgent}
        if len(self._handlers) != len(subscriptions):
            raise ValueError("one handler per event type")
        self._topics = sorted({s.source_topic for s in subscriptions})
        self._sessions = sessions
        self._bootstrap_servers = bootstrap_servers
        self._source = source
        self._group_id = group_id or name
        self._auto_offset_reset = auto_offset_reset
        self._max_attempts = max_attempts
        self._max_backoff = max_backoff
        self._max_batch = max_batch
        self._commit_interval = commit_interval
        self._consumer_options = consumer_options or {}
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()

    def stop(self) -> None:
        """Finish the record in flight, commit offsets and return."""
        self._stopping.set()

    async def run(self) -> None:
        """Consume until stopped, reconnecting while Kafka is away."""
        failures = 0
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                *self._topics,
                bootstrap_servers=self._bootstrap_servers,
                group_id=self._group_id,
                client_id=f"{self._source}-{self.name}",
                enable_auto_commit=False,
                auto_offset_reset=self._auto_offset_reset,
                isolation_level="read_committed",
                **self._consumer_options,
            )
            producer = create_producer(self._bootstrap_servers, f"{self._source}-{self.name}-dlt")
            try:
                await consumer.start()
                await producer.start()
                failures = 0
                log.info("consumer started", consumer=self.name, topics=self._topics)
                await self._consume(consumer, producer)
            except KafkaError as exc:
                failures += 1
                delay = backoff_seconds(failures, self._max_backoff)
                log.warning(
                    "consumer waiting for Kafka",
                    consumer=self.name,
                    error=repr(exc),
                    retry_in=delay,
                )
                await self._sleep(delay)
            finally:
                await asyncio.gather(consumer.stop(), producer.stop(), return_exceptions=True)
        log.info("consumer stopped", consumer=self.name)

    async def _consume(self, consumer: AIOKafkaConsumer, producer) -> None:
        # Offsets are committed at most once per `commit_interval`, and when the consumer stops:
        # a commit is a round trip to the group coordinator on the way to the next fetch, and
        # the inbox already makes a record applied but not yet committed harmless to receive
        # again (after a crash or a rebalance, at most that interval's records are read twice).
        uncommitted: dict[TopicPartition, int] = {}
        committed_at = time.monotonic()
        try:
            while not self._stopping.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=self._max_batch)
                if not self.ready.is_set() and consumer.assignment():
                    # Resolve every start position first: with `latest`, a position resolved
                    # only at the next fetch would skip what is published once the runner says
                    # ready.
                    starts = {tp: await consumer.position(tp) for tp in consumer.assignment()}
                    # Committed at once (where this fetch starts, not past it): with `latest`, a
                    # consumer killed before its first periodic commit would otherwise restart
                    # at the end, past what it never applied.
                    starts.update({tp: records[0].offset for tp, records in batches.items()})
                    await self._commit(consumer, starts)
                    committed_at = time.monotonic()
                    self.ready.set()
                everything = [record for records in batches.values() for record in records]
                if not await self._apply_fetch(producer, everything, uncommitted):
                    return  # stopping while a transient error was being retried
                for tp, records in batches.items():
                    self._report_lag(consumer, tp, records[-1].offset + 1)
                if uncommitted and time.monotonic() - committed_at >= self._commit_interval:
                    await self._commit(consumer, uncommitted)
                    committed_at = time.monotonic()
        finally:
            if uncommitted:
                await self._commit(consumer, uncommitted)

    async def _commit(self, consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int]) -> None:
        """Commit the applied offsets of the partitions still assigned, then forget them all.

        Best effort: a commit refused by a rebalance, or not answered while Kafka is away, only
        means those records are read again, and the inbox skips them. Waiting for it would hold
        up the next fetch, or the stop.
        """
        owned = consumer.assignment()
        mine = {tp: offset for tp, offset in offsets.items() if tp in owned}
        offsets.clear()
        if not mine:
            return
        try:
            await asyncio.wait_for(consumer.commit(mine), timeout=COMMIT_TIMEOUT_SECONDS)
        except (KafkaError, TimeoutError) as exc:
            log.warning("offsets not committed", consumer=self.name, error=repr(exc))

    async def _apply_fetch(
        self,
        producer,
        records: list[ConsumerRecord],
        applied: dict[TopicPartition, int],
    ) -> bool:
        """Apply a fetch, its urgent events (with their keys' records before them) first and
        committed on their own.

        An email about a problem then waits for its own event and what preceded it rather than
        for every routine record fetched with it. Each key keeps its order; Kafka promises no
        other (two keys may as well sit in two partitions). The fetch's offsets reach `applied`
        once all of it is applied. After a stop in between, each partition's offset stops at its
        first record not yet done (the inbox skips what is read again). False only if stopping
        interrupted a retry.
        """
        lanes = self._lanes(records)
        fetched: dict[TopicPartition, int] = {}
        for number, lane in enumerate(lanes):
            done: dict[TopicPartition, int] = {}
            finished = await self._apply_run(producer, lane, done)
            _merge(fetched, done)
            if not finished:
                # A lane is applied in order, so what is left of it is its records past `done`.
                left = [r for r in lane if r.offset >= done.get(_partition(r), 0)]
                _merge(applied, _before_first(fetched, left + _flatten(lanes[number + 1 :])))
                return False
        _merge(applied, fetched)
        return True

    def _lanes(self, records: list[ConsumerRecord]) -> list[list[ConsumerRecord]]:
        """Each key's records up to its first urgent event, then the others, in fetch order.

        A key's later records go with the routine ones: the email an urgent event queues is
        committed without waiting for what its key did next (a missed target right after the
        status change that already told of it).
        """
        first_urgent: dict[tuple[str, bytes | None], int] = {}
        for index, record in enumerate(records):
            key = (record.topic, record.key)
            if key not in first_urgent and self._is_urgent(record):
                first_urgent[key] = index
        if not first_urgent:
            return [records]
        lanes: tuple[list[ConsumerRecord], list[ConsumerRecord]] = ([], [])
        for index, record in enumerate(records):
            head = index <= first_urgent.get((record.topic, record.key), -1)
            lanes[0 if head else 1].append(record)
        return [lane for lane in lanes if lane]

    def _is_urgent(self, record: ConsumerRecord) -> bool:
        urgency = self._urgency.get(self._event_type(record) or "", False)
        if not callable(urgency):
            return urgency
        try:
            return bool(urgency(decode(record.headers, record.value).data))
        except Exception:  # a malformed record, or one the rule cannot read: judged in its turn
            return False

    async def _apply_run(
        self,
        producer,
        records: list[ConsumerRecord],
        applied: dict[TopicPartition, int],
    ) -> bool:
        """Apply fetched records, of any partitions, in as few transactions as failures allow.

        One commit per fetch instead of per event, or per partition, is what lets a busy
        consumer keep its batches, and so its lag, short. A failing record splits the run: the
        records before it go together again, it goes alone with its own retries and
        dead-lettering, the records after it go together. Each partition's records keep their
        order, so a batch changes the cost, never the outcome. `applied` gets each partition's
        next offset to commit as records are done. False only if stopping interrupted a retry.
        """
        while records:
            failed_at = await self._apply_together(records) if len(records) > 1 else 0
            if failed_at is None:
                _advance(applied, records)
                return True
            if failed_at and not await self._apply_run(producer, records[:failed_at], applied):
                return False
            failing = records[failed_at]
            if not await self._process(failing, producer):
                return False
            _advance(applied, [failing])
            records = records[failed_at + 1 :]
        return True

    async def _apply_together(self, records: list[ConsumerRecord]) -> int | None:
        """Apply records in one transaction: None when committed, else where it failed.

        Any failure (a malformed record, a handler error, the database away) rolls every record
        back; the index is the failing record's, or 0 when the commit itself failed.
        """
        outcomes: list[tuple[str, str]] = []
        position = 0
        try:
            envelopes: list[tuple[int, Envelope]] = []
            for index, record in enumerate(records):
                position = index
                event_type = self._event_type(record)
                if event_type is not None and event_type not in self._handlers:
                    outcomes.append((event_type, "ignored"))
                else:
                    envelopes.append((index, decode(record.headers, record.value)))
            position = 0
            async with UnitOfWork(self._sessions, source=self._source) as uow:
                # One inbox statement for the whole batch instead of one per event.
                unclaimed = await self._claim(uow, [envelope.id for _, envelope in envelopes])
                for index, envelope in envelopes:
                    position = index
                    if envelope.id not in unclaimed:
                        outcomes.append((envelope.type, "duplicate"))
                        continue
                    unclaimed.discard(envelope.id)  # the same event twice in one batch
                    await self._handlers[envelope.type](envelope, uow)
                    outcomes.append((envelope.type, "applied"))
                    # Each handler reads the database afresh, as it would in a transaction
                    # of its own, rather than objects an earlier handler left in the session.
                    await uow.session.flush()
                    uow.session.expunge_all()
                position = 0
                await uow.commit()
        except Exception as exc:
            log.info(
                "batch split at a failing record",
                consumer=self.name,
                records=len(records),
                failed_at=position,
                error=repr(exc),
            )
            return position
        for event_type, outcome in outcomes:
            metrics.CONSUMED.labels(self.name, event_type, outcome).inc()
        log.info("events consumed", consumer=self.name, count=len(records))
        return None

    @staticmethod
    def _event_type(record: ConsumerRecord) -> str | None:
        value = next((v for k, v in record.headers or [] if k == "ce_type"), None)
        return value.decode(errors="replace") if value else None

    async def _process(self, record: ConsumerRecord, producer) -> bool:
        """Apply one record; False only if stopping interrupted its retries."""
        event_type = self._event_type(record)
        if event_type is not None and event_type not in self._handlers:
            # Another consumer's event, or a newer producer's type this build does not know yet:
            # not ours to judge, so it is neither decoded nor dead-lettered.
            metrics.CONSUMED.labels(self.name, event_type, "ignored").inc()
            return True
        try:
            envelope = decode(record.headers, record.value)
        except MalformedEvent as exc:
            await self._dead_letter(producer, record, exc, attempts=1)
            return True
        attempts = 0
        with structlog.contextvars.bound_contextvars(
            event_id=str(envelope.id), event_type=envelope.type, request_id=envelope.request_id
        ):
            while True:
                attempts += 1
                try:
                    outcome = await self._apply(envelope)
                    metrics.CONSUMED.labels(self.name, envelope.type, outcome).inc()
                    log.info("event consumed", consumer=self.name, outcome=outcome)
                    return True
                except Exception as exc:
                    transient = is_transient(exc)
                    if not transient and attempts >= self._max_attempts:
                        await self._dead_letter(producer, record, exc, attempts)
                        return True
                    metrics.CONSUMED.labels(self.name, envelope.type, "retried").inc()
                    delay = backoff_seconds(attempts, self._max_backoff)
                    log.warning(
                        "event handling failed, retrying",
                        consumer=self.name,
                        error=repr(exc),
                        attempts=attempts,
                        transient=transient,
                        retry_in=delay,
                    )
                    if await self._sleep(delay):
                        return False

    async def _apply(self, envelope: Envelope) -> str:
        async with UnitOfWork(self._sessions, source=self._source) as uow:
            if not await self._claim(uow, [envelope.id]):
                return "duplicate"
            await self._handlers[envelope.type](envelope, uow)
            await uow.commit()
            return "applied"

    async def _claim(self, uow: UnitOfWork, event_ids: list[UUID]) -> set[UUID]:
        """Record events in the inbox; returns those not applied before (to be handled now)."""
        if not event_ids:
            return set()
        claimed = await uow.session.exec(_CLAIM, params={"consumer": self.name, "ids": event_ids})
        return set(claimed.scalars().all())

    async def _dead_letter(
        self, producer, record: ConsumerRecord, exc: BaseException, attempts: int
    ) -> None:
        topic = dead_letter_topic(record.topic)
        headers = list(record.headers or []) + [
            ("dlt_original_topic", record.topic.encode()),
            ("dlt_original_partition", str(record.partition).encode()),
            ("dlt_original_offset", str(record.offset).encode()),
            ("dlt_consumer", self.name.encode()),
            ("dlt_exception", type(exc).__name__.encode()),
            ("dlt_exception_message", str(exc)[:2000].encode()),
            ("dlt_exception_stacktrace", "".join(traceback.format_exception(exc))[-4000:].encode()),
            ("dlt_attempts", str(attempts).encode()),
        ]
        # The DLT write must succeed before the offset moves on, or the record would be lost.
        await producer.send_and_wait(topic, value=record.value, key=record.key, headers=headers)
        metrics.DEAD_LETTERED.labels(self.name, record.topic).inc()
        metrics.CONSUMED.labels(self.name, "unknown", "dead_lettered").inc()
        log.error(
            "event dead-lettered",
            consumer=self.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=repr(exc),
            attempts=attempts,
        )

    def _report_lag(self, consumer: AIOKafkaConsumer, tp: TopicPartition, position: int) -> None:
        highwater = consumer.highwater(tp)
        if highwater is not None:
            lag = max(0, highwater - position)
            metrics.CONSUMER_LAG.labels(self.name, tp.topic, str(tp.partition)).set(lag)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopping; True when stopping cut it short."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
            return True
        except TimeoutError:
            return False
