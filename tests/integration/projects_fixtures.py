"""Fixtures and helpers of the projects service's integration tests."""

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from common.clock import ManualClock
from common.events import PROJECTS_TOPIC, IntegrationEvent
from projects.config import Settings
from projects.main import build_app
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.kafka import EventTap, Seen, of_type
from tests.support.services import RunningService

API = "/api/v1"
# Mid-2024: inside the strategies' period, so dates on both sides of "now" make sense.
START = datetime(2024, 6, 1, 9, 0, tzinfo=UTC)


def projects_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test instance: its own consumer group, fast outbox and overdue scans."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": KAFKA_BOOTSTRAP_SERVERS,
        "kafka_consumer_group": f"test-{uuid4().hex}",
        "kafka_auto_offset_reset": "latest",
        "outbox_poll_interval_seconds": 0.2,
        "milestone_overdue_interval_seconds": 0.2,
        "log_json": False,
    }
    return Settings(**{**values, **overrides})


@dataclass
class ProjectsUnderTest:
    """A running projects service on a fresh database, with its manual clock and a client."""

    service: RunningService
    client: httpx.AsyncClient
    clock: ManualClock
    database_url: str

    async def restart(self) -> None:
        """Stop the service (as on SIGTERM) and start it again on the same database and clock."""
        await self.client.aclose()
        await self.service.stop()
        await self.service.start()
        self.client = self.service.client()


def running_projects(database_url: str, clock: ManualClock, **overrides: Any) -> RunningService:
    """A projects service (not started yet) on a database, driven by a manual clock."""
    return RunningService(lambda: build_app(projects_settings(database_url, **overrides), clock))


@pytest.fixture(name="projects")
async def projects_fixture(database_factory) -> AsyncIterator[ProjectsUnderTest]:
    """The projects service on a fresh migrated database, stopped afterwards."""
    url = await database_factory("projects")
    clock = ManualClock(START)
    service = await running_projects(url, clock).start()
    running = ProjectsUnderTest(service, service.client(), clock, url)
    try:
        yield running
    finally:
        await running.client.aclose()
        await running.service.stop()


@pytest.fixture(name="tap")
async def tap_fixture() -> AsyncIterator[EventTap]:
    """Everything published on the projects topic from now on."""
    async with EventTap(PROJECTS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap:
        yield tap


def about(subject: Any) -> Callable[[Seen], bool]:
    """Records whose CloudEvents subject is this aggregate id, of any type."""
    return lambda seen: seen.envelope is not None and seen.envelope.subject == str(subject)


def unique_slug() -> str:
    """A region slug no other test uses, so events can be told apart on the shared topic."""
    return f"test-{uuid4().hex[:10]}"


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that must have this status."""
    assert response.status_code == status, response.text
    return response.json()


async def seed_region(client: httpx.AsyncClient, sectors: int = 2) -> str:
    """A new region with numbered sectors; returns its slug."""
    slug = unique_slug()
    ok(await client.put(f"{API}/regions/{slug}", json={"name": "Ленинградская область"}), 201)
    names = ["Образование и наука", "Здравоохранение", "Транспорт", "Экология"]
    for number in range(1, sectors + 1):
        ok(
            await client.put(
                f"{API}/regions/{slug}/sectors/{number}", json={"name": names[number - 1]}
            ),
            201,
        )
    return slug


async def seed_department(client: httpx.AsyncClient, region: str, **fields: Any) -> dict[str, Any]:
    """A new department of a region."""
    body = {
        "region": region,
        "full_name": f"Комитет цифрового развития {uuid4().hex[:6]}",
        "short_name": "КЦР",
        "emails": ["kcr@lenreg.ru"],
        **fields,
    }
    return ok(await client.post(f"{API}/departments", json=body), 201)


async def seed_project(client: httpx.AsyncClient, region: str, **fields: Any) -> dict[str, Any]:
    """A new project in sector 1 of a region (a random number unless given)."""
    body = {
        "region": region,
        "sector_number": 1,
        "number": int(uuid4().int % 9000) + 1,
        "name": "Цифровая образовательная среда",
        **fields,
    }
    return ok(await client.post(f"{API}/projects", json=body), 201)


def key_of(seen: Seen) -> str:
    """The Kafka key of a record as text."""
    assert seen.key is not None
    return seen.key.decode()


async def event(tap: EventTap, event_type: str, subject: Any) -> IntegrationEvent:
    """The first `event_type` event about `subject`, checked to be keyed by that aggregate id."""
    [seen, *_] = await tap.wait_for(of_type(event_type, subject=str(subject)))
    assert key_of(seen) == str(subject)
    assert seen.envelope.source == "/services/projects"
    return seen.envelope.data


async def only_event(tap: EventTap, event_type: str, subject: Any) -> IntegrationEvent:
    """The one and only `event_type` event about `subject`, after late duplicates had a chance."""
    data = await event(tap, event_type, subject)
    await tap.settle()
    assert len(tap.matching(of_type(event_type, subject=str(subject)))) == 1
    return data


async def outbox_size(database_url: str) -> int:
    """How many events the service has ever staged in its outbox."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox_messages")
    finally:
        await conn.close()


def fields_of(problem: dict[str, Any]) -> set[str]:
    """The fields a problem+json body names."""
    return {error["field"] for error in problem.get("errors", [])}


def assert_problem(response: httpx.Response, status: int, fields: set[str]) -> dict[str, Any]:
    """A problem+json answer with this status that names exactly these fields."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert fields_of(body) == fields, body
    return body
