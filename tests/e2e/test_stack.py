"""The running stack (`make up`): every service is migrated, ready, documented and measured."""

import os

import httpx
import pytest

pytestmark = pytest.mark.e2e

SERVICES = {
    "projects": os.environ.get("PROJECTS_URL", "http://127.0.0.1:8001"),
    "indicators": os.environ.get("INDICATORS_URL", "http://127.0.0.1:8002"),
    "notifications": os.environ.get("NOTIFICATIONS_URL", "http://127.0.0.1:8003"),
}


@pytest.mark.parametrize("service", SERVICES)
async def test_service_is_ready_with_database_and_kafka(service):
    async with httpx.AsyncClient(base_url=SERVICES[service], timeout=10) as client:
        live = await client.get("/health/live")
        ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}


@pytest.mark.parametrize("service", SERVICES)
async def test_service_publishes_openapi_and_metrics(service):
    async with httpx.AsyncClient(base_url=SERVICES[service], timeout=10) as client:
        openapi = await client.get("/openapi.json")
        metrics = await client.get("/metrics")
        request_id = (await client.get("/health/live", headers={"X-Request-ID": "e2e-1"})).headers
    assert openapi.status_code == 200 and openapi.json()["openapi"].startswith("3.")
    assert metrics.status_code == 200
    assert "outbox_backlog" in metrics.text and "http_request_duration_seconds" in metrics.text
    assert request_id["x-request-id"] == "e2e-1"
