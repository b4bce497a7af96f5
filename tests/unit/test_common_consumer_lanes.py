"""The consumer's lanes: the keys of urgent events go first, every key in its order."""

from dataclasses import replace
from uuid import uuid4

from aiokafka import ConsumerRecord

from common.events import DepartmentUpserted
from common.messaging.cloudevents import attributes_for, encode_headers
from common.messaging.consumer import ConsumerRunner, Subscription

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


def test_urgent_keys_go_first_with_their_earlier_records_and_every_key_keeps_its_order():
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

    assert names(first) == ["0:0", "0:2", "0:3", "0:4", "1:1"]
    assert names(rest) == ["0:1", "1:0"]


def test_a_malformed_record_is_not_urgent_and_stays_in_its_turn():
    broken = replace(record(1, "urgent"), value=b"{not json")
    fetch = [record(0, "routine"), broken]

    assert runner()._lanes(fetch) == [fetch]
