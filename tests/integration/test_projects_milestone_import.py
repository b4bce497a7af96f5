"""Importing a plan of past years (`announce_overdue: false`): milestones already due are
recorded missed without an overdue event; those still ahead are announced when they pass."""

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from common.events import MilestoneStatus
from tests.integration.projects_fixtures import (  # noqa: F401 (fixtures)
    API,
    ok,
    outbox_size,
    projects_fixture,
    seed_department,
    seed_project,
    seed_region,
    tap_fixture,
)
from tests.support.kafka import of_type

pytestmark = pytest.mark.integration


def iso(moment: datetime) -> str:
    """A timestamp as the API renders it."""
    return moment.isoformat().replace("+00:00", "Z")


async def imported_project(client) -> dict:
    """A project of a new region and department."""
    slug = await seed_region(client)
    department = await seed_department(client, slug)
    return await seed_project(client, slug, responsible_department_id=department["id"])


async def test_history_is_recorded_missed_and_only_what_passes_later_is_announced(projects, tap):
    client = projects.client
    project = await imported_project(client)
    url = f"{API}/projects/{project['id']}/milestones"
    history = {"title": "К концу 2022 года: ЦОД создан", "year": 2022, "announce_overdue": False}
    ahead = {"title": "К концу 2024 года: все школы", "year": 2024, "announce_overdue": False}
    dated = {"title": "Пилот завершён", "due_date": "2024-05-31", "announce_overdue": False}

    loaded_history = ok(await client.put(url, json=history), 201)
    loaded_ahead = ok(await client.put(url, json=ahead), 201)
    posted = ok(await client.post(url, json=dated), 201)
    now = iso(projects.clock.now())
    assert (loaded_history["status"], loaded_history["missed_at"]) == ("missed", now)
    assert (loaded_ahead["status"], loaded_ahead["missed_at"]) == ("pending", None)
    assert (posted["status"], posted["missed_at"]) == ("missed", now)
    scheduled = await tap.wait_for(
        of_type("project.milestone_scheduled", subject=project["id"]), count=3
    )
    assert [(s.envelope.data.title, s.envelope.data.status) for s in scheduled] == [
        (history["title"], MilestoneStatus.missed),
        (ahead["title"], MilestoneStatus.pending),
        (dated["title"], MilestoneStatus.missed),
    ]

    # Loading the same plan again changes nothing and stages no event.
    staged = await outbox_size(projects.database_url)
    assert ok(await client.put(url, json=history), 200) == loaded_history
    assert await outbox_size(projects.database_url) == staged

    # The scan runs on; once the 2024 milestone's date passes, it alone is announced.
    overdue = of_type("project.milestone_overdue", subject=project["id"])
    projects.clock.set(datetime(2025, 1, 1, 9, tzinfo=UTC))
    await tap.wait_for(overdue)
    await tap.settle()
    assert [s.envelope.data.milestone_id for s in tap.matching(overdue)] == [
        UUID(loaded_ahead["id"])
    ]

    # A milestone of the past can still be reported reached, which is news.
    reached = ok(await client.post(f"{API}/milestones/{loaded_history['id']}/reach", json={}))
    assert (reached["status"], reached["missed_at"]) == ("reached", now)
    [seen] = await tap.wait_for(of_type("project.milestone_reached", subject=project["id"]))
    assert seen.envelope.data.due_date == date(2022, 12, 31)


async def test_a_reloaded_milestone_moved_into_the_past_is_recorded_missed_quietly(projects, tap):
    client = projects.client
    project = await imported_project(client)
    url = f"{API}/projects/{project['id']}/milestones"
    plan = {"title": "Портал введён", "year": 2024, "announce_overdue": False}
    milestone = ok(await client.put(url, json=plan), 201)
    assert milestone["status"] == "pending"

    moved = ok(await client.put(url, json={**plan, "year": 2023}), 200)
    assert (moved["due_date"], moved["status"]) == ("2023-12-31", "missed")
    scheduled = await tap.wait_for(
        of_type("project.milestone_scheduled", subject=project["id"]), count=2
    )
    assert scheduled[-1].envelope.data.status == MilestoneStatus.missed

    # Without the flag, the same move leaves the milestone to the scan, which announces it.
    announced = {"title": "ЦОД введён", "year": 2024}
    ok(await client.put(url, json=announced), 201)
    ok(await client.put(url, json={**announced, "year": 2023}), 200)
    overdue = of_type("project.milestone_overdue", subject=project["id"])
    await tap.wait_for(overdue)
    await tap.settle()
    assert [s.envelope.data.title for s in tap.matching(overdue)] == [announced["title"]]
