"""Group commit: requests that arrive while a batch is being written go together in the next one.

A write's fixed cost (a transaction, its locks and round trips, the commit's WAL flush) is paid
once per batch instead of once per request. Nothing waits on purpose: an idle writer writes a
lone request at once; requests pile up only while the previous batch is in the database, so
batches grow exactly as fast as the load does.
"""

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from common.logging import get_logger

Item = TypeVar("Item")
Result = TypeVar("Result")

# What a batch writer answers for each item: its result, or the exception its submitter raises.
Outcome = Result | BaseException
BatchWriter = Callable[[list[Item]], Awaitable[Sequence[Outcome]]]

log = get_logger(__name__)


class GroupCommit(Generic[Item, Result]):
    """Collects submitted items and writes them in batches, one batch at a time.

    `write(items)` writes a batch in one transaction and answers one outcome per item, in
    order: an exception instance there fails only its own item. If `write` itself raises, the
    batch is written again one item at a time, so one item's fault cannot fail the others.
    """

    def __init__(self, write: BatchWriter, *, max_batch: int = 100) -> None:
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        """Write `item` with whatever else is waiting; its outcome is returned or raised.

        A submitter that is cancelled while waiting does not withdraw its item: it may already
        be in the database, like a request whose commit raced its client's disconnect.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None:
            # A task of its own, so a submitter's cancellation cannot stop the others' writes, and
            # in a context of its own, so it does not log as the request that happened to start it.
            self._writer = asyncio.create_task(self._drain(), context=contextvars.Context())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Result]]] = []
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._write_batch(batch)
        except BaseException as exc:
            # Cancelled (the loop is closing): nobody may wait forever for an answer.
            for _, future in batch + self._pending:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            self._pending.clear()
            raise
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            outcomes = await self._write([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                outcomes = [exc]
            else:
                log.warning("batch write failed; writing its items one by one", error=repr(exc))
                for one in batch:
                    await self._write_batch([one])
                return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its submitter was cancelled
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
