"""Projects through the running service: writes with their events, filters, search, paging."""

from uuid import UUID, uuid4

import pytest

from common.events import ProjectCreated, ProjectUpdated, Stage
from tests.integration.projects_fixtures import (  # noqa: F401 (fixtures)
    API,
    about,
    assert_problem,
    event,
    fields_of,
    ok,
    only_event,
    outbox_size,
    projects_fixture,
    seed_department,
    seed_project,
    seed_region,
    tap_fixture,
)

pytestmark = pytest.mark.integration


async def test_a_created_project_is_announced_with_what_consumers_need(projects, tap):
    client = projects.client
    slug = await seed_region(client)
    department = await seed_department(client, slug)
    body = {
        "region": slug,
        "sector_number": 2,
        "number": 4,
        "name": "Телемедицина в ФАП",
        "federal_recommended": True,
        "goal": "Доступная медицинская помощь",
        "timeline": "До 2030 года, далее постоянно",
        "description": "К концу 2024 года: все ФАП подключены",
        "financing": "Федеральное финансирование",
        "region_role": "Организация внедрения",
        "beneficiaries": "Жители сельских поселений",
        "tasks": ["Повышение доступности медицинской помощи"],
        "responsible_department_id": department["id"],
    }
    project = ok(await client.post(f"{API}/projects", json=body), 201)
    assert {k: project[k] for k in body} == body
    assert project["stage"] == "planned"
    assert project["allowed_transitions"] == ["launched", "suspended", "cancelled"]
    assert ok(await client.get(f"{API}/projects/{project['id']}")) == project

    assert await only_event(tap, "project.created", project["id"]) == ProjectCreated(
        project_id=UUID(project["id"]),
        region=slug,
        region_name="Ленинградская область",
        sector_number=2,
        sector_name="Здравоохранение",
        number=4,
        name="Телемедицина в ФАП",
        federal_recommended=True,
        responsible_department_id=UUID(department["id"]),
        stage=Stage.planned,
    )

    duplicate = await client.post(f"{API}/projects", json={**body, "name": "Другой"})
    assert_problem(duplicate, 409, {"number"})


async def test_upserting_a_project_emits_only_when_it_changed(projects, tap):
    client = projects.client
    slug = await seed_region(client)
    body = {"region": slug, "sector_number": 1, "number": 1, "name": "Цифровая школа"}
    created = await client.put(f"{API}/projects", json=body)
    assert created.status_code == 201
    project = created.json()
    await event(tap, "project.created", project["id"])
    staged = await outbox_size(projects.database_url)

    unchanged = ok(await client.put(f"{API}/projects", json=body))
    assert unchanged == project
    assert await outbox_size(projects.database_url) == staged

    changed = ok(await client.put(f"{API}/projects", json={**body, "federal_recommended": True}))
    assert changed["id"] == project["id"] and changed["federal_recommended"] is True
    updated = await event(tap, "project.updated", project["id"])
    assert isinstance(updated, ProjectUpdated) and updated.federal_recommended is True
    await tap.settle()
    assert len(tap.matching(about(project["id"]))) == 2


