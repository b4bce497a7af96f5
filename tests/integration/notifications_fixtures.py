"""Helpers for the notifications integration tests: publishing real CloudEvents through an
outbox, running the service in-process, and reading the real SMTP sink's Mailpit API."""

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import select

from common.clock import Clock
from common.db import UnitOfWork, create_engine, session_factory
from common.events import (
    INDICATORS_TOPIC,
    PROJECTS_TOPIC,
    CoordinatorUpserted,
    DepartmentUpserted,
    Direction,
    IndicatorCreated,
    IntegrationEvent,
    ProjectCreated,
    Stage,
)
from common.messaging.cloudevents import encode_headers
from common.messaging.consumer import ConsumerRunner
from common.messaging.models import OutboxMessage
from common.messaging.outbox import OutboxRelay
from common.settings import SmtpSettings
from notifications.config import Settings
from notifications.deliveries.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    NotificationKind,
    RecipientType,
)
from notifications.main import build_app
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS, MAIL_API_URL, SMTP_HOST, SMTP_PORT
from tests.support.services import RunningService

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], what: str, timeout: float = 180.0, interval: float = 0.2
) -> T:
    """Poll until probe returns something truthy and return it.

    The bound is generous because the topics are shared: other suites (and benchmarks) running
    at the same time put their events ahead of the test's in the consumer's queue.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


class EventSource:
    """A producing service's database with its outbox relay: events go out as the real
    services send them (CloudEvents headers, key = aggregate id)."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_engine(database_url, pool_size=2)
        self._sessions = session_factory(self._engine)
        self._relay = OutboxRelay(
            self._engine,
            dsn=database_url.replace("postgresql+asyncpg://", "postgresql://", 1),
            bootstrap_servers=[KAFKA_BOOTSTRAP_SERVERS],
            client_id="test-notifications-source",
            poll_interval=0.2,
            max_backoff=1.0,
        )
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "EventSource":
        self._task = asyncio.create_task(self._relay.run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._relay.stop()
        if self._task:
            await asyncio.wait_for(self._task, 60)
        await self._engine.dispose()

    async def publish(self, *events: IntegrationEvent) -> list[UUID]:
        """Commit events to the outbox; returns their CloudEvents ids."""
        async with UnitOfWork(self._sessions, source="projects") as uow:
            for event in events:
                uow.publish(event)
            await uow.commit()
        ids = []
        async with self._sessions() as session:
            rows = await session.exec(
                select(OutboxMessage).order_by(OutboxMessage.seq.desc()).limit(len(events))
            )
            ids = [row.event_id for row in reversed(rows.scalars().all())]
        await eventually(lambda: self._published(ids), "the outbox relay to publish")
        return ids

    async def _published(self, ids: list[UUID]) -> bool:
        async with self._sessions() as session:
            rows = await session.exec(
                select(OutboxMessage).where(
                    OutboxMessage.event_id.in_(ids), OutboxMessage.published_at.is_(None)
                )
            )
            return not rows.scalars().all()

    async def redeliver(self, event_id: UUID) -> None:
        """Send an already published record again, byte for byte (same CloudEvents id)."""
        sent = await redeliver(self._sessions, OutboxMessage.event_id == event_id)
        assert sent == 1, f"event {event_id} is not in the outbox"


async def redeliver(sessions: Any, *criteria: Any) -> int:
    """Send the outbox records matching `criteria` again, byte for byte (same CloudEvents ids),
    from a producing service's database; how many were sent."""
    async with sessions() as session:
        rows = (
            (await session.exec(select(OutboxMessage).where(*criteria).order_by(OutboxMessage.seq)))
            .scalars()
            .all()
        )
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS)
    await producer.start()
    try:
        for row in rows:
            await producer.send_and_wait(
                row.topic,
                value=json.dumps(row.payload, ensure_ascii=False).encode(),
                key=row.key.encode(),
                headers=encode_headers(row.headers),
            )
    finally:
        await producer.stop()
    return len(rows)


# The topics are shared: the running stack's notifications service (and any other test's) also
# mails the recipients of this process's events. What this process's services send carries a
# sender address of its own, and the mailbox reads only that.
TEST_SENDER = f"monitoring-tests-{uuid4().hex[:10]}@strategy.example.ru"


