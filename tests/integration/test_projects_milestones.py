"""Milestones through the running service: CRUD, reaching once, overdue once across restarts."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from common.events import (
    MilestoneOverdue,
    MilestoneReached,
    MilestoneRemoved,
    MilestoneScheduled,
    MilestoneStatus,
)
from tests.integration.projects_fixtures import (  # noqa: F401 (fixtures)
    API,
    assert_problem,
    fields_of,
    key_of,
    ok,
    only_event,
    outbox_size,
    projects_fixture,
    running_projects,
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


async def seeded_project(client) -> tuple[str, dict, dict]:
    """A region, its department and a project of that department."""
    slug = await seed_region(client)
    department = await seed_department(client, slug)
    project = await seed_project(client, slug, responsible_department_id=department["id"])
    return slug, department, project


async def add_milestone(client, project_id: str, **body) -> dict:
    """POST a milestone that must be created."""
    return ok(await client.post(f"{API}/projects/{project_id}/milestones", json=body), 201)


async def test_milestones_are_created_listed_changed_and_deleted(projects):
    client = projects.client
    _, _, project = await seeded_project(client)
    url = f"{API}/projects/{project['id']}/milestones"
    year_end = await add_milestone(client, project["id"], title="Все школы подключены", year=2024)
    assert (year_end["due_date"], year_end["status"]) == ("2024-12-31", "pending")
    dated = await add_milestone(
        client, project["id"], title="Запущен портал", due_date="2024-09-15", evidence="План"
    )
    assert dated["due_date"] == "2024-09-15" and dated["evidence"] == "План"

    duplicate = await client.post(url, json={"title": "Запущен портал", "year": 2025})
    assert_problem(duplicate, 409, {"title"})
    for body, field in [
        ({"title": "А", "year": 2024, "due_date": "2024-01-01"}, "year"),
        ({"title": "А"}, "year"),
        ({"title": "А", "due_date": "1999-12-31"}, "due_date"),
        ({"title": "А", "due_date": "31.12.2024"}, "due_date"),
        ({"title": "А", "year": 2101}, "year"),
        ({"title": " ", "year": 2024}, "title"),
    ]:
        response = await client.post(url, json=body)
        assert response.status_code == 422, body
        assert field in fields_of(response.json()), (body, response.json())

    listed = ok(await client.get(url))
    assert [m["id"] for m in listed["items"]] == [dated["id"], year_end["id"]]
    assert listed["total"] == 2
    assert ok(await client.get(url, params={"status": "reached"}))["total"] == 0

    moved = ok(
        await client.patch(
            f"{API}/milestones/{dated['id']}", json={"due_date": "2024-10-01", "evidence": None}
        )
    )
    assert (moved["due_date"], moved["evidence"]) == ("2024-10-01", None)
    taken = await client.patch(
        f"{API}/milestones/{dated['id']}", json={"title": "Все школы подключены"}
    )
    assert taken.status_code == 409
    assert ok(await client.get(f"{API}/milestones/{dated['id']}")) == moved

    deleted = await client.delete(f"{API}/milestones/{dated['id']}")
    assert deleted.status_code == 204
    assert (await client.get(f"{API}/milestones/{dated['id']}")).status_code == 404
    assert (await client.get(f"{API}/projects/{uuid4()}/milestones")).status_code == 404
    assert (
        await client.post(f"{API}/projects/{uuid4()}/milestones", json={"title": "А", "year": 2024})
    ).status_code == 404


async def test_every_milestone_edit_is_one_event_keyed_by_its_project(projects, tap):
    client = projects.client
    slug, department, project = await seeded_project(client)
    url = f"{API}/projects/{project['id']}/milestones"
    portal = await add_milestone(client, project["id"], title="Запущен портал", year=2024)
    schools = {"title": "Все школы подключены", "year": 2024}
    loaded = ok(await client.put(url, json=schools), 201)
    staged = await outbox_size(projects.database_url)
    assert ok(await client.put(url, json=schools), 200) == loaded
    assert await outbox_size(projects.database_url) == staged
    ok(await client.put(url, json={**schools, "year": 2025, "evidence": "План-график"}), 200)
    ok(await client.patch(f"{API}/milestones/{portal['id']}", json={"title": "Портал введён"}))
    ok(await client.patch(f"{API}/milestones/{portal['id']}", json={"title": "Портал введён"}))
    assert (await client.delete(f"{API}/milestones/{portal['id']}")).status_code == 204

    def scheduled(milestone: dict, title: str, due: date, evidence=None) -> MilestoneScheduled:
        return MilestoneScheduled(
            milestone_id=UUID(milestone["id"]),
            project_id=UUID(project["id"]),
            project_name=project["name"],
            region=slug,
            sector_number=1,
            responsible_department_id=UUID(department["id"]),
            title=title,
            due_date=due,
            status=MilestoneStatus.pending,
            evidence=evidence,
        )

    expected = [
        scheduled(portal, "Запущен портал", date(2024, 12, 31)),
        scheduled(loaded, "Все школы подключены", date(2024, 12, 31)),
        scheduled(loaded, "Все школы подключены", date(2025, 12, 31), "План-график"),
        scheduled(portal, "Портал введён", date(2024, 12, 31)),
        MilestoneRemoved(
            milestone_id=UUID(portal["id"]), project_id=UUID(project["id"]), region=slug
        ),
    ]
    edits = of_type("project.milestone_scheduled", subject=project["id"])
    removals = of_type("project.milestone_removed", subject=project["id"])
    await tap.wait_for(lambda seen: edits(seen) or removals(seen), count=len(expected))
    await tap.settle()
    seen = tap.matching(lambda seen: edits(seen) or removals(seen))
    assert [s.envelope.data for s in seen] == expected
    assert {key_of(s) for s in seen} == {project["id"]}


async def test_reaching_a_milestone_emits_exactly_one_event(projects, tap):
    client = projects.client
    slug, department, project = await seeded_project(client)
    milestone = await add_milestone(client, project["id"], title="Все ФАП подключены", year=2024)
    projects.clock.advance(timedelta(days=10))

    future = await client.post(
        f"{API}/milestones/{milestone['id']}/reach",
        json={"reached_at": iso(projects.clock.now() + timedelta(days=1))},
    )
    assert_problem(future, 422, {"reached_at"})
    naive = await client.post(
        f"{API}/milestones/{milestone['id']}/reach", json={"reached_at": "2024-06-01T10:00:00"}
    )
    assert_problem(naive, 422, {"reached_at"})

    reached = ok(
        await client.post(
            f"{API}/milestones/{milestone['id']}/reach", json={"evidence": "Акт № 15"}
        )
    )
    assert reached["status"] == "reached"
    assert reached["reached_at"] == iso(projects.clock.now())
    assert reached["evidence"] == "Акт № 15"

    again = await client.post(f"{API}/milestones/{milestone['id']}/reach", json={})
    assert again.status_code == 409
    assert again.json()["reached_at"] == reached["reached_at"].replace("Z", "+00:00")

    assert await only_event(tap, "project.milestone_reached", project["id"]) == MilestoneReached(
        milestone_id=UUID(milestone["id"]),
        project_id=UUID(project["id"]),
        project_name=project["name"],
        region=slug,
        sector_number=1,
        responsible_department_id=UUID(department["id"]),
        title="Все ФАП подключены",
        due_date=date(2024, 12, 31),
        reached_at=projects.clock.now(),
        evidence="Акт № 15",
    )
    assert (await client.post(f"{API}/milestones/{uuid4()}/reach")).status_code == 404


async def test_a_passed_due_date_is_reported_once_and_the_milestone_can_still_be_reached(
    projects, tap
):
    client = projects.client
    slug, department, project = await seeded_project(client)
    late = await add_milestone(client, project["id"], title="Просрочен", due_date="2024-05-31")
    today = await add_milestone(client, project["id"], title="Сегодня", due_date="2024-06-01")

    overdue = await only_event(tap, "project.milestone_overdue", project["id"])
    assert overdue == MilestoneOverdue(
        milestone_id=UUID(late["id"]),
        project_id=UUID(project["id"]),
        project_name=project["name"],
        region=slug,
        sector_number=1,
        responsible_department_id=UUID(department["id"]),
        title="Просрочен",
        due_date=date(2024, 5, 31),
    )
    missed = ok(await client.get(f"{API}/milestones/{late['id']}"))
    assert (missed["status"], missed["missed_at"]) == ("missed", iso(projects.clock.now()))
    # Due today is not overdue yet: the day has not passed.
    assert ok(await client.get(f"{API}/milestones/{today['id']}"))["status"] == "pending"

    reached = ok(await client.post(f"{API}/milestones/{late['id']}/reach", json={}))
    assert reached["status"] == "reached" and reached["missed_at"] == missed["missed_at"]
    reached_event = await only_event(tap, "project.milestone_reached", project["id"])
    assert reached_event.milestone_id == UUID(late["id"])
    assert len(tap.matching(of_type("project.milestone_overdue", subject=project["id"]))) == 1


async def test_an_overdue_milestone_is_reported_once_across_restarts(projects, tap):
    client = projects.client
    _, _, project = await seeded_project(client)
    milestone = await add_milestone(client, project["id"], title="К концу 2024 года", year=2024)
    overdue = of_type("project.milestone_overdue", subject=project["id"])

    # 23:30 in Moscow on the due date: not passed yet, however many scans run.
    projects.clock.set(datetime(2024, 12, 31, 20, 30, tzinfo=UTC))
    await tap.settle()
    assert ok(await client.get(f"{API}/milestones/{milestone['id']}"))["status"] == "pending"

    # The date passes while the service is down; the next instance must still report it.
    await projects.client.aclose()
    await projects.service.stop()
    projects.clock.set(datetime(2024, 12, 31, 21, 30, tzinfo=UTC))  # 00:30 on 1 January, Moscow
    await projects.service.start()
    projects.client = projects.service.client()
    [seen] = await tap.wait_for(overdue)
    assert seen.envelope.data.milestone_id == UUID(milestone["id"])

    await projects.restart()
    projects.clock.advance(timedelta(days=3))
    await tap.settle()
    assert len(tap.matching(overdue)) == 1
    assert (
        ok(await projects.client.get(f"{API}/milestones/{milestone['id']}"))["status"] == "missed"
    )


async def test_a_missed_milestone_moved_to_a_later_date_is_watched_again(projects, tap):
    client = projects.client
    _, _, project = await seeded_project(client)
    milestone = await add_milestone(client, project["id"], title="Пилот", due_date="2024-03-31")
    overdue = of_type("project.milestone_overdue", subject=project["id"])
    await tap.wait_for(overdue)

    reopened = ok(
        await client.patch(f"{API}/milestones/{milestone['id']}", json={"due_date": "2024-09-30"})
    )
    assert (reopened["status"], reopened["missed_at"]) == ("pending", None)
    # The event after the creation's one says the milestone is pending again.
    _, rescheduled = await tap.wait_for(
        of_type("project.milestone_scheduled", subject=project["id"]), count=2
    )
    assert (rescheduled.envelope.data.status, rescheduled.envelope.data.due_date) == (
        MilestoneStatus.pending,
        date(2024, 9, 30),
    )
    projects.clock.set(datetime(2024, 10, 1, 9, tzinfo=UTC))
    await tap.wait_for(overdue, count=2)
    await tap.settle()
    assert [s.envelope.data.due_date for s in tap.matching(overdue)] == [
        date(2024, 3, 31),
        date(2024, 9, 30),
    ]


async def test_replicas_sharing_a_database_report_each_milestone_once(projects, tap):
    client = projects.client
    _, _, project = await seeded_project(client)
    titles = [f"Этап {n}" for n in range(25)]
    for title in titles:
        await add_milestone(client, project["id"], title=title, due_date="2024-07-01")
    replica = await running_projects(
        projects.database_url, projects.clock, milestone_overdue_batch_size=3
    ).start()
    try:
        projects.clock.set(datetime(2024, 7, 2, 9, tzinfo=UTC))
        overdue = of_type("project.milestone_overdue", subject=project["id"])
        await tap.wait_for(overdue, count=len(titles))
        await tap.settle()
    finally:
        await replica.stop()
    assert sorted(s.envelope.data.title for s in tap.matching(overdue)) == sorted(titles)


async def test_reloading_a_reached_milestone_keeps_its_state_and_evidence(projects):
    client = projects.client
    _, _, project = await seeded_project(client)
    url = f"{API}/projects/{project['id']}/milestones"
    body = {"title": "Все школы подключены", "year": 2024}
    created = await client.put(url, json=body)
    assert created.status_code == 201
    milestone = created.json()
    reached = ok(
        await client.post(f"{API}/milestones/{milestone['id']}/reach", json={"evidence": "Акт"})
    )
    assert ok(await client.put(url, json=body)) == reached

    moved = ok(await client.put(url, json={**body, "year": 2025}))
    assert (moved["due_date"], moved["status"], moved["evidence"]) == (
        "2025-12-31",
        "reached",
        "Акт",
    )
