"""Regions, sectors, departments and coordinators through the running projects service."""

import asyncio
from uuid import UUID, uuid4

import pytest

from common.events import CoordinatorUpserted, DepartmentUpserted, RegionSector, RegionUpserted
from tests.integration.projects_fixtures import (  # noqa: F401 (fixtures)
    API,
    about,
    assert_problem,
    event,
    fields_of,
    key_of,
    ok,
    only_event,
    outbox_size,
    projects_fixture,
    seed_department,
    seed_region,
    tap_fixture,
    unique_slug,
)
from tests.support.kafka import of_type

pytestmark = pytest.mark.integration


def put_ok(response) -> dict:
    """The body of a PUT that created (201) or found (200) its object."""
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_regions_are_created_listed_and_upserted_idempotently(projects):
    client = projects.client
    slug = unique_slug()
    created = ok(
        await client.post(
            f"{API}/regions",
            json={"slug": slug, "name": "Ненецкий автономный округ", "period_start": 2022},
        ),
        201,
    )
    assert created["period_end"] == 2024
    assert ok(await client.get(f"{API}/regions/{slug}")) == created

    duplicate = await client.post(f"{API}/regions", json={"slug": slug, "name": "Другой"})
    assert_problem(duplicate, 409, {"slug"})

    same = {"name": "Ненецкий автономный округ", "period_start": 2022, "period_end": 2024}
    unchanged = ok(await client.put(f"{API}/regions/{slug}", json=same), 200)
    assert unchanged["updated_at"] == created["updated_at"]
    renamed = ok(await client.put(f"{API}/regions/{slug}", json={**same, "name": "НАО"}), 200)
    assert renamed["name"] == "НАО"

    other = unique_slug()
    ok(await client.put(f"{API}/regions/{other}", json={"name": "Ленинградская область"}), 201)
    listed = ok(await client.get(f"{API}/regions", params={"limit": 1}))
    assert listed["total"] == 2
    assert [r["slug"] for r in listed["items"]] == [min(slug, other)]
    assert (await client.get(f"{API}/regions/{unique_slug()}")).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Bad Slug", "name": "Область"}, "slug"),
        ({"slug": "ok-slug", "name": "   "}, "name"),
        (
            {"slug": "ok-slug", "name": "Область", "period_start": 2025, "period_end": 2024},
            "period_end",
        ),
        ({"slug": "ok-slug", "name": "Область", "period_start": 1900}, "period_start"),
        ({"slug": "ok-slug", "name": "Область", "period_end": "скоро"}, "period_end"),
        ({"slug": "ok-slug", "name": "Я" * 501}, "name"),
        ({"slug": "ok-slug", "name": "Область", "colour": "red"}, "colour"),
    ],
)
async def test_bad_region_input_answers_422_naming_the_field(projects, body, field):
    response = await projects.client.post(f"{API}/regions", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in fields_of(response.json())
    assert ok(await projects.client.get(f"{API}/regions"))["total"] == 0


async def test_sectors_are_put_by_number_and_duplicates_conflict(projects):
    client = projects.client
    slug = await seed_region(client, sectors=0)
    first = ok(
        await client.put(f"{API}/regions/{slug}/sectors/1", json={"name": "Образование и наука"}),
        201,
    )
    again = ok(
        await client.put(f"{API}/regions/{slug}/sectors/1", json={"name": "Образование и наука"}),
        200,
    )
    assert again == first
    ok(
        await client.post(
            f"{API}/regions/{slug}/sectors", json={"number": 2, "name": "Здравоохранение"}
        ),
        201,
    )
    duplicate = await client.post(
        f"{API}/regions/{slug}/sectors", json={"number": 2, "name": "Иное"}
    )
    assert_problem(duplicate, 409, {"number"})

    listed = ok(await client.get(f"{API}/regions/{slug}/sectors"))
    assert [(s["number"], s["name"]) for s in listed["items"]] == [
        (1, "Образование и наука"),
        (2, "Здравоохранение"),
    ]
    assert listed["total"] == 2
    assert ok(await client.get(f"{API}/regions/{slug}/sectors/2"))["name"] == "Здравоохранение"
    assert (await client.get(f"{API}/regions/{slug}/sectors/3")).status_code == 404
    missing_region = await client.put(
        f"{API}/regions/{unique_slug()}/sectors/1", json={"name": "Х"}
    )
    assert missing_region.status_code == 404
    bad_number = await client.put(f"{API}/regions/{slug}/sectors/0", json={"name": "Х"})
    assert_problem(bad_number, 422, {"path.number"})


async def test_every_region_and_sector_write_announces_the_whole_region_once(projects, tap):
    client = projects.client
    slug = unique_slug()
    region = {"name": "Ненецкий автономный округ", "period_start": 2022, "period_end": 2024}
    ok(await client.post(f"{API}/regions", json={"slug": slug, **region}), 201)
    url = f"{API}/regions/{slug}/sectors"
    ok(await client.put(f"{url}/1", json={"name": "Образование и наука"}), 201)
    ok(await client.post(url, json={"number": 2, "name": "Здравоохранение"}), 201)
    # Identical re-writes change nothing and must stay silent.
    ok(await client.put(f"{url}/1", json={"name": "Образование и наука"}), 200)
    ok(await client.put(f"{API}/regions/{slug}", json=region), 200)
    ok(await client.put(f"{url}/2", json={"name": "Здравоохранение и спорт"}), 200)
    ok(await client.put(f"{API}/regions/{slug}", json={**region, "name": "НАО"}), 200)

    def announced(name: str, *sectors: tuple[int, str]) -> RegionUpserted:
        return RegionUpserted(
            slug=slug,
            name=name,
            period_start=2022,
            period_end=2024,
            sectors=[RegionSector(number=number, name=title) for number, title in sectors],
        )

    education = (1, "Образование и наука")
    expected = [
        announced("Ненецкий автономный округ"),
        announced("Ненецкий автономный округ", education),
        announced("Ненецкий автономный округ", education, (2, "Здравоохранение")),
        announced("Ненецкий автономный округ", education, (2, "Здравоохранение и спорт")),
        announced("НАО", education, (2, "Здравоохранение и спорт")),
    ]
    region_events = of_type("region.upserted", subject=slug)
    await tap.wait_for(region_events, count=len(expected))
    await tap.settle()
    seen = tap.matching(region_events)
    assert [s.envelope.data for s in seen] == expected
    assert {key_of(s) for s in seen} == {slug}


async def test_a_department_write_is_an_event_keyed_by_its_id(projects, tap):
    client = projects.client
    slug = await seed_region(client)
    body = {
        "region": slug,
        "full_name": "Комитет цифрового развития Ленинградской области",
        "short_name": "КЦР ЛО",
        "emails": ["KCR@lenreg.ru", "kcr@lenreg.ru", "it@lenreg.ru"],
    }
    department = ok(await client.post(f"{API}/departments", json=body), 201)
    assert department["emails"] == ["kcr@lenreg.ru", "it@lenreg.ru"]
    assert department["active"] is True
    assert await only_event(tap, "department.upserted", department["id"]) == DepartmentUpserted(
        department_id=UUID(department["id"]),
        region=slug,
        full_name=body["full_name"],
        short_name="КЦР ЛО",
        emails=["kcr@lenreg.ru", "it@lenreg.ru"],
        active=True,
    )

    duplicate = await client.post(f"{API}/departments", json=body)
    assert_problem(duplicate, 409, {"full_name"})

    patched = ok(
        await client.patch(f"{API}/departments/{department['id']}", json={"active": False})
    )
    assert patched["active"] is False
    await tap.wait_for(about(department["id"]), count=2)
    latest = tap.matching(about(department["id"]))[-1].envelope.data
    assert latest.active is False and latest.emails == ["kcr@lenreg.ru", "it@lenreg.ru"]

    assert ok(await client.get(f"{API}/departments/{department['id']}")) == patched
    listed = ok(await client.get(f"{API}/departments", params={"region": slug, "active": False}))
    assert [d["id"] for d in listed["items"]] == [department["id"]]
    assert ok(await client.get(f"{API}/departments", params={"active": True}))["total"] == 0
    assert (await client.get(f"{API}/departments/{uuid4()}")).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"region": "atlantis"}, "region"),
        ({"full_name": ""}, "full_name"),
        ({"emails": []}, "emails"),
        ({"emails": ["not-an-email"]}, "emails.0"),
        ({"active": "maybe"}, "active"),
    ],
)
async def test_bad_department_input_answers_4xx_naming_the_field(projects, change, field):
    client = projects.client
    slug = await seed_region(client)
    body = {"region": slug, "full_name": "Комитет", "short_name": "К", "emails": ["a@b.ru"]}
    response = await client.post(f"{API}/departments", json={**body, **change})
    assert response.status_code == 422, response.text
    assert field in fields_of(response.json())
    assert ok(await client.get(f"{API}/departments"))["total"] == 0


