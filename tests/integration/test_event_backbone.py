"""The event backbone against the real PostgreSQL and Kafka: outbox → topic → consumer."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from contextlib import asynccontextmanager
from uuid import uuid4

import asyncpg
import pytest
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from common.db import UnitOfWork, create_engine, session_factory
from common.events import PROJECTS_TOPIC, DepartmentUpserted
from common.messaging.cloudevents import attributes_for, encode_headers
from common.messaging.consumer import dead_letter_topic
from common.messaging.outbox import OutboxRelay
from tests.support.broker import ThrowawayBroker
from tests.support.effects import (
    FLAKY_PREFIX,
    POISON,
    count_effects,
    create_effects_table,
    effects_runner,
)
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS, REPO
from tests.support.kafka import EventTap, of_type

pytestmark = pytest.mark.integration


def department(short_name: str = "КЦР") -> DepartmentUpserted:
    return DepartmentUpserted(
        department_id=uuid4(),
        region="leningrad-oblast",
        full_name=f"Комитет {uuid4().hex[:6]}",
        short_name=short_name,
        emails=["kcr@example.ru"],
    )


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def running(worker):
    task = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, timeout=60)


@asynccontextmanager
async def producer_side(database_url: str, bootstrap: str = KAFKA_BOOTSTRAP_SERVERS):
    """A producing service's database with its outbox relay running."""
    engine = create_engine(database_url, pool_size=2)
    relay = OutboxRelay(
        engine,
        dsn=dsn(database_url),
        bootstrap_servers=[bootstrap],
        client_id="test-relay",
        poll_interval=0.5,
        max_backoff=1.0,
    )
    async with running(relay):
        yield session_factory(engine)
    await engine.dispose()


async def stage(sessions, *events: DepartmentUpserted, commit: bool = True) -> None:
    async with UnitOfWork(sessions, source="projects") as uow:
        for event in events:
            uow.publish(event)
        if commit:
            await uow.commit()


async def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.1)


async def test_event_written_through_one_outbox_reaches_another_services_consumer(database_factory):
    projects_db = await database_factory("projects")
    notifications_db = await database_factory("notifications")
    await create_effects_table(dsn(notifications_db))
    event, abandoned = department(), department()
    runner = effects_runner(notifications_db, f"test-{uuid4().hex}")
    async with (
        EventTap(PROJECTS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        running(runner),
        producer_side(projects_db) as sessions,
    ):
        await asyncio.wait_for(runner.ready.wait(), 30)
        await stage(sessions, abandoned, commit=False)
        with structlog.contextvars.bound_contextvars(request_id="req-backbone-1"):
            await stage(sessions, event)
        [seen] = await tap.wait_for(of_type("department.upserted", str(event.department_id)))
        await wait_until(lambda: _effects_are(notifications_db, {str(event.department_id)}, (1, 1)))
        await tap.settle()

    assert seen.key == str(event.department_id).encode()
    assert seen.headers["ce_source"] == b"/services/projects"
    assert seen.envelope.request_id == "req-backbone-1"  # logs can follow the HTTP request
    assert seen.envelope.data == event
    assert not tap.matching(of_type("department.upserted", str(abandoned.department_id)))
    conn = await asyncpg.connect(dsn(projects_db))
    pending = await conn.fetchval("SELECT count(*) FROM outbox_messages WHERE published_at IS NULL")
    await conn.close()
    assert pending == 0


async def _effects_are(db: str, subjects: set[str], expected: tuple[int, int]) -> bool:
    return await count_effects(dsn(db), subjects) == expected


async def test_consumer_killed_mid_stream_applies_every_event_exactly_once(database_factory):
    projects_db = await database_factory("projects")
    consumer_db = await database_factory("notifications")
    await create_effects_table(dsn(consumer_db))
    group = f"test-kill-{uuid4().hex}"
    events = [department() for _ in range(150)]
    subjects = {str(e.department_id) for e in events}

    def spawn() -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.effects", consumer_db, group],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            # No periodic commit before the kill: the restart resumes where the killed
            # consumer said ready, and the inbox skips what it applied.
            env={**os.environ, "PYTHONPATH": str(REPO), "EFFECTS_COMMIT_INTERVAL_SECONDS": "3600"},
        )
        for line in process.stdout:  # log lines come first; `ready` once partitions are held
            if line.strip() == "ready":
                return process
        raise AssertionError("the consumer process exited before it was ready")

    consumer = await asyncio.to_thread(spawn)
    try:
        async with producer_side(projects_db) as sessions:
            for chunk in range(0, len(events), 10):
                await stage(sessions, *events[chunk : chunk + 10])

            async def some_applied() -> bool:
                return (await count_effects(dsn(consumer_db), subjects))[0] >= 30

            await wait_until(some_applied)
            consumer.send_signal(signal.SIGKILL)
            consumer.wait()
            consumer = await asyncio.to_thread(spawn)

            async def all_applied() -> bool:
                return (await count_effects(dsn(consumer_db), subjects))[1] == len(events)

            await wait_until(all_applied, timeout=120)
            await asyncio.sleep(2)  # a redelivery after the restart would show up by now
        assert await count_effects(dsn(consumer_db), subjects) == (len(events), len(events))
    finally:
        consumer.kill()
        consumer.wait()


