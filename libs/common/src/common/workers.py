"""Periodic background work (schedulers, scanners, senders) with one stop and retry policy."""

import asyncio
from abc import ABC, abstractmethod

import structlog

log = structlog.get_logger(__name__)


class PeriodicWorker(ABC):
    """Calls `tick()` every `interval` seconds until stopped.

    A failing tick is logged and retried at the next interval, so a database or SMTP outage
    never ends the worker; `stop()` lets the tick in flight finish.
    """

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called; long ticks check it between batches."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ask the worker to return after the tick in flight."""
        self._stopping.set()
        self._wake.set()

    @abstractmethod
    async def tick(self) -> None:
        """One round of work."""

    async def run(self) -> None:
        """Tick until stopped."""
        name = type(self).__name__
        log.info("worker started", worker=name, interval=self.interval)
        while not self.stopping:
            try:
                await self.tick()
            except Exception as exc:  # the worker must outlive its dependencies' outages
                log.warning("worker tick failed", worker=name, error=repr(exc), exc_info=True)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            self._wake.clear()
        log.info("worker stopped", worker=name)