async def test_patching_a_department_to_a_taken_name_or_null_is_refused(projects):
    client = projects.client
    slug = await seed_region(client)
    first = await seed_department(client, slug)
    second = await seed_department(client, slug)
    taken = await client.patch(
        f"{API}/departments/{second['id']}", json={"full_name": first["full_name"]}
    )
    assert_problem(taken, 409, {"full_name"})
    nulled = await client.patch(f"{API}/departments/{second['id']}", json={"short_name": None})
    assert_problem(nulled, 422, {"short_name"})
    assert ok(await client.get(f"{API}/departments/{second['id']}")) == second


async def test_coordinators_carry_their_sectors_and_emit_on_change(projects, tap):
    client = projects.client
    slug = await seed_region(client, sectors=2)
    body = {
        "region": slug,
        "name": "Иванова Мария",
        "email": "Ivanova@Adm.ru",
        "sector_numbers": [2, 1, 2],
    }
    coordinator = ok(await client.post(f"{API}/coordinators", json=body), 201)
    assert coordinator["email"] == "ivanova@adm.ru"
    assert coordinator["sector_numbers"] == [1, 2]
    assert await only_event(tap, "coordinator.upserted", coordinator["id"]) == CoordinatorUpserted(
        coordinator_id=UUID(coordinator["id"]),
        region=slug,
        name="Иванова Мария",
        email="ivanova@adm.ru",
        sector_numbers=[1, 2],
        active=True,
    )

    duplicate = await client.post(f"{API}/coordinators", json={**body, "email": "ivanova@adm.ru"})
    assert_problem(duplicate, 409, {"email"})
    unknown_sector = await client.post(
        f"{API}/coordinators", json={**body, "email": "other@adm.ru", "sector_numbers": [7]}
    )
    assert_problem(unknown_sector, 422, {"sector_numbers"})

    whole_region = ok(
        await client.patch(f"{API}/coordinators/{coordinator['id']}", json={"sector_numbers": []})
    )
    assert whole_region["sector_numbers"] == []
    await tap.wait_for(about(coordinator["id"]), count=2)
    assert tap.matching(about(coordinator["id"]))[-1].envelope.data.sector_numbers == []
    listed = ok(await client.get(f"{API}/coordinators", params={"region": slug}))
    assert [c["id"] for c in listed["items"]] == [coordinator["id"]]


