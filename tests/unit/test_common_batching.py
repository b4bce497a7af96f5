"""Group commit: batches form while a write is under way; each submitter gets its own outcome."""

import asyncio

import pytest

from common.batching import GroupCommit


class Writer:
    """A batch writer that records its batches and can be held mid-write."""

    def __init__(self, fail_when=lambda items: False) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.release.set()
        self._fail_when = fail_when

    async def __call__(self, items: list[int]) -> list[object]:
        self.batches.append(items)
        await self.release.wait()
        if self._fail_when(items):
            raise ConnectionError("the batch failed")
        return [ValueError(f"refused {i}") if i < 0 else i * 10 for i in items]


async def test_a_lone_item_is_written_at_once():
    writer = Writer()
    assert await GroupCommit(writer).submit(1) == 10
    assert writer.batches == [[1]]


async def test_items_arriving_during_a_write_go_together_in_the_next_batch():
    writer = Writer()
    writer.release.clear()
    commit = GroupCommit(writer, max_batch=3)
    first = asyncio.create_task(commit.submit(1))
    await asyncio.sleep(0)
    others = [asyncio.create_task(commit.submit(n)) for n in range(2, 7)]
    await asyncio.sleep(0)
    writer.release.set()

    assert await asyncio.gather(first, *others) == [10, 20, 30, 40, 50, 60]
    assert writer.batches == [[1], [2, 3, 4], [5, 6]]


async def test_a_refused_item_fails_only_its_own_submitter():
    writer = Writer()
    writer.release.clear()
    commit = GroupCommit(writer)
    tasks = [asyncio.create_task(commit.submit(n)) for n in (1, -2, 3)]
    await asyncio.sleep(0)
    writer.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    assert outcomes[0] == 10 and outcomes[2] == 30
    assert isinstance(outcomes[1], ValueError)
    assert writer.batches == [[1, -2, 3]]


async def test_a_failed_batch_is_written_again_one_item_at_a_time():
    writer = Writer(fail_when=lambda items: 2 in items)
    writer.release.clear()
    commit = GroupCommit(writer)
    tasks = [asyncio.create_task(commit.submit(n)) for n in (1, 2, 3)]
    await asyncio.sleep(0)
    writer.release.set()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)

    assert outcomes[0] == 10 and outcomes[2] == 30
    assert isinstance(outcomes[1], ConnectionError)
    assert writer.batches == [[1, 2, 3], [1], [2], [3]]


async def test_a_cancelled_submitter_does_not_stop_the_others():
    writer = Writer()
    writer.release.clear()
    commit = GroupCommit(writer)
    leaving = asyncio.create_task(commit.submit(1))
    staying = asyncio.create_task(commit.submit(2))
    await asyncio.sleep(0)
    leaving.cancel()
    writer.release.set()

    assert await staying == 20
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert writer.batches == [[1, 2]]
