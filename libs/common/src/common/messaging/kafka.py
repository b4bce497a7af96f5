"""Kafka clients configured the one way the platform uses them."""

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient


def create_producer(bootstrap_servers: list[str], client_id: str) -> AIOKafkaProducer:
    """An idempotent producer that waits for all in-sync replicas."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        # Callers hand over their records together (the relay a whole batch before it awaits
        # any), so they already leave in one request; lingering would add its time to each.
        linger_ms=0,
        request_timeout_ms=10_000,
    )


async def kafka_reachable(bootstrap_servers: list[str], timeout_seconds: float = 3.0) -> bool:
    """Whether a broker answers a metadata request."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        request_timeout_ms=int(timeout_seconds * 1000),
    )
    try:
        await admin.start()
        await admin.describe_cluster()
        return True
    except Exception:
        return False
    finally:
        await admin.close()


def backoff_seconds(attempt: int, cap: float, base: float = 0.5) -> float:
    """Exponential backoff: base·2^(attempt−1), capped."""
    return min(cap, base * 2 ** max(0, attempt - 1))