async def test_event_accepted_while_broker_is_down_is_delivered_when_it_returns(
    database_factory, tmp_path
):
    broker = ThrowawayBroker(tmp_path)
    projects_db = await database_factory("projects")
    consumer_db = await database_factory("notifications")
    await create_effects_table(dsn(consumer_db))
    before, during = department(), department()
    await broker.start()
    try:
        async with producer_side(projects_db, broker.bootstrap) as sessions:
            async with EventTap(PROJECTS_TOPIC, bootstrap_servers=broker.bootstrap) as tap:
                await stage(sessions, before)
                await tap.wait_for(of_type("department.upserted", str(before.department_id)))
            await broker.stop()
            await stage(sessions, during)  # the API call succeeds: the event waits in the outbox
            await asyncio.sleep(2)
            conn = await asyncpg.connect(dsn(projects_db))
            waiting = await conn.fetchval(
                "SELECT count(*) FROM outbox_messages WHERE published_at IS NULL"
            )
            await conn.close()
            assert waiting == 1
            await broker.start()
            # A new group may read from the start: this broker holds only this test's events.
            consumer = effects_runner(
                consumer_db,
                f"test-{uuid4().hex}",
                bootstrap_servers=broker.bootstrap,
                auto_offset_reset="earliest",
            )
            async with running(consumer):
                await wait_until(
                    lambda: _effects_are(
                        consumer_db,
                        {str(before.department_id), str(during.department_id)},
                        (2, 2),
                    ),
                    timeout=90,
                )
    finally:
        await broker.stop()


async def test_poison_and_malformed_records_go_to_the_dlt_and_the_next_is_processed(
    database_factory,
):
    consumer_db = await database_factory("notifications")
    await create_effects_table(dsn(consumer_db))
    topic = f"test.backbone.{uuid4().hex[:10]}"
    poison, flaky, valid = department(POISON), department(f"{FLAKY_PREFIX}2"), department()
    runner = effects_runner(consumer_db, f"test-{uuid4().hex}", topic=topic)
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS)
    await producer.start()
    try:
        async with (
            EventTap(dead_letter_topic(topic), bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as dlt,
            running(runner),
        ):
            await asyncio.wait_for(runner.ready.wait(), 30)
            await producer.send_and_wait(
                topic,
                b"\xff not json",
                key=b"garbage",
                headers=[("ce_type", DepartmentUpserted.type.encode())],
            )
            # A type this build does not know (a newer producer's) is skipped, not dead-lettered.
            await producer.send_and_wait(
                topic, b"{}", key=b"newer", headers=[("ce_type", b"ru.strategy.region.renamed.v9")]
            )
            for event in (poison, flaky, valid):
                headers = encode_headers(attributes_for(event, source="projects"))
                body = json.dumps(event.model_dump(mode="json")).encode()
                await producer.send_and_wait(
                    topic, body, key=event.aggregate_id.encode(), headers=headers
                )
            await wait_until(
                lambda: _effects_are(
                    consumer_db, {str(flaky.department_id), str(valid.department_id)}, (2, 2)
                )
            )
            dead = await dlt.wait_for(lambda s: True, count=2)
            await dlt.settle()
    finally:
        await producer.stop()

    assert len(dlt.seen) == 2
    by_key = {s.key: s.headers for s in dead}
    malformed = by_key[b"garbage"]
    assert malformed["dlt_original_topic"] == topic.encode()
    assert malformed["dlt_exception"] == b"MalformedEvent"
    assert malformed["dlt_original_offset"] == b"0"
    rejected = by_key[str(poison.department_id).encode()]
    assert rejected["dlt_exception"] == b"ValueError"
    assert rejected["dlt_attempts"] == b"2"
    assert rejected["ce_type"] == b"ru.strategy.department.upserted.v1"
    assert await count_effects(dsn(consumer_db), {str(poison.department_id)}) == (0, 0)


async def _backlog(
    database_factory, events: list[DepartmentUpserted], copies: int = 1, **runner_options
):
    """A consumer database and a topic already holding `events` (each record `copies` times in
    a row, as a producer's retry would leave it), and a runner reading it from the start: the
    runner meets the whole backlog in its first fetches."""
    consumer_db = await database_factory("notifications")
    await create_effects_table(dsn(consumer_db))
    topic = f"test.backbone.{uuid4().hex[:10]}"
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS)
    await producer.start()
    try:
        for event in events:
            headers = encode_headers(attributes_for(event, source="projects"))
            body = json.dumps(event.model_dump(mode="json")).encode()
            for _ in range(copies):
                await producer.send(topic, body, key=event.aggregate_id.encode(), headers=headers)
        await producer.flush()
        partitions = len(await producer.partitions_for(topic))
    finally:
        await producer.stop()
    runner = effects_runner(
        consumer_db,
        f"test-{uuid4().hex}",
        topic=topic,
        auto_offset_reset="earliest",
        **runner_options,
    )
    return consumer_db, topic, partitions, runner


