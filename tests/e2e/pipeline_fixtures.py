"""The three services in-process on fresh databases, wired only by real Kafka, real PostgreSQL
and the real SMTP sink; helpers to seed a strategy through the public HTTP APIs."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx

from common.clock import ManualClock
from common.messaging.consumer import ConsumerRunner
from indicators.config import Settings as IndicatorsSettings
from indicators.main import build_app as build_indicators
from notifications.main import build_app as build_notifications
from projects.config import Settings as ProjectsSettings
from projects.main import build_app as build_projects
from tests.integration.notifications_fixtures import (
    Mailbox,
    eventually,
    service_settings,
    start_group_at_the_end,
)
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS, MAIL_API_URL
from tests.support.services import RunningService

API = "/api/v1"
# The projects service lives on 1 June 2024: milestones due at the end of June are not late yet.
PROJECTS_START = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)
# The indicators service lives on 10 January 2024: 2023 is over, its report not yet due (30 days),
# so no overdue report and no forecast muddles the emails under test.
INDICATORS_START = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
REGION_NAME = "Ленинградская область"
# Other suites and benchmarks publish on the same topics; the test's events wait behind theirs
# in every consumer's queue, so an email may take minutes on a busy machine.
MAIL_TIMEOUT = 600.0
INDICATOR_NAME = "Доля школ, подключённых к высокоскоростному интернету"
# Long enough for a stray extra email to arrive on a loaded machine before counting again.
SETTLE_SECONDS = 8


def subjects(messages: list[dict]) -> list[str]:
    """The Subject of each message."""
    return [m["Subject"] for m in messages]


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that must have this status."""
    assert response.status_code == status, response.text
    return response.json()


async def consumer_ready(service: RunningService) -> None:
    """Wait until the service's consumer (if it has one) holds its partitions."""
    for runner in service.app.state.workers:
        if isinstance(runner, ConsumerRunner):
            await asyncio.wait_for(runner.ready.wait(), 120)


async def start(service: RunningService, group: str) -> RunningService:
    """Start a service whose consumer group starts at the current end of every topic."""
    await start_group_at_the_end(group)
    await service.start()
    await consumer_ready(service)
    return service


@dataclass
class Pipeline:
    """The three running services, the projects service's clock, the notifications group."""

    projects: RunningService
    indicators: RunningService
    notifications: RunningService
    projects_clock: ManualClock
    notifications_group: str
    mailbox: Mailbox

    async def restart_notifications(self) -> None:
        """Stop the notifications service (as on SIGTERM) and start it on the same group."""
        await self.notifications.stop()
        await start(self.notifications, self.notifications_group)


@asynccontextmanager
async def pipeline(
    database_factory,
    *,
    notifications_clock: ManualClock | None = None,
    mail_api_url: str = MAIL_API_URL,
    **notifications_overrides: Any,
) -> AsyncIterator[Pipeline]:
    """All three services, each on a fresh database with a consumer group of its own; the
    notifications service on `notifications_clock` (the wall clock if None) with its settings
    overridden, its mail read from `mail_api_url`."""
    projects_db = await database_factory("projects")
    indicators_db = await database_factory("indicators")
    notifications_db = await database_factory("notifications")
    projects_clock = ManualClock(PROJECTS_START)
    indicators_clock = ManualClock(INDICATORS_START)
    common: dict[str, Any] = {
        "kafka_bootstrap_servers": KAFKA_BOOTSTRAP_SERVERS,
        "kafka_auto_offset_reset": "latest",
        "outbox_poll_interval_seconds": 0.2,
        "consumer_max_backoff_seconds": 0.5,
        "log_json": False,
    }
    projects_settings = ProjectsSettings(
        database_url=projects_db,
        kafka_consumer_group=f"test-{uuid4().hex}",
        milestone_overdue_interval_seconds=0.2,
        **common,
    )
    indicators_settings = IndicatorsSettings(
        database_url=indicators_db,
        kafka_consumer_group=f"test-{uuid4().hex}",
        overdue_scan_interval_seconds=0.2,
        database_pool_size=5,
        **common,
    )
    # service_settings gives the service this test process's sender address, and the mailbox
    # reads only that: other notifications instances on the shared topics mail these recipients too.
    notifications_settings = service_settings(
        notifications_db, outbox_poll_interval_seconds=0.2, **notifications_overrides
    )
    async with AsyncExitStack() as stack:
        services = []
        for build, settings, clock in (
            (build_projects, projects_settings, projects_clock),
            (build_indicators, indicators_settings, indicators_clock),
            (build_notifications, notifications_settings, notifications_clock),
        ):
            service = RunningService(lambda b=build, s=settings, c=clock: b(s, c))
            stack.push_async_callback(service.stop)
            services.append(await start(service, settings.kafka_consumer_group))
        yield Pipeline(
            *services,
            projects_clock=projects_clock,
            notifications_group=notifications_settings.kafka_consumer_group,
            mailbox=Mailbox(mail_api_url, timeout=MAIL_TIMEOUT),
        )


