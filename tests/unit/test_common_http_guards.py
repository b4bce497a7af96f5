"""Body size limits and security headers that every service answers with."""

import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel

from common.settings import ServiceSettings
from common.web import create_app
from tests.support.auth import ADMIN, auth_headers

router = APIRouter()


class Item(BaseModel):
    text: str


@router.post("/echo")
async def echo(request: Request) -> dict[str, int]:
    return {"size": len(await request.body())}


@router.post("/items")
async def create_item(item: Item) -> Item:
    return item


def client() -> httpx.AsyncClient:
    settings = ServiceSettings(
        service_name="guards",
        database_url="postgresql+asyncpg://unused/x",
        max_body_bytes=2048,
        log_json=False,
    )
    app = create_app(settings, title="t", description="t", routers=[router])
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=auth_headers(ADMIN)
    )


async def test_declared_oversized_body_is_refused_with_413():
    async with client() as c:
        response = await c.post("/api/v1/echo", content=b"x" * 4096)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "2048" in response.json()["detail"]


async def test_streamed_oversized_body_is_refused_with_413():
    async def chunks():
        for _ in range(8):
            yield b"x" * 512

    async with client() as c:
        raw = await c.post("/api/v1/echo", content=chunks())
        parsed = await c.post(
            "/api/v1/items", content=chunks(), headers={"content-type": "application/json"}
        )
    assert raw.status_code == 413
    assert parsed.status_code == 413, parsed.text


async def test_body_within_limit_passes_and_responses_carry_security_headers():
    async with client() as c:
        response = await c.post("/api/v1/echo", content=b"x" * 1024)
        docs = await c.get("/docs")
    assert response.status_code == 200 and response.json() == {"size": 1024}
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "content-security-policy" not in docs.headers
    assert "access-control-allow-origin" not in response.headers  # CORS stays closed