async def _effects_per_transaction(db: str, subjects: set[str]) -> list[int]:
    """How many of these subjects' effects each transaction wrote (rows of one share an xmin)."""
    conn = await asyncpg.connect(dsn(db))
    try:
        rows = await conn.fetch(
            "SELECT count(*) FROM effects WHERE subject = ANY($1::text[]) GROUP BY xmin::text",
            list(subjects),
        )
        return [row[0] for row in rows]
    finally:
        await conn.close()


async def _transactions_behind(db: str, subjects: set[str]) -> int:
    """How many transactions wrote the effects of these subjects."""
    return len(await _effects_per_transaction(db, subjects))


async def _apply_backlog(database_factory, count: int, max_batch: int) -> tuple[list[int], int]:
    """A backlog of `count` events applied once each: effects per transaction, and partitions."""
    events = [department() for _ in range(count)]
    subjects = {str(e.department_id) for e in events}
    consumer_db, _, partitions, runner = await _backlog(
        database_factory, events, max_batch=max_batch
    )

    async with running(runner):
        await wait_until(lambda: _effects_are(consumer_db, subjects, (count, count)))

    return await _effects_per_transaction(consumer_db, subjects), partitions


async def test_a_backlog_is_applied_in_batches_each_event_once(database_factory):
    transactions, _ = await _apply_backlog(database_factory, 60, max_batch=50)

    assert len(transactions) < 60


async def test_a_fetch_spanning_partitions_commits_them_together(database_factory):
    # Sixty keys land on every partition of the topic (all but certainly).
    transactions, partitions = await _apply_backlog(database_factory, 60, max_batch=200)

    assert partitions > 1
    # One transaction per partition would be `partitions` at least.
    assert len(transactions) < partitions


async def test_no_transaction_applies_more_records_than_the_batch_limit(database_factory):
    transactions, _ = await _apply_backlog(database_factory, 60, max_batch=10)

    assert max(transactions) <= 10


async def _committed_total(group_id: str, topic: str, partitions: int) -> int:
    """The sum of a group's committed offsets over a topic's partitions (records behind it)."""
    group = AIOKafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS, group_id=group_id)
    await group.start()
    try:
        committed = [await group.committed(TopicPartition(topic, p)) for p in range(partitions)]
    finally:
        await group.stop()
    return sum(offset or 0 for offset in committed)