async def test_reloading_the_same_catalogue_changes_nothing_and_emits_nothing(projects, tap):
    """The loader's contract: every object is PUT by its natural key; a second run is a no-op."""
    client = projects.client
    slug = unique_slug()

    async def load() -> dict[str, dict]:
        put_ok(
            await client.put(f"{API}/regions/{slug}", json={"name": "Ненецкий автономный округ"})
        )
        put_ok(await client.put(f"{API}/regions/{slug}/sectors/1", json={"name": "Образование"}))
        department = put_ok(
            await client.put(
                f"{API}/departments",
                json={
                    "region": slug,
                    "full_name": "Департамент цифрового развития НАО",
                    "short_name": "ДЦР",
                    "emails": ["dcr@adm-nao.ru"],
                },
            )
        )
        coordinator = put_ok(
            await client.put(
                f"{API}/coordinators",
                json={"region": slug, "name": "Петров Пётр", "email": "petrov@adm-nao.ru"},
            )
        )
        project = put_ok(
            await client.put(
                f"{API}/projects",
                json={
                    "region": slug,
                    "sector_number": 1,
                    "number": 1,
                    "name": "Цифровая школа",
                    "tasks": ["Обеспечение школ доступом в Интернет"],
                    "responsible_department_id": department["id"],
                },
            )
        )
        milestone = put_ok(
            await client.put(
                f"{API}/projects/{project['id']}/milestones",
                json={"title": "Все школы подключены", "year": 2024},
            )
        )
        return {
            "department": department,
            "coordinator": coordinator,
            "project": project,
            "milestone": milestone,
        }

    first = await load()
    # Milestone events are keyed by their project, like every project event.
    for subject, type_ in [
        (first["department"]["id"], "department.upserted"),
        (first["coordinator"]["id"], "coordinator.upserted"),
        (first["project"]["id"], "project.created"),
        (first["project"]["id"], "project.milestone_scheduled"),
    ]:
        await event(tap, type_, subject)
    await tap.wait_for(of_type("region.upserted", subject=slug), count=2)
    staged = await outbox_size(projects.database_url)
    assert staged == 6

    second = await load()
    assert second == first
    assert await outbox_size(projects.database_url) == staged
    # A later write's event arriving proves the relay has run past the reload.
    ok(
        await client.patch(
            f"{API}/departments/{first['department']['id']}", json={"short_name": "ДЦР НАО"}
        )
    )
    await tap.wait_for(about(first["department"]["id"]), count=2)
    await tap.settle()
    assert len(tap.matching(about(slug))) == 2
    assert len(tap.matching(about(first["project"]["id"]))) == 2
    assert len(tap.matching(about(first["coordinator"]["id"]))) == 1
    assert len(tap.matching(about(first["department"]["id"]))) == 2


async def test_concurrent_creation_of_one_natural_key_never_answers_500(projects):
    client = projects.client
    slug = await seed_region(client)
    body = {
        "region": slug,
        "full_name": "Комитет по печати",
        "short_name": "КП",
        "emails": ["p@lo.ru"],
    }
    responses = await asyncio.gather(
        *(client.post(f"{API}/departments", json=body) for _ in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses]
    assert ok(await client.get(f"{API}/departments", params={"region": slug}))["total"] == 1