async def test_patch_changes_catalogue_data_and_renames_reach_consumers(projects, tap):
    client = projects.client
    slug = await seed_region(client)
    department = await seed_department(client, slug)
    project = await seed_project(client, slug)
    await event(tap, "project.created", project["id"])

    patched = ok(
        await client.patch(
            f"{API}/projects/{project['id']}",
            json={"responsible_department_id": department["id"], "goal": "Новая цель"},
        )
    )
    assert patched["responsible_department_id"] == department["id"]
    assert patched["goal"] == "Новая цель"
    assert patched["stage"] == "planned"
    await tap.wait_for(about(project["id"]), count=2)
    assert tap.matching(about(project["id"]))[-1].envelope.data.responsible_department_id == UUID(
        department["id"]
    )

    # Consumers keep sector and region names from project events, so renames re-announce.
    ok(await client.put(f"{API}/regions/{slug}/sectors/1", json={"name": "Образование"}))
    await tap.wait_for(about(project["id"]), count=3)
    assert tap.matching(about(project["id"]))[-1].envelope.data.sector_name == "Образование"
    ok(await client.put(f"{API}/regions/{slug}", json={"name": "Ленобласть"}))
    await tap.wait_for(about(project["id"]), count=4)
    assert tap.matching(about(project["id"]))[-1].envelope.data.region_name == "Ленобласть"

    cleared = ok(
        await client.patch(
            f"{API}/projects/{project['id']}", json={"responsible_department_id": None}
        )
    )
    assert cleared["responsible_department_id"] is None
    await tap.wait_for(about(project["id"]), count=5)
    assert tap.matching(about(project["id"]))[-1].envelope.data.responsible_department_id is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"region": "atlantis"}, "region"),
        ({"sector_number": 9}, "sector_number"),
        ({"sector_number": "first"}, "sector_number"),
        ({"name": " "}, "name"),
        ({"number": 0}, "number"),
        ({"responsible_department_id": str(uuid4())}, "responsible_department_id"),
        ({"responsible_department_id": "nope"}, "responsible_department_id"),
        ({"tasks": "одна задача"}, "tasks"),
        ({"description": "Я" * 20_001}, "description"),
        ({"stage": "completed"}, "stage"),
    ],
)
async def test_bad_project_input_answers_422_naming_the_field(projects, change, field):
    client = projects.client
    slug = await seed_region(client)
    body = {"region": slug, "sector_number": 1, "number": 1, "name": "Проект", **change}
    response = await client.post(f"{API}/projects", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in fields_of(response.json())
    assert ok(await client.get(f"{API}/projects"))["total"] == 0


async def test_a_department_of_another_region_cannot_be_responsible(projects):
    client = projects.client
    home = await seed_region(client)
    elsewhere = await seed_region(client)
    foreign = await seed_department(client, elsewhere)
    project = await seed_project(client, home)
    response = await client.patch(
        f"{API}/projects/{project['id']}", json={"responsible_department_id": foreign["id"]}
    )
    assert_problem(response, 422, {"responsible_department_id"})
    nulled = await client.patch(f"{API}/projects/{project['id']}", json={"name": None})
    assert_problem(nulled, 422, {"name"})
    assert ok(await client.get(f"{API}/projects/{project['id']}")) == project
    assert (await client.get(f"{API}/projects/{uuid4()}")).status_code == 404


async def test_projects_are_filtered_searched_in_russian_and_paged(projects):
    client = projects.client
    lenobl = await seed_region(client, sectors=2)
    nao = await seed_region(client, sectors=2)
    kcr = await seed_department(client, lenobl)

    async def add(region: str, sector: int, number: int, name: str, **fields) -> str:
        body = {"region": region, "sector_number": sector, "number": number, "name": name}
        return ok(await client.post(f"{API}/projects", json={**body, **fields}), 201)["id"]

    school = await add(lenobl, 1, 1, "Цифровая образовательная среда", federal_recommended=True)
    clinic = await add(
        lenobl, 2, 1, "Телемедицинские консультации", responsible_department_id=kcr["id"]
    )
    tutor = await add(lenobl, 1, 2, "Электронный дневник и образовательные сервисы")
    north = await add(nao, 1, 1, "Образование в отдалённых поселениях", federal_recommended=True)
    ok(
        await client.post(f"{API}/projects/{clinic}/transitions", json={"to_stage": "launched"}),
        201,
    )

    async def ids(**params) -> list[str]:
        page = ok(await client.get(f"{API}/projects", params=params))
        assert page["total"] == len(page["items"])
        return [item["id"] for item in page["items"]]

    assert await ids(region=lenobl) == [school, tutor, clinic]
    assert await ids(region=lenobl, sector=1) == [school, tutor]
    assert await ids(department=kcr["id"]) == [clinic]
    assert await ids(stage="launched") == [clinic]
    assert set(await ids(stage=["planned", "launched"])) == {school, clinic, tutor, north}
    assert set(await ids(federal_recommended=True)) == {school, north}
    assert await ids(federal_recommended=False, region=lenobl) == [tutor, clinic]
    # Russian morphology: other case forms of the same words match.
    assert set(await ids(q="образовательной среды")) == {school}
    assert set(await ids(q="образовательный")) == {school, tutor}
    assert await ids(q="образованию") == [north]
    assert await ids(q="образовательные сервисы", region=lenobl) == [tutor]
    assert await ids(q="образовательные", region=nao) == []
    assert await ids(q="телемедицинская консультация") == [clinic]
    assert await ids(q="космодром") == []

    first = ok(await client.get(f"{API}/projects", params={"limit": 2}))
    second = ok(await client.get(f"{API}/projects", params={"limit": 2, "offset": 2}))
    assert first["total"] == second["total"] == 4
    assert len(first["items"]) == len(second["items"]) == 2
    assert {p["id"] for p in first["items"] + second["items"]} == {school, clinic, tutor, north}

    for params, field in [
        ({"limit": 201}, "query.limit"),
        ({"offset": -1}, "query.offset"),
        ({"stage": "paused"}, "query.stage.0"),
        ({"department": "x"}, "query.department"),
        ({"federal_recommended": "maybe"}, "query.federal_recommended"),
    ]:
        response = await client.get(f"{API}/projects", params=params)
        assert response.status_code == 422, params
        assert field in fields_of(response.json()), response.json()
