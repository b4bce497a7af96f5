"""Readiness tells the truth about the service's dependencies."""

from uuid import uuid4

import pytest

from projects.config import Settings
from projects.main import build_app
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.services import RunningService, free_port

pytestmark = pytest.mark.integration


def settings(database_url: str, kafka: str) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka,
        kafka_consumer_group=f"test-{uuid4().hex}",
        kafka_auto_offset_reset="latest",
    )


async def test_ready_when_database_and_kafka_answer(database_factory):
    url = await database_factory("projects")
    service = await RunningService(
        lambda: build_app(settings(url, KAFKA_BOOTSTRAP_SERVERS))
    ).start()
    try:
        async with service.client() as client:
            response = await client.get("/health/ready")
    finally:
        await service.stop()
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "kafka": "ok"}


async def test_not_ready_when_kafka_is_unreachable(database_factory):
    url = await database_factory("projects")
    dead_kafka = f"127.0.0.1:{free_port()}"
    service = await RunningService(lambda: build_app(settings(url, dead_kafka))).start()
    try:
        async with service.client() as client:
            response = await client.get("/health/ready")
            live = await client.get("/health/live")
    finally:
        await service.stop()
    assert live.status_code == 200
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"] == {"database": "ok", "kafka": "unreachable"}


async def test_not_ready_when_database_is_unreachable():
    dead_db = f"postgresql+asyncpg://strategy:strategy@127.0.0.1:{free_port()}/projects"
    service = await RunningService(
        lambda: build_app(settings(dead_db, KAFKA_BOOTSTRAP_SERVERS))
    ).start()
    try:
        async with service.client() as client:
            response = await client.get("/health/ready")
    finally:
        await service.stop()
    assert response.status_code == 503
    assert response.json()["checks"]["database"].startswith("unreachable")
    assert response.json()["checks"]["kafka"] == "ok"
