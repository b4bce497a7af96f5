"""Token buckets, client addresses, the audit record and the HTTP answers of the limits."""

import httpx
from fastapi import FastAPI, HTTPException

from common.audit import audit_record
from common.limits import AnonymousRateLimitMiddleware, TokenBuckets, client_address
from common.security import Principal, Role


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_says_when_to_return():
    ticks = Ticks()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=ticks)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == 0.5
    assert buckets.take("b") == 0.0
    ticks.now = 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_exhausted_reports_without_spending():
    ticks = Ticks()
    buckets = TokenBuckets(rate=1.0, burst=1, clock=ticks)
    assert buckets.exhausted("a") == 0.0
    buckets.take("a")
    assert buckets.exhausted("a") == 1.0
    assert buckets.exhausted("a") == 1.0
    ticks.now = 1.0
    assert buckets.exhausted("a") == 0.0


def test_a_zero_rate_switches_limits_off():
    buckets = TokenBuckets(rate=0, burst=1)
    assert all(buckets.take("a") == 0.0 for _ in range(100))


def test_full_buckets_are_forgotten_when_the_table_is_full():
    ticks = Ticks()
    buckets = TokenBuckets(rate=1.0, burst=1, max_keys=2, clock=ticks)
    buckets.take("a")
    buckets.take("b")
    ticks.now = 5.0
    buckets.take("c")
    assert buckets.take("a") == 0.0  # forgotten, so a fresh bucket


def test_x_forwarded_for_is_believed_only_when_trusted():
    scope = {
        "client": ("10.0.0.9", 5000),
        "headers": [(b"x-forwarded-for", b"203.0.113.7, 10.0.0.1")],
    }
    assert client_address(scope, trust_forwarded_for=False) == "10.0.0.9"
    assert client_address(scope, trust_forwarded_for=True) == "203.0.113.7"
    forged = {"client": ("10.0.0.9", 5000), "headers": [(b"x-forwarded-for", b"<script>")]}
    assert client_address(forged, trust_forwarded_for=True) == "10.0.0.9"


def test_only_writes_are_audited_and_name_their_object():
    principal = Principal(subject="dept", role=Role.department)
    assert (
        audit_record(principal, method="GET", path="/x", path_params={}, client_address=None)
        is None
    )
    record = audit_record(
        principal,
        method="PATCH",
        path="/api/v1/regions/lo/sectors/3",
        path_params={"slug": "lo", "number": "3"},
        client_address="10.0.0.9",
    )
    assert record is not None
    assert (record.subject, record.role, record.object_id) == ("dept", "department", "3")


def anonymous_app() -> FastAPI:
    app = FastAPI()

    @app.get("/api/v1/things")
    async def things(authorization: str | None = None) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/api/v1/private")
    async def private() -> dict[str, str]:
        raise HTTPException(401, "no")

    @app.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(
        AnonymousRateLimitMiddleware,
        buckets=TokenBuckets(rate=0.001, burst=2),
        trust_forwarded_for=False,
    )
    return app


async def test_anonymous_calls_and_failed_logins_share_the_address_budget():
    transport = httpx.ASGITransport(app=anonymous_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/v1/things")).status_code == 200
        failed = await client.get("/api/v1/private", headers={"Authorization": "Bearer forged"})
        assert failed.status_code == 401
        refused = await client.get("/api/v1/things")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        # A spent address waits with credentials too; health stays open.
        credentialed = await client.get("/api/v1/things", headers={"Authorization": "Bearer x"})
        assert credentialed.status_code == 429
        assert (await client.get("/health/live")).status_code == 200
