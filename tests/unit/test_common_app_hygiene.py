"""What every service app answers regardless of its routes: CORS, security headers, rate limits."""

import httpx
from fastapi import APIRouter, FastAPI

from common.security import Principal, Role, current_principal
from common.settings import ServiceSettings
from common.web import create_app

router = APIRouter()


@router.get("/things")
async def things() -> dict[str, str]:
    return {"ok": "yes"}


@router.get("/boom")
async def boom() -> dict[str, str]:
    raise RuntimeError("secret internals")


def app(**settings: object) -> FastAPI:
    application = create_app(
        ServiceSettings(
            service_name="hygiene",
            database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
            **settings,
        ),
        title="hygiene",
        description="test",
        routers=[router],
    )
    principal = Principal(subject="someone", role=Role.department, region="r")
    application.dependency_overrides[current_principal] = lambda: principal
    return application


def client(application: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


PREFLIGHT = {"Origin": "https://portal.example", "Access-Control-Request-Method": "GET"}


async def test_cors_is_closed_unless_origins_are_configured():
    async with client(app()) as c:
        preflight = await c.options("/api/v1/things", headers=PREFLIGHT)
        simple = await c.get("/api/v1/things", headers={"Origin": "https://portal.example"})
    assert not any(h.startswith("access-control-") for h in preflight.headers)
    assert not any(h.startswith("access-control-") for h in simple.headers)


async def test_configured_origins_and_only_they_are_allowed():
    async with client(app(cors_allowed_origins=["https://portal.example"])) as c:
        allowed = await c.options("/api/v1/things", headers=PREFLIGHT)
        other = await c.get("/api/v1/things", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
    assert allowed.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in other.headers


async def test_an_unexpected_error_carries_the_security_headers():
    async with client(app()) as c:
        response = await c.get("/api/v1/boom")
    assert response.status_code == 500
    assert "secret" not in response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-request-id"]


async def test_a_principal_over_its_rate_gets_429_with_retry_after():
    async with client(app(rate_limit_per_second=0.01, rate_limit_burst=2)) as c:
        statuses = [(await c.get("/api/v1/things")).status_code for _ in range(2)]
        refused = await c.get("/api/v1/things")
        health = await c.get("/health/live")
    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-content-type-options"] == "nosniff"
    assert health.status_code == 200
