"""Who may do what in the projects service: the catalogue for admins, regions for the rest,
milestones reported by the responsible department, limits and the audit trail."""

from uuid import UUID, uuid4

import pytest

from common.clock import ManualClock
from common.security import Principal, Role
from tests.integration.projects_fixtures import (  # noqa: F401 (fixtures)
    API,
    START,
    ok,
    projects_fixture,
    running_projects,
    seed_department,
    seed_project,
    seed_region,
)

pytestmark = pytest.mark.integration


def coordinator(region: str, sectors: list[int] | None = None) -> Principal:
    return Principal(
        subject=f"user:{uuid4()}",
        role=Role.coordinator,
        region=region,
        sector_numbers=sectors or [],
    )


def department(region: str, department_id: str) -> Principal:
    return Principal(
        subject=f"user:{uuid4()}",
        role=Role.department,
        region=region,
        department_id=UUID(department_id),
    )


async def region_with_project(client, sector: int = 1) -> tuple[str, dict, dict, dict]:
    """A region, its department, a project of that department and one of its milestones."""
    slug = await seed_region(client)
    owner = await seed_department(client, slug)
    project = await seed_project(
        client, slug, sector_number=sector, responsible_department_id=owner["id"]
    )
    milestone = ok(
        await client.post(
            f"{API}/projects/{project['id']}/milestones",
            json={"title": "Запущен портал", "year": 2024},
        ),
        201,
    )
    return slug, owner, project, milestone


async def test_a_coordinator_reads_its_region_and_changes_nothing(projects):
    admin = projects.client
    home, _, home_project, home_milestone = await region_with_project(admin)
    away, away_owner, away_project, away_milestone = await region_with_project(admin)
    async with projects.service.client(coordinator(home)) as client:
        regions = ok(await client.get(f"{API}/regions"))
        away_region = await client.get(f"{API}/regions/{away}")
        away_sectors = await client.get(f"{API}/regions/{away}/sectors")
        project_list = ok(await client.get(f"{API}/projects"))
        asked_away = await client.get(f"{API}/projects", params={"region": away})
        read_away = await client.get(f"{API}/projects/{away_project['id']}")
        away_history = await client.get(f"{API}/projects/{away_project['id']}/history")
        away_milestones = await client.get(f"{API}/projects/{away_project['id']}/milestones")
        read_away_milestone = await client.get(f"{API}/milestones/{away_milestone['id']}")
        read_home = await client.get(f"{API}/projects/{home_project['id']}")
        read_home_milestone = await client.get(f"{API}/milestones/{home_milestone['id']}")
        away_department = await client.get(f"{API}/departments/{away_owner['id']}")
        departments = ok(await client.get(f"{API}/departments"))
        writes = [
            await client.patch(f"{API}/projects/{home_project['id']}", json={"name": "Другое"}),
            await client.post(
                f"{API}/projects/{home_project['id']}/transitions", json={"to_stage": "launched"}
            ),
            await client.put(f"{API}/regions/{home}", json={"name": "Переименована"}),
            await client.post(
                f"{API}/projects/{home_project['id']}/milestones",
                json={"title": "Новая веха", "year": 2024},
            ),
            await client.delete(f"{API}/milestones/{home_milestone['id']}"),
            await client.post(f"{API}/milestones/{home_milestone['id']}/reach", json={}),
            await client.post(
                f"{API}/departments",
                json={
                    "region": home,
                    "full_name": "Комитет",
                    "short_name": "К",
                    "emails": ["k@lenreg.ru"],
                },
            ),
        ]
    assert [r["slug"] for r in regions["items"]] == [home]
    assert (away_region.status_code, away_sectors.status_code) == (404, 404)
    assert [p["id"] for p in project_list["items"]] == [home_project["id"]]
    assert asked_away.status_code == 403 and asked_away.json()["field"] == "region"
    assert (read_away.status_code, away_history.status_code) == (404, 404)
    assert (away_milestones.status_code, read_away_milestone.status_code) == (404, 404)
    assert (read_home.status_code, read_home_milestone.status_code) == (200, 200)
    assert away_department.status_code == 404
    assert {d["region"] for d in departments["items"]} == {home}
    assert [w.status_code for w in writes] == [403] * len(writes)
    unchanged = ok(await admin.get(f"{API}/projects/{home_project['id']}"))
    assert unchanged["name"] == home_project["name"] and unchanged["stage"] == "planned"


async def test_a_sector_coordinator_sees_its_sectors_only(projects):
    admin = projects.client
    slug, _, first, _ = await region_with_project(admin, sector=1)
    second = await seed_project(admin, slug, sector_number=2)
    async with projects.service.client(coordinator(slug, sectors=[2])) as client:
        listed = ok(await client.get(f"{API}/projects"))
        hidden = await client.get(f"{API}/projects/{first['id']}")
        asked = await client.get(f"{API}/projects", params={"sector": 1})
    assert [p["id"] for p in listed["items"]] == [second["id"]]
    assert hidden.status_code == 404 and asked.status_code == 403


