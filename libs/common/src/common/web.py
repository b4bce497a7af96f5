"""The service application factory: lifespan, health, metrics, request ids, problem+json."""

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Annotated, Any, Protocol
from uuid import uuid4

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common import metrics
from common.audit import AuditedUnitOfWork, audit_record, audit_router
from common.clock import Clock, SystemClock
from common.db import create_engine, session_factory
from common.http_guards import HttpGuardsMiddleware
from common.limits import (
    AnonymousRateLimitMiddleware,
    TokenBuckets,
    client_address,
    limit_address_rate,
    limit_principal_rate,
)
from common.logging import configure_logging
from common.messaging.consumer import ConsumerRunner, Subscription
from common.messaging.kafka import kafka_reachable
from common.messaging.outbox import OutboxRelay
from common.openapi import install_problem_documentation
from common.problems import install_problem_handlers, problem_response
from common.security import Principal, PrincipalDep
from common.settings import ServiceSettings

log = structlog.get_logger(__name__)

# Where every service mounts its routers (all but health and metrics).
API_PREFIX = "/api/v1"


class Worker(Protocol):
    """A background loop the service runs for its whole life (relay, consumer, scheduler)."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


WorkerFactory = Callable[[FastAPI], Worker]


class AnonymousRouter(APIRouter):
    """Routes that answer callers without credentials, such as the token endpoint.

    `create_app` mounts them like the others but resolves no principal for them: each call spends
    from its client address's anonymous budget instead of a principal's, and writes no audit row.
    """


# The path parameter that carries a credential, never written to the logs.
SECRET_PATH_PARAMETER = "{token}"


class RequestContextMiddleware:
    """Binds a request id to logs, echoes it back, times the request for /metrics."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode()[:100] or uuid4().hex
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                elapsed = time.perf_counter() - started
                metrics.HTTP_REQUESTS.labels(scope["method"], template, str(status)).observe(
                    elapsed
                )
                if not template.startswith(("/health", "/metrics")):
                    log.info(
                        "http request",
                        method=scope["method"],
                        # A token in the path is a credential (an emailed link's): logs keep
                        # the route, not the token.
                        path=template if SECRET_PATH_PARAMETER in template else scope["path"],
                        status=status,
                        duration_ms=round(elapsed * 1000, 2),
                    )


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: Sequence[APIRouter] = (),
    subscriptions: Sequence[Subscription] = (),
    workers: Sequence[WorkerFactory] = (),
    clock: Clock | None = None,
    body_limits: Mapping[str, int] | None = None,
) -> FastAPI:
    """A service app whose lifespan owns the engine, outbox relay, consumer and other workers.

    `body_limits` gives paths (API_PREFIX included) their own request body limit instead of
    the settings' `max_body_bytes`.
    """
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        running: list[Worker] = [
            OutboxRelay(
                engine,
                dsn=settings.asyncpg_dsn,
                bootstrap_servers=settings.kafka_servers,
                client_id=f"{settings.service_name}-outbox",
                batch_size=settings.outbox_batch_size,
                poll_interval=settings.outbox_poll_interval_seconds,
                max_backoff=settings.outbox_max_backoff_seconds,
                linger=settings.outbox_linger_seconds,
            )
        ]
        if subscriptions:
            running.append(
                ConsumerRunner(
                    name=settings.service_name,
                    subscriptions=subscriptions,
                    sessions=app.state.sessions,
                    bootstrap_servers=settings.kafka_servers,
                    source=settings.service_name,
                    group_id=settings.kafka_consumer_group,
                    auto_offset_reset=settings.kafka_auto_offset_reset,
                    max_attempts=settings.consumer_max_attempts,
                    max_backoff=settings.consumer_max_backoff_seconds,
                    max_batch=settings.kafka_consumer_batch_max,
                    consumer_options={"fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms},
                )
            )
        running.extend(factory(app) for factory in workers)
        app.state.workers = running
        tasks = [asyncio.create_task(w.run(), name=type(w).__name__) for w in running]
        tune_garbage_collection()
        log.info("service started", workers=[type(w).__name__ for w in running])
        try:
            yield
        finally:
            # Consumers first (no new work), then schedulers, the relay last so it flushes.
            for worker in reversed(running):
                worker.stop()
            await asyncio.gather(*tasks, return_exceptions=True)
            await engine.dispose()
            log.info("service stopped")

    app = FastAPI(title=title, description=description, version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.principal_rate = TokenBuckets(
        settings.rate_limit_per_second, settings.rate_limit_burst
    )
    app.state.anonymous_rate = TokenBuckets(
        settings.anonymous_rate_limit_per_second, settings.anonymous_rate_limit_burst
    )
    # Closed unless origins are configured: without the middleware no CORS header is ever sent.
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After", "Location"],
        )
    app.add_middleware(
        AnonymousRateLimitMiddleware,
        buckets=app.state.anonymous_rate,
        trust_forwarded_for=settings.trust_forwarded_for,
    )
    app.add_middleware(
        HttpGuardsMiddleware, max_body_bytes=settings.max_body_bytes, path_limits=body_limits
    )
    app.add_middleware(RequestContextMiddleware)
    install_problem_handlers(app)
    app.include_router(operations_router())
    for router in [*routers, audit_router()]:
        app.include_router(router, prefix=API_PREFIX, dependencies=caller_limits(router))
    install_problem_documentation(app)
    return app


def operations_router() -> APIRouter:
    """Health and metrics: never rate-limited, never need a principal."""
    router = APIRouter(tags=["operations"])

    @router.get("/health/live", summary="The process is up")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/health/ready",
        summary="The database and Kafka answer",
        responses={503: {"description": "A dependency is unreachable"}},
    )
    async def ready(request: Request) -> Response:
        settings: ServiceSettings = request.app.state.settings
        checks: dict[str, str] = {}
        try:
            async with request.app.state.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=3)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {type(exc).__name__}"
        checks["kafka"] = "ok" if await kafka_reachable(settings.kafka_servers) else "unreachable"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ok", "checks": checks})
        return problem_response(503, "A dependency is unreachable", checks=checks)

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


