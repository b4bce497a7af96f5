"""Watching Kafka topics from a test: every record from now on, decoded."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from uuid import uuid4

from aiokafka import AIOKafkaConsumer

from common.messaging.cloudevents import Envelope, MalformedEvent, decode


@dataclass
class Seen:
    """A record as it arrived, with its CloudEvent when it is one."""

    topic: str
    key: bytes | None
    headers: dict[str, bytes]
    value: bytes | None
    envelope: Envelope | None


class EventTap:
    """Reads topics from their current end in a private consumer group."""

    def __init__(self, *topics: str, bootstrap_servers: str) -> None:
        self._consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap_servers,
            group_id=f"test-tap-{uuid4().hex}",
            auto_offset_reset="latest",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        self.seen: list[Seen] = []
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "EventTap":
        await self._consumer.start()
        # Wait for the assignment and pin the positions, so nothing published later is missed.
        deadline = time.monotonic() + 30
        while not self._consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError("no partition assigned to the test consumer")
            await asyncio.sleep(0.1)
        for tp in self._consumer.assignment():
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _collect(self) -> None:
        async for record in self._consumer:
            try:
                envelope = decode(record.headers, record.value)
            except MalformedEvent:
                envelope = None
            self.seen.append(
                Seen(record.topic, record.key, dict(record.headers or []), record.value, envelope)
            )

    def matching(self, predicate: Callable[[Seen], bool]) -> list[Seen]:
        """Records seen so far that satisfy the predicate."""
        return [s for s in self.seen if predicate(s)]

    async def wait_for(
        self, predicate: Callable[[Seen], bool], count: int = 1, timeout: float = 30.0
    ) -> list[Seen]:
        """Wait until at least `count` matching records arrived; then return them all."""
        deadline = time.monotonic() + timeout
        while len(found := self.matching(predicate)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"saw {len(found)} of {count} expected records in {timeout}s")
            await asyncio.sleep(0.05)
        return found

    async def settle(self, seconds: float = 1.5) -> None:
        """Give late duplicates a chance to show up before asserting 'exactly once'."""
        await asyncio.sleep(seconds)


def of_type(event_type: str, subject: str | None = None) -> Callable[[Seen], bool]:
    """A predicate for CloudEvents of one type (and optionally one subject)."""
    suffix = f".{event_type}.v1" if not event_type.startswith("ru.") else event_type

    def match(seen: Seen) -> bool:
        env = seen.envelope
        return (
            env is not None
            and env.type.endswith(suffix)
            and (subject is None or env.subject == subject)
        )

    return match