async def test_only_the_responsible_department_reaches_its_milestones(projects):
    admin = projects.client
    slug, owner, project, milestone = await region_with_project(admin)
    other = await seed_department(admin, slug)
    async with projects.service.client(department(slug, other["id"])) as client:
        refused = await client.post(f"{API}/milestones/{milestone['id']}/reach", json={})
        catalogue = await client.patch(
            f"{API}/projects/{project['id']}", json={"responsible_department_id": other["id"]}
        )
    async with projects.service.client(department(slug, owner["id"])) as client:
        smuggled = await client.post(
            f"{API}/milestones/{milestone['id']}/reach",
            json={"evidence": "Акт приёмки", "status": "reached"},
        )
        reached = await client.post(
            f"{API}/milestones/{milestone['id']}/reach", json={"evidence": "Акт приёмки"}
        )
    assert refused.status_code == 403 and refused.json()["field"] == "milestone_id"
    assert catalogue.status_code == 403
    assert smuggled.status_code == 422 and smuggled.json()["errors"][0]["field"] == "status"
    assert reached.status_code == 200 and reached.json()["status"] == "reached"
    project_now = ok(await admin.get(f"{API}/projects/{project['id']}"))
    assert project_now["responsible_department_id"] == owner["id"]


async def test_limits_answer_413_and_429(database_factory):
    url = await database_factory("projects")
    service = await running_projects(
        url, ManualClock(START), max_body_bytes=1024, rate_limit_per_second=0.01, rate_limit_burst=4
    ).start()
    try:
        async with service.client() as admin:
            too_big = await admin.put(f"{API}/regions/test-big", json={"name": "я" * 1000})
            # The 413 was answered before any route: it spent nothing of the budget of 4.
            statuses = [(await admin.get(f"{API}/regions")).status_code for _ in range(4)]
            limited = await admin.get(f"{API}/regions")
            health = await admin.get("/health/live")
    finally:
        await service.stop()
    assert too_big.status_code == 413
    assert statuses == [200, 200, 200, 200]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"
    assert health.status_code == 200


async def test_writes_are_audited_for_admins(projects):
    admin = projects.client
    slug, owner, project, milestone = await region_with_project(admin)
    principal = department(slug, owner["id"])
    async with projects.service.client(principal) as client:
        ok(await client.post(f"{API}/milestones/{milestone['id']}/reach", json={}))
        trail_for_department = await client.get(f"{API}/audit")
    trail = ok(await admin.get(f"{API}/audit", params={"subject": principal.subject}))
    everything = ok(await admin.get(f"{API}/audit", params={"limit": 200}))
    assert trail_for_department.status_code == 403
    [entry] = trail["items"]
    assert (entry["method"], entry["role"], entry["object_id"]) == (
        "POST",
        "department",
        milestone["id"],
    )
    # The admin's seeding is there too: region, sectors, department, project, milestone.
    assert everything["total"] == 7
    assert {e["role"] for e in everything["items"]} == {"admin", "department"}
    created = {(e["path"], e["object_id"]) for e in everything["items"] if e["role"] == "admin"}
    # A POST to a collection names the object it created.
    assert (f"{API}/projects", project["id"]) in created
    assert (f"{API}/departments", owner["id"]) in created
    assert (f"{API}/projects/{project['id']}/milestones", milestone["id"]) in created


async def test_a_caller_without_the_role_gets_403_whatever_it_sends(projects):
    slug, owner, project, milestone = await region_with_project(projects.client)
    async with projects.service.client(coordinator(slug)) as client:
        # Bodies and paths that would each be a 422 for an admin: the role is refused first,
        # so the answer tells nothing about the input the route expects.
        answers = [
            await client.post(f"{API}/projects", json={"number": "не число"}),
            await client.patch(f"{API}/projects/not-a-uuid", json={"name": 5}),
            await client.put(f"{API}/regions/{slug}", json={}),
            await client.post(f"{API}/api-keys", json={"role": "superuser"}),
            await client.post(f"{API}/milestones/{milestone['id']}/reach", json={"evidence": 5}),
        ]
    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "errors" not in answer.json()
    async with projects.service.client(department(slug, owner["id"])) as client:
        invalid_for_the_owner = await client.post(
            f"{API}/milestones/{milestone['id']}/reach", json={"evidence": 5}
        )
    # The responsible department holds the role: its invalid body is then named field by field.
    assert invalid_for_the_owner.status_code == 422
    assert invalid_for_the_owner.json()["errors"][0]["field"] == "evidence"