def caller_limits(router: APIRouter) -> list[Any]:
    """The dependencies every route of `router` runs first: who calls, and their rate limit."""
    if isinstance(router, AnonymousRouter):
        return [Depends(limit_address_rate)]
    return [Depends(admit_principal)]


# Python's default collects the youngest generation every 700 net allocations.
GC_YOUNG_THRESHOLD = 20_000


@cache  # once per process: a test process starts many apps, and should freeze only once
def tune_garbage_collection() -> None:
    """Keep the cyclic garbage collector off the hot paths of a long-lived service.

    Everything loaded at start-up (modules, routes, schemas, pools) lives as long as the
    process: frozen, no full collection walks it again. Requests allocate in bursts (a bulk
    import makes hundreds of thousands of short-lived objects): collecting the youngest
    generation every 700 allocations spent about a quarter of an import's time in the collector.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


async def admit_principal(request: Request, principal: PrincipalDep) -> None:
    """Keep the caller of an API route for its audit row; 429 once it spent its request budget.

    One dependency, not two: FastAPI's solving costs each request as much as their work.
    """
    request.state.principal = principal
    limit_principal_rate(request, principal)


async def get_uow(request: Request) -> AsyncIterator[AuditedUnitOfWork]:
    """A unit of work for one request; it rolls back unless the route commits.

    On the API routers (where the caller is known) a write request's commit also records who
    wrote what, from where: the audit trail. Routes without a principal, such as the token
    endpoint that must answer callers without credentials, are not audited here.
    """
    settings: ServiceSettings = request.app.state.settings
    principal: Principal | None = getattr(request.state, "principal", None)
    audit = (
        audit_record(
            principal,
            method=request.method,
            path=request.url.path,
            path_params=request.path_params,
            client_address=client_address(
                request.scope, trust_forwarded_for=settings.trust_forwarded_for
            ),
        )
        if principal is not None
        else None
    )
    async with AuditedUnitOfWork(
        request.app.state.sessions, source=settings.service_name, audit=audit
    ) as uow:
        yield uow


UnitOfWorkDep = Annotated[AuditedUnitOfWork, Depends(get_uow)]
