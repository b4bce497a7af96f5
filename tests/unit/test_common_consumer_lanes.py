"""The consumer's lanes: the keys of urgent events go first, every key in its order."""

from dataclasses import replace
from uuid import uuid4

import pytest
from aiokafka import ConsumerRecord

from common.events import DepartmentUpserted
from common.messaging.cloudevents import attributes_for, encode_headers
from common.messaging.consumer import ConsumerRunner, Subscription, _advance

TOPIC = "test.lanes"


async def ignore(envelope, uow) -> None:
    """A handler the lanes never call."""


def runner() -> ConsumerRunner:
    return ConsumerRunner(
        name="lanes",
        subscriptions=[
            Subscription(
                DepartmentUpserted,
                ignore,
                topic=TOPIC,
                urgent=lambda data: data.short_name.startswith("urgent"),
            )
        ],
        sessions=None,
        bootstrap_servers=["unused:9092"],
        source="tests",
    )


def record(offset: int, short_name: str, department_id=None, partition: int = 0) -> ConsumerRecord:
    event = DepartmentUpserted(
        department_id=department_id or uuid4(),
        region="test",
        full_name="Комитет",
        short_name=short_name,
        emails=["kcr@example.ru"],
    )
    headers = encode_headers(attributes_for(event, source="tests"))
    value = event.model_dump_json().encode()
    key = event.aggregate_id.encode()
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, key, value, None, 0, 0, headers)


def names(lane: list[ConsumerRecord]) -> list[str]:
    return [f"{r.partition}:{r.offset}" for r in lane]


def test_a_fetch_without_urgent_events_is_one_lane():
    fetch = [record(n, "routine") for n in range(3)]

    assert runner()._lanes(fetch) == [fetch]


def test_urgent_events_go_first_with_their_keys_earlier_records_and_every_key_keeps_its_order():
    keyed = uuid4()
    fetch = [
        record(0, "routine", keyed),
        record(1, "routine"),
        record(2, "urgent"),
        record(0, "routine", partition=1),
        record(3, "urgent again", keyed),
        record(4, "routine", keyed),
        record(1, "urgent", partition=1),
    ]

    first, rest = runner()._lanes(fetch)

    # The keyed record after its key's first urgent one (0:4) goes with the routine ones.
    assert names(first) == ["0:0", "0:2", "0:3", "1:1"]
    assert names(rest) == ["0:1", "1:0", "0:4"]


def test_a_malformed_record_is_not_urgent_and_stays_in_its_turn():
    broken = replace(record(1, "urgent"), value=b"{not json")
    fetch = [record(0, "routine"), broken]

    assert runner()._lanes(fetch) == [fetch]


def stopping_after(count: int):
    """An `_apply_run` that applies the first `count` records it is given in all, then stops."""
    budget = [count]

    async def apply_run(producer, lane, applied) -> bool:
        done, budget[0] = lane[: budget[0]], max(0, budget[0] - len(lane))
        _advance(applied, done)
        return len(done) == len(lane)

    return apply_run


def offsets(applied) -> dict[str, int]:
    return {f"{tp.partition}": offset for tp, offset in applied.items()}


@pytest.mark.parametrize(
    ("applied_before_the_stop", "committed"),
    [
        (0, {}),
        # The urgent lane (0:1) only: partition 0 still has 0:0 to apply.
        (1, {"0": 0}),
        (2, {"0": 2}),
        (4, {"0": 3, "1": 1}),
        (5, {"0": 3, "1": 2}),
    ],
)
async def test_a_stop_mid_fetch_stops_each_partition_before_its_first_record_not_done(
    applied_before_the_stop, committed
):
    consumer = runner()
    # Lanes: [0:1], then [0:0, 0:2, 1:0, 1:1].
    fetch = [
        record(0, "routine"),
        record(1, "urgent"),
        record(2, "routine"),
        record(0, "routine", partition=1),
        record(1, "routine", partition=1),
    ]
    consumer._apply_run = stopping_after(applied_before_the_stop)
    applied = {}

    finished = await consumer._apply_fetch(None, fetch, applied)

    assert finished == (applied_before_the_stop == len(fetch))
    assert offsets(applied) == committed
