"""Background work (schedulers, scanners, senders) with one stop and retry policy, woken early by
PostgreSQL NOTIFY where a commit means there is work to do."""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
import structlog

from common.messaging.kafka import backoff_seconds

log = structlog.get_logger(__name__)


class NotifyListener:
    """A LISTEN connection kept open: every NOTIFY on `channel` calls `on_notify`.

    A lost connection is reopened with backoff; notifications sent while it is away are lost,
    which is why every user of a listener also polls.
    """

    def __init__(
        self,
        dsn: str,
        channel: str,
        on_notify: Callable[[], None],
        *,
        max_backoff: float = 30.0,
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._on_notify = on_notify
        self._max_backoff = max_backoff
        # Set while the LISTEN is registered; a NOTIFY sent before that is not seen.
        self.listening = asyncio.Event()

    async def run(self) -> None:
        """Listen until cancelled."""
        failures = 0
        while True:
            closed = asyncio.Event()
            try:
                conn = await asyncpg.connect(self._dsn)
            except (OSError, asyncpg.PostgresError) as exc:
                failures += 1
                log.debug("listener reconnecting", channel=self._channel, error=repr(exc))
                await asyncio.sleep(backoff_seconds(failures, self._max_backoff))
                continue
            failures = 0
            try:
                conn.add_termination_listener(lambda _conn, ev=closed: ev.set())
                await conn.add_listener(self._channel, lambda *_args: self._on_notify())
                self.listening.set()
                await closed.wait()
            finally:
                self.listening.clear()
                await conn.close()


@dataclass(frozen=True)
class WakeChannel:
    """A PostgreSQL NOTIFY channel whose notifications wake a worker before its interval is up."""

    dsn: str
    channel: str


class PeriodicWorker(ABC):
    """Calls `tick()` every `interval` seconds until stopped, and at once on a NOTIFY.

    With a `wake_channel`, a NOTIFY on it (sent by the commit that created work) starts the next
    tick without waiting out the interval, which then only bounds the delay when a notification
    is lost. A failing tick is logged and retried at the next interval, so a database or SMTP
    outage never ends the worker; `stop()` lets the tick in flight finish.
    """

    def __init__(self, *, interval: float, wake_channel: WakeChannel | None = None) -> None:
        self.interval = interval
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        # NOTIFYs received; several during one tick start a single next tick.
        self.notifications = 0
        self.listener = (
            NotifyListener(wake_channel.dsn, wake_channel.channel, self._notified)
            if wake_channel
            else None
        )

    @property
    def stopping(self) -> bool:
        """Whether stop() was called; long ticks check it between batches."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask the worker to return after the tick in flight."""
        self._stopping.set()
        self._wake.set()

    def _notified(self) -> None:
        self.notifications += 1
        self._wake.set()

    @abstractmethod
    async def tick(self) -> None:
        """One round of work."""

    async def run(self) -> None:
        """Tick until stopped."""
        name = type(self).__name__
        listening = asyncio.create_task(self.listener.run()) if self.listener else None
        log.info("worker started", worker=name, interval=self.interval, woken=bool(listening))
        try:
            while not self.stopping:
                # Cleared before the tick: a NOTIFY arriving during it starts the next one.
                self._wake.clear()
                try:
                    await self.tick()
                except Exception as exc:  # the worker must outlive its dependencies' outages
                    log.warning("worker tick failed", worker=name, error=repr(exc), exc_info=True)
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
                except TimeoutError:
                    pass
        finally:
            if listening:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)
        log.info("worker stopped", worker=name)
