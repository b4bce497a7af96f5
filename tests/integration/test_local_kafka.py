"""Kafka of the local stack: the single broker of `make up`, and the 3-broker cluster that
`stack.sh kafka-cluster` starts for replication tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tests.integration.local_infra_helpers import CLUSTER_BOOTSTRAP, eventually, stack
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS

pytestmark = pytest.mark.integration


@asynccontextmanager
async def admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    """A started admin client, closed afterwards."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


async def consume_all(bootstrap: str, topic: str, partitions: int, expected: int) -> list[Any]:
    """Read a topic from the beginning without a consumer group until `expected` records came."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        records: list[Any] = []
        async with asyncio.timeout(60):
            while len(records) < expected:
                batches = await consumer.getmany(timeout_ms=1000)
                records += [record for batch in batches.values() for record in batch]
        return records
    finally:
        await consumer.stop()


async def test_single_broker_round_trip_on_an_auto_created_topic() -> None:
    topic = f"local-infra-roundtrip-{uuid4().hex}"
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS, acks="all")
    await producer.start()
    try:
        for number in range(30):
            await producer.send_and_wait(
                topic, f"event-{number}".encode(), key=str(number).encode()
            )
        partitions = await producer.partitions_for(topic)
    finally:
        await producer.stop()
    assert len(partitions) == 3, "auto-created topics get num.partitions=3"

    records = await consume_all(KAFKA_BOOTSTRAP_SERVERS, topic, 3, 30)
    assert sorted(r.value for r in records) == sorted(f"event-{n}".encode() for n in range(30))
    assert {r.key: r.value for r in records}[b"7"] == b"event-7"


async def partitions_of(admin: AIOKafkaAdminClient, topic: str) -> list[dict[str, Any]]:
    """The partition metadata (leader, replicas, isr) of one topic."""
    (described,) = await admin.describe_topics([topic])
    return described["partitions"]


async def isr_sizes(admin: AIOKafkaAdminClient, topic: str) -> set[int]:
    """The distinct in-sync replica counts over the topic's partitions."""
    return {len(p["isr"]) for p in await partitions_of(admin, topic)}


async def test_three_broker_cluster_keeps_acks_all_writes_with_one_broker_down() -> None:
    topic = f"local-infra-replicated-{uuid4().hex}"
    await stack("kafka-cluster", "up")
    try:
        async with admin_client(CLUSTER_BOOTSTRAP) as admin:
            assert len((await admin.describe_cluster())["brokers"]) == 3
            await admin.create_topics(
                [
                    NewTopic(
                        topic,
                        num_partitions=3,
                        replication_factor=3,
                        topic_configs={"min.insync.replicas": "2"},
                    )
                ]
            )

            async def fully_replicated() -> bool:
                partitions = await partitions_of(admin, topic)
                return len(partitions) == 3 and await isr_sizes(admin, topic) == {3}

            await eventually(fully_replicated, "3 in-sync replicas on every partition")

        await stack("kafka-cluster", "down", "3")
        async with admin_client(CLUSTER_BOOTSTRAP) as admin:

            async def shrunk() -> bool:
                brokers = (await admin.describe_cluster())["brokers"]
                partitions = await partitions_of(admin, topic)
                return (
                    {b["node_id"] for b in brokers} == {1, 2}
                    and all(p["leader"] in (1, 2) for p in partitions)
                    and await isr_sizes(admin, topic) == {2}
                )

            await eventually(shrunk, "broker 3 to leave the cluster and every ISR", timeout=60)

        producer = AIOKafkaProducer(
            bootstrap_servers=CLUSTER_BOOTSTRAP, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            sent = [
                await producer.send_and_wait(topic, f"replicated-{n}".encode(), key=str(n).encode())
                for n in range(100)
            ]
        finally:
            await producer.stop()
        assert {metadata.partition for metadata in sent} == {0, 1, 2}

        records = await consume_all(CLUSTER_BOOTSTRAP, topic, 3, 100)
        assert sorted(r.value for r in records) == sorted(
            f"replicated-{n}".encode() for n in range(100)
        )

        # The stopped broker comes back and catches up: every replica is in sync again.
        await stack("kafka-cluster", "up")
        async with admin_client(CLUSTER_BOOTSTRAP) as admin:

            async def caught_up() -> bool:
                return await isr_sizes(admin, topic) == {3}

            await eventually(caught_up, "broker 3 back in every ISR", timeout=60)
    finally:
        await stack("kafka-cluster", "down")