def smtp_settings(host: str = SMTP_HOST, port: int = SMTP_PORT, **fields: Any) -> SmtpSettings:
    """SMTP settings of a service under test: the given server, the test process's sender."""
    return SmtpSettings(
        host=host, port=port, sender=f"Мониторинг стратегий <{TEST_SENDER}>", **fields
    )


def service_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for an in-process notifications service with a fresh consumer group."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": KAFKA_BOOTSTRAP_SERVERS,
        "kafka_consumer_group": f"test-{uuid4().hex}",
        "kafka_auto_offset_reset": "latest",
        "consumer_max_backoff_seconds": 0.5,
        "log_json": False,
        "smtp": smtp_settings(),
        "smtp_retry_base_seconds": 0.2,
        "smtp_retry_max_seconds": 1.0,
        "sender_poll_interval_seconds": 0.1,
        "scheduler_poll_interval_seconds": 0.1,
        "flap_window_seconds": 0,
        # Other tests' events on the shared topics name projects this service never sees;
        # waiting for them would stall the partition. known_to() waits for the test's own.
        "read_model_grace_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def notifications_service(
    settings: Settings, clock: Clock | None = None
) -> AsyncIterator[RunningService]:
    """The service under uvicorn with its full lifespan, its consumer holding its partitions."""
    await start_group_at_the_end(settings.kafka_consumer_group)
    service = RunningService(lambda: build_app(settings, clock))
    await service.start()
    try:
        await consumer_ready(service)
        yield service
    finally:
        await service.stop()


async def start_group_at_the_end(group: str) -> None:
    """Commit the current end of every partition for a new consumer group.

    With only `auto_offset_reset=latest`, a partition whose position is resolved after the
    test has published would silently skip the test's events; committed offsets leave no gap.
    A group that already has offsets (a restarted service) keeps them.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # loads the cluster metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in (PROJECTS_TOPIC, INDICATORS_TOPIC)
            for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        fresh = {tp: ends[tp] for tp in partitions if await consumer.committed(tp) is None}
        if fresh:
            await consumer.commit(fresh)
    finally:
        await consumer.stop()


async def consumer_ready(service: RunningService) -> None:
    """Wait until the service's consumer owns its partitions (it reads from 'latest')."""
    [runner] = [w for w in service.app.state.workers if isinstance(w, ConsumerRunner)]
    await asyncio.wait_for(runner.ready.wait(), 60)


class Mailbox:
    """The real SMTP sink, read through its Mailpit-compatible API, one address at a time."""

    def __init__(self, api_url: str = MAIL_API_URL, timeout: float = 180.0) -> None:
        self.api_url = api_url
        self.timeout = timeout

    async def messages_to(self, address: str) -> list[dict[str, Any]]:
        """Every message this process's services sent to `address`, oldest first, in full."""
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as client:
            found = await client.get(
                "/api/v1/search",
                params={"query": f"to:{address} from:{TEST_SENDER}", "limit": 500},
            )
            found.raise_for_status()
            messages = []
            for summary in reversed(found.json()["messages"]):
                detail = (await client.get(f"/api/v1/message/{summary['ID']}")).json()
                detail["Headers"] = (
                    await client.get(f"/api/v1/message/{summary['ID']}/headers")
                ).json()
                messages.append(detail)
            return messages

    async def wait_for(self, address: str, count: int) -> list[dict]:
        """Wait until `count` messages reached the address; return them all."""

        async def enough() -> list[dict] | None:
            messages = await self.messages_to(address)
            return messages if len(messages) >= count else None

        return await eventually(enough, f"{count} message(s) to {address}", self.timeout)


def header(message: dict, name: str) -> str | None:
    """One header of a message read through the sink's API."""
    values = message["Headers"].get(name)
    return values[0] if values else None