@dataclass
class Strategy:
    """What the test seeds: a region of its own, a department, a coordinator, a project."""

    tag: str = field(default_factory=lambda: uuid4().hex[:10])
    region: str = ""
    department_id: UUID | None = None
    coordinator_id: UUID | None = None
    project_id: UUID | None = None
    indicator_id: UUID | None = None

    @property
    def department_email(self) -> str:
        return f"kcr-{self.tag}@lenreg.example.ru"

    @property
    def coordinator_email(self) -> str:
        return f"coord-{self.tag}@gov.example.ru"


async def seed_strategy(projects: httpx.AsyncClient) -> Strategy:
    """Region, sector, department, coordinator and project, through the projects API."""
    strategy = Strategy()
    strategy.region = f"test-{strategy.tag}"
    ok(await projects.put(f"{API}/regions/{strategy.region}", json={"name": REGION_NAME}), 201)
    ok(
        await projects.put(
            f"{API}/regions/{strategy.region}/sectors/3", json={"name": "Образование"}
        ),
        201,
    )
    department = await projects.post(
        f"{API}/departments",
        json={
            "region": strategy.region,
            "full_name": "Комитет цифрового развития Ленинградской области",
            "short_name": "КЦР ЛО",
            "emails": [strategy.department_email],
        },
    )
    strategy.department_id = UUID(ok(department, 201)["id"])
    coordinator = await projects.post(
        f"{API}/coordinators",
        json={
            "region": strategy.region,
            "name": "Иванова Мария Петровна",
            "email": strategy.coordinator_email,
        },
    )
    strategy.coordinator_id = UUID(ok(coordinator, 201)["id"])
    project = await projects.post(
        f"{API}/projects",
        json={
            "region": strategy.region,
            "sector_number": 3,
            "number": 1,
            "name": "Цифровая школа",
            "responsible_department_id": str(strategy.department_id),
        },
    )
    strategy.project_id = UUID(ok(project, 201)["id"])
    return strategy


async def create_indicator(indicators: httpx.AsyncClient, strategy: Strategy) -> UUID:
    """The strategy's annual % indicator (2023: 50, 2024: 60, tolerance 5 %), through the API."""
    created = await indicators.post(
        f"{API}/indicators",
        json={
            "project_id": str(strategy.project_id),
            "name": INDICATOR_NAME,
            "unit": "%",
            "direction": "higher_is_better",
            "frequency": "annual",
            "targets": {"2023": 50, "2024": 60},
            "tolerance_percent": 5,
        },
    )
    strategy.indicator_id = UUID(ok(created, 201)["id"])
    return strategy.indicator_id


async def indicators_know_project(indicators: httpx.AsyncClient, strategy: Strategy) -> None:
    """Wait until the indicators service's read model has the project and its department."""

    async def known() -> bool:
        found = ok(
            await indicators.get(f"{API}/directory/projects", params={"region": strategy.region})
        )
        return any(
            p["project_id"] == str(strategy.project_id)
            and p["responsible_department_id"] == str(strategy.department_id)
            for p in found["items"]
        )

    await eventually(known, "the indicators service to learn the project")