async def test_a_running_consumer_commits_what_it_applied_within_its_interval(database_factory):
    events = [department() for _ in range(20)]
    subjects = {str(e.department_id) for e in events}
    consumer_db, topic, partitions, runner = await _backlog(
        database_factory, events, commit_interval=0.2
    )

    async def all_committed() -> bool:
        return await _committed_total(runner.name, topic, partitions) == len(events)

    async with running(runner):
        await wait_until(lambda: _effects_are(consumer_db, subjects, (20, 20)))
        # Still running: the periodic commit, not the stop's, must have taken them all.
        await wait_until(all_committed, timeout=10)


async def test_a_stopped_consumer_leaves_what_it_applied_committed(database_factory):
    events = [department() for _ in range(20)]
    subjects = {str(e.department_id) for e in events}
    # Commits are due only once a minute: the stop alone must commit what was applied.
    consumer_db, topic, partitions, runner = await _backlog(
        database_factory, events, commit_interval=60
    )

    async with running(runner):
        await wait_until(lambda: _effects_are(consumer_db, subjects, (20, 20)))
        assert await _committed_total(runner.name, topic, partitions) == 0

    assert await _committed_total(runner.name, topic, partitions) == len(events)


async def test_an_event_delivered_twice_within_one_batch_is_applied_once(database_factory):
    events = [department() for _ in range(20)]
    subjects = {str(e.department_id) for e in events}
    consumer_db, _, partitions, runner = await _backlog(database_factory, events, copies=2)

    async with running(runner):
        await wait_until(lambda: _effects_are(consumer_db, subjects, (20, 20)))
        await asyncio.sleep(1)  # time for a second application to show, were there one

    assert await count_effects(dsn(consumer_db), subjects) == (20, 20)
    assert await _transactions_behind(consumer_db, subjects) <= partitions


async def test_a_poisoned_record_splits_its_batch_and_nothing_is_lost(database_factory):
    valid = [department() for _ in range(30)]
    poison = department(POISON)
    subjects = {str(e.department_id) for e in valid}
    consumer_db, topic, partitions, runner = await _backlog(
        database_factory, [*valid[:15], poison, *valid[15:]]
    )

    async with (
        EventTap(dead_letter_topic(topic), bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as dlt,
        running(runner),
    ):
        await wait_until(lambda: _effects_are(consumer_db, subjects, (30, 30)))
        dead = await dlt.wait_for(lambda s: True)
        await dlt.settle()

    assert len(dlt.seen) == 1
    assert dead[0].key == str(poison.department_id).encode()
    assert await count_effects(dsn(consumer_db), {str(poison.department_id)}) == (0, 0)
    # The records around the poison still go together (before it, after it), not one by one.
    assert await _transactions_behind(consumer_db, subjects) <= partitions + 1


async def _transactions_in_commit_order(db: str, subjects: set[str]) -> list[set[str]]:
    """The subjects whose effects each transaction wrote, the first committed first."""
    conn = await asyncpg.connect(dsn(db))
    try:
        rows = await conn.fetch(
            "SELECT xmin::text AS tx, array_agg(subject) AS subjects FROM effects"
            " WHERE subject = ANY($1::text[]) GROUP BY xmin::text ORDER BY min(id)",
            list(subjects),
        )
        return [set(row["subjects"]) for row in rows]
    finally:
        await conn.close()


async def test_the_keys_of_urgent_events_are_committed_before_the_rest_of_their_fetch(
    database_factory,
):
    routine = [department() for _ in range(30)]
    urgent = [department(f"urgent-{n}") for n in range(3)]
    # A routine event of a key whose later event is urgent goes first with it, in its order.
    keyed = department()
    keyed_urgent = keyed.model_copy(update={"short_name": "urgent-later"})
    events = [keyed, *routine[:15], urgent[0], *routine[15:], urgent[1], keyed_urgent, urgent[2]]
    urgent_subjects = {str(e.department_id) for e in [*urgent, keyed]}
    routine_subjects = {str(e.department_id) for e in routine}
    consumer_db, _, _, runner = await _backlog(
        database_factory, events, urgent=lambda data: data.short_name.startswith("urgent-")
    )

    async with running(runner):
        await wait_until(
            lambda: _effects_are(consumer_db, urgent_subjects | routine_subjects, (35, 34))
        )
    transactions = await _transactions_in_commit_order(
        consumer_db, urgent_subjects | routine_subjects
    )

    assert transactions[0] <= urgent_subjects
    assert all(t <= urgent_subjects or t <= routine_subjects for t in transactions)