@dataclass
class World:
    """A region of its own with a department, a coordinator, a project and an indicator."""

    region: str = field(default_factory=lambda: f"test-{uuid4().hex[:10]}")
    tag: str = field(default_factory=lambda: uuid4().hex[:10])
    department_id: UUID = field(default_factory=uuid4)
    coordinator_id: UUID = field(default_factory=uuid4)
    project_id: UUID = field(default_factory=uuid4)
    indicator_id: UUID = field(default_factory=uuid4)
    indicator_name: str = (
        "Доля учащихся, обеспеченных доступом к высокоскоростному интернету в образовательных "
        "организациях"
    )

    @property
    def department_emails(self) -> list[str]:
        return [f"kcr-{self.tag}@lenreg.example.ru", f"kcr-chief-{self.tag}@lenreg.example.ru"]

    @property
    def coordinator_email(self) -> str:
        return f"coord-{self.tag}@gov.example.ru"

    def directory_events(self) -> list[IntegrationEvent]:
        """Everything the service must know before alerts can be routed."""
        return [
            DepartmentUpserted(
                department_id=self.department_id,
                region=self.region,
                full_name="Комитет цифрового развития Ленинградской области",
                short_name="КЦР ЛО",
                emails=self.department_emails,
            ),
            CoordinatorUpserted(
                coordinator_id=self.coordinator_id,
                region=self.region,
                name="Иванова Мария Петровна",
                email=self.coordinator_email,
            ),
            ProjectCreated(
                project_id=self.project_id,
                region=self.region,
                region_name="Ленинградская область",
                sector_number=3,
                sector_name="Образование",
                number=1,
                name="Цифровая школа",
                federal_recommended=True,
                responsible_department_id=self.department_id,
                stage=Stage.in_progress,
            ),
            IndicatorCreated(
                indicator_id=self.indicator_id,
                project_id=self.project_id,
                region=self.region,
                sector_number=3,
                responsible_department_id=self.department_id,
                name=self.indicator_name,
                unit="%",
                direction=Direction.higher_is_better,
                targets={2022: Decimal(40), 2023: Decimal(50), 2024: Decimal(60)},
            ),
        ]

    def facts(self, period: str, expected: str, actual: str) -> dict[str, Any]:
        """The PeriodFacts fields of an evaluation event of the world's indicator."""
        exp, act = Decimal(expected), Decimal(actual)
        return {
            "indicator_id": self.indicator_id,
            "region": self.region,
            "responsible_department_id": self.department_id,
            "period": period,
            "expected": exp,
            "actual": act,
            "gap": act - exp,
            "gap_percent": ((act - exp) / exp * 100).quantize(Decimal("0.1")),
        }


async def known_to(service: RunningService, world: World) -> None:
    """Wait until the service has the world's department, coordinator, project and indicator."""
    await known_in(service.app.state.settings.asyncpg_dsn, world)


async def known_in(dsn: str, world: World) -> None:
    """Wait until the notifications database `dsn` has the world's directory read models."""

    async def loaded() -> bool:
        conn = await asyncpg.connect(dsn)
        try:
            found = await conn.fetchval(
                "SELECT (SELECT count(*) FROM departments WHERE id = $1)"
                " + (SELECT count(*) FROM coordinators WHERE id = $2)"
                " + (SELECT count(*) FROM projects WHERE id = $3)"
                " + (SELECT count(*) FROM indicators WHERE id = $4)",
                world.department_id,
                world.coordinator_id,
                world.project_id,
                world.indicator_id,
            )
        finally:
            await conn.close()
        return found == 4

    await eventually(loaded, "the directory events to be applied")


def pending_delivery(recipient: str, subject: str = "Проверка") -> Delivery:
    """An immediate delivery due now, of no alert, as the sender finds them."""
    delivery_id, now = uuid4(), datetime.now(UTC)
    return Delivery(
        id=delivery_id,
        kind=NotificationKind.news.value,
        channel=Channel.immediate.value,
        status=DeliveryStatus.pending.value,
        recipient=recipient,
        recipient_type=RecipientType.department.value,
        region="test",
        subject=subject,
        body_text="Проверка",
        body_html="<p>Проверка</p>",
        message_id=f"<{delivery_id}@strategy.example.ru>",
        created_at=now,
        due_at=now,
    )


ACK_LINK = re.compile(r"https?://\S+/api/v1/ack/\S+")


def ack_path(message: dict) -> str:
    """The path of the one acknowledgement link in an email's text (and its HTML)."""
    [link] = ACK_LINK.findall(message["Text"])
    assert f'href="{link}"' in message["HTML"]
    return urlsplit(link).path
