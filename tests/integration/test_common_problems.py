"""Values the database cannot hold are the client's error (422), never a 500."""

from uuid import uuid4

import pytest

from projects.config import Settings
from projects.main import build_app
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.services import RunningService

pytestmark = pytest.mark.integration


async def test_a_nul_character_in_a_filter_is_refused_with_422(database_factory):
    url = await database_factory("projects")
    settings = Settings(
        database_url=url,
        kafka_bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS,
        kafka_consumer_group=f"test-{uuid4().hex}",
        kafka_auto_offset_reset="latest",
    )
    service = await RunningService(lambda: build_app(settings)).start()
    try:
        async with service.client() as client:
            refused = await client.get("/api/v1/projects", params={"q": "цифр\x00"})
            still_serving = await client.get("/api/v1/projects", params={"q": "цифр"})
    finally:
        await service.stop()
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert "NUL" in refused.json()["detail"]
    assert still_serving.status_code == 200
