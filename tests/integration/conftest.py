"""Integration tests run against the real infrastructure; without it they fail at once, loudly."""

import socket
from urllib.parse import urlsplit

import pytest

from common.db import create_engine, session_factory
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS, POSTGRES_ADMIN_URL, SMTP_HOST, SMTP_PORT

PROBE_TIMEOUT_SECONDS = 5.0


def infrastructure_endpoints() -> dict[str, tuple[str, int]]:
    """Where the tests expect PostgreSQL, the Kafka broker and the mail sink to listen."""
    postgres = urlsplit(POSTGRES_ADMIN_URL)
    kafka_host, _, kafka_port = KAFKA_BOOTSTRAP_SERVERS.split(",")[0].rpartition(":")
    return {
        "PostgreSQL": (postgres.hostname or "127.0.0.1", postgres.port or 5432),
        "Kafka": (kafka_host, int(kafka_port)),
        "the mail sink's SMTP": (SMTP_HOST, SMTP_PORT),
    }


@pytest.fixture(scope="session", autouse=True)
def infrastructure_reachable() -> None:
    """Fail every test of the session when a piece of the infrastructure is not listening: its
    clients would otherwise retry for minutes (Kafka's for ever) before a test timed out."""
    unreachable = []
    for name, (host, port) in infrastructure_endpoints().items():
        try:
            socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS).close()
        except OSError as exc:
            unreachable.append(f"{name} at {host}:{port} ({exc.strerror or exc})")
    if unreachable:
        pytest.fail(
            "the integration tests need the local stack (`make up`, or `make test`, which starts "
            "it); not listening: " + "; ".join(unreachable),
            pytrace=False,
        )


@pytest.fixture
async def notifications_sessions(database_factory):
    """Sessions on a fresh, migrated notifications database."""
    engine = create_engine(await database_factory("notifications"), pool_size=2)
    yield session_factory(engine)
    await engine.dispose()
