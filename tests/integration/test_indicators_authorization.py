"""Who may do what in the indicators service: roles, regions, departments, limits, audit."""

from contextlib import AsyncExitStack
from typing import Any
from uuid import UUID, uuid4

import pytest

from common.security import Principal, Role
from tests.integration.indicators_fixtures import (
    clock_at,
    fetchval,
    indicator_body,
    indicators_service,
    measurement,
    started,
)

pytestmark = pytest.mark.integration

REGION = "leningrad-oblast"
OTHER_REGION = "pskov-oblast"
HEADER = "indicator_id;period;value;as_of;comment;source\n"


def department(department_id: UUID, region: str = REGION) -> Principal:
    """A department's principal (a unique subject per test)."""
    return Principal(
        subject=f"dept-{uuid4().hex[:8]}",
        role=Role.department,
        region=region,
        department_id=department_id,
    )


def coordinator(region: str = REGION, sectors: list[int] | None = None) -> Principal:
    """A coordinator's principal."""
    return Principal(
        subject=f"coord-{uuid4().hex[:8]}",
        role=Role.coordinator,
        region=region,
        sector_numbers=sectors or [],
    )


async def known_project(url: str, region: str, department_id: UUID, sector: int = 1) -> str:
    """A project in the directory read model, as the projects service's events leave it."""
    project_id = uuid4()
    await fetchval(
        url,
        "INSERT INTO directory_projects (project_id, region, region_name, sector_number, "
        "sector_name, number, name, federal_recommended, responsible_department_id, stage) "
        "VALUES ($1, $2, 'Регион', $3, 'Отрасль', 1, 'Проект', false, $4, 'planned')",
        project_id,
        region,
        sector,
        department_id,
    )
    return str(project_id)


async def indicator(client, url: str, region: str, department_id: UUID, **fields: Any) -> str:
    """An indicator of a project whose responsible department is `department_id`."""
    project_id = await known_project(url, region, department_id, fields.pop("sector", 1))
    body = indicator_body(project_id=project_id, region=region, **fields)
    response = await client.post("/api/v1/indicators", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def csv_body(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


CSV = {"content-type": "text/csv"}


@pytest.fixture
async def indicators(database_factory):
    """A running indicators service, its database URL and an admin client."""
    url = await database_factory("indicators")
    async with AsyncExitStack() as stack:
        svc = await stack.enter_async_context(
            started(indicators_service(url, clock_at(2023, 7, 10)))
        )
        admin = await stack.enter_async_context(svc.client())
        yield svc, url, admin


async def test_a_department_writes_only_its_own_indicators(indicators):
    svc, url, admin = indicators
    ours, theirs = uuid4(), uuid4()
    own = await indicator(admin, url, REGION, ours)
    foreign = await indicator(admin, url, REGION, theirs)
    principal = department(ours)
    async with svc.client(principal) as client:
        allowed = await client.post(
            f"/api/v1/indicators/{own}/measurements", json={"period": "2023-Q1", "value": 45}
        )
        refused = await client.post(
            f"/api/v1/indicators/{foreign}/measurements", json={"period": "2023-Q1", "value": 45}
        )
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["reported_by"] == principal.subject
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == "indicator_id"
    written = await fetchval(
        url, "SELECT count(*) FROM measurements WHERE indicator_id = $1", UUID(foreign)
    )
    assert written == 0


async def test_a_bulk_import_refuses_every_foreign_row_and_writes_nothing(indicators):
    svc, url, admin = indicators
    ours, theirs = uuid4(), uuid4()
    own = await indicator(admin, url, REGION, ours)
    foreign = await indicator(admin, url, REGION, theirs)
    async with svc.client(department(ours)) as client:
        mixed = await client.post(
            "/api/v1/measurements:import",
            content=csv_body(
                f"{own};2023-Q1;45;;;", f"{foreign};2023-Q1;45;;;", f"{own};2023-Q2;50;;;"
            ),
            headers=CSV,
        )
        # The 403 also lists what else is wrong, so one answer says everything to fix.
        mixed_and_bad = await client.post(
            "/api/v1/measurements:import",
            content=csv_body(
                f"{own};2023-Q1;101;;;",
                f"{foreign};2023-Q1;45;;;",
                f"{own};2023-Q2;1e30;;;",
                f"{foreign};2023-Q3;45;;;",
                f"{own};2023-13;x;;;",
            ),
            headers=CSV,
        )
        json_rows = await client.post(
            "/api/v1/measurements:import",
            json=[{"indicator_id": foreign, "period": "2023-Q1", "value": 1}],
        )
        clean = await client.post(
            "/api/v1/measurements:import",
            content=csv_body(f"{own};2023-Q1;45;;;", f"{own};2023-Q2;50;;;"),
            headers=CSV,
        )
    assert mixed.status_code == 403, mixed.text
    assert [(e["row"], e["field"]) for e in mixed.json()["errors"]] == [(2, "indicator_id")]
    assert (mixed.json()["other_errors"], mixed.json()["other_error_count"]) == ([], 0)
    assert mixed_and_bad.status_code == 403, mixed_and_bad.text
    refused = mixed_and_bad.json()
    assert [(e["row"], e["field"]) for e in refused["errors"]] == [
        (2, "indicator_id"),
        (4, "indicator_id"),
    ]
    assert [(e["row"], e["field"], e["message"]) for e in refused["other_errors"]] == [
        (1, "value", "a share in % must lie between 0 and 100 (every target of it does)"),
        (3, "value", "at most 18 digits before the decimal point"),
        (5, "period", "'2023-13' is not a period: expected 2023, 2023-Q2 or 2023-05"),
        (5, "value", "'x' is not a number"),
    ]
    assert (refused["error_count"], refused["other_error_count"]) == (2, 4)
    assert refused["detail"] == (
        "2 of 5 rows are for indicators of another department; 4 errors in 3 other rows; "
        "nothing was imported"
    )
    assert json_rows.status_code == 403
    assert clean.status_code == 201, clean.text
    assert clean.json()["imported"] == 2
    # Only the clean import was written.
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 2


async def test_an_indicator_of_another_region_is_unknown_to_a_department(indicators):
    svc, url, admin = indicators
    ours = uuid4()
    elsewhere = await indicator(admin, url, OTHER_REGION, ours)
    async with svc.client(department(ours)) as client:
        single = await client.post(
            f"/api/v1/indicators/{elsewhere}/measurements", json={"period": "2023-Q1", "value": 1}
        )
        bulk = await client.post(
            "/api/v1/measurements:import",
            content=csv_body(f"{elsewhere};2023-Q1;1;;;"),
            headers=CSV,
        )
    assert single.status_code == 404
    assert bulk.status_code == 422
    assert bulk.json()["errors"][0]["message"] == "unknown indicator"


async def test_a_coordinator_reads_its_region_only(indicators):
    svc, url, admin = indicators
    home = await indicator(admin, url, REGION, uuid4())
    away = await indicator(admin, url, OTHER_REGION, uuid4())
    async with svc.client(coordinator()) as client:
        listed = await client.get("/api/v1/indicators")
        other_list = await client.get("/api/v1/indicators", params={"region": OTHER_REGION})
        read_home = await client.get(f"/api/v1/indicators/{home}")
        read_away = await client.get(f"/api/v1/indicators/{away}")
        timeline = await client.get(f"/api/v1/indicators/{away}/measurements")
        evaluation = await client.get(f"/api/v1/indicators/{away}/evaluation")
        summary = await client.get("/api/v1/summary")
        behind = await client.get("/api/v1/behind", params={"region": OTHER_REGION})
    assert listed.status_code == 200
    assert [i["id"] for i in listed.json()["items"]] == [home]
    assert other_list.status_code == 403 and other_list.json()["field"] == "region"
    assert read_home.status_code == 200
    assert (read_away.status_code, timeline.status_code, evaluation.status_code) == (404, 404, 404)
    assert [g["region"] for g in summary.json()["groups"]] == [REGION]
    assert behind.status_code == 403


async def test_a_sector_coordinator_sees_only_its_sectors(indicators):
    svc, url, admin = indicators
    second = await indicator(admin, url, REGION, uuid4(), sector=2)
    third = await indicator(admin, url, REGION, uuid4(), sector=3)
    async with svc.client(coordinator(sectors=[2])) as client:
        listed = await client.get("/api/v1/indicators")
        read_third = await client.get(f"/api/v1/indicators/{third}")
        asked_third = await client.get("/api/v1/indicators", params={"sector": 3})
    assert [i["id"] for i in listed.json()["items"]] == [second]
    assert read_third.status_code == 404
    assert asked_third.status_code == 403


async def test_coordinators_and_departments_cannot_change_the_catalogue(indicators):
    svc, url, admin = indicators
    ours = uuid4()
    target = await indicator(admin, url, REGION, ours)
    for principal in (coordinator(), department(ours)):
        async with svc.client(principal) as client:
            retarget = await client.patch(
                f"/api/v1/indicators/{target}", json={"targets": {"2023": 1}}
            )
            create = await client.post("/api/v1/indicators", json=indicator_body())
            archive = await client.delete(f"/api/v1/indicators/{target}")
        assert (retarget.status_code, create.status_code, archive.status_code) == (403, 403, 403)
    async with svc.client(coordinator()) as client:
        report = await client.post(
            f"/api/v1/indicators/{target}/measurements", json={"period": "2023-Q1", "value": 1}
        )
    assert report.status_code == 403
    unchanged = await admin.get(f"/api/v1/indicators/{target}")
    assert unchanged.json()["targets"] == {"2022": "40", "2023": "60", "2024": "80"}


async def test_mass_assignment_is_refused_naming_the_field(indicators):
    svc, url, admin = indicators
    ours = uuid4()
    own = await indicator(admin, url, REGION, ours)
    async with svc.client(department(ours)) as client:
        reporter = await client.post(
            f"/api/v1/indicators/{own}/measurements",
            json=measurement("2023-Q1", 45, reported_by="Кто-то другой"),
        )
        status = await client.post(
            f"/api/v1/indicators/{own}/measurements",
            json={"period": "2023-Q1", "value": 45, "status": "on_track"},
        )
        department_field = await client.post(
            f"/api/v1/indicators/{own}/measurements",
            json={"period": "2023-Q1", "value": 45, "department": str(uuid4())},
        )
        row_reporter = await client.post(
            "/api/v1/measurements:import",
            json=[{"indicator_id": own, "period": "2023-Q1", "value": 1, "reported_by": "X"}],
        )
        row_target = await client.post(
            "/api/v1/measurements:import",
            json=[{"indicator_id": own, "period": "2023-Q1", "value": 1, "targets": {"2023": 1}}],
        )
    assert reporter.status_code == 422
    assert [e["field"] for e in reporter.json()["errors"]] == ["reported_by"]
    assert status.status_code == 422 and status.json()["errors"][0]["field"] == "status"
    assert department_field.status_code == 422
    assert department_field.json()["errors"][0]["field"] == "department"
    assert row_reporter.status_code == 422
    assert (row_reporter.json()["errors"][0]["row"], row_reporter.json()["errors"][0]["field"]) == (
        1,
        "reported_by",
    )
    assert row_target.status_code == 422 and row_target.json()["errors"][0]["field"] == "targets"
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 0


async def test_oversized_bodies_and_imports_answer_413(database_factory):
    url = await database_factory("indicators")
    service = indicators_service(
        url,
        clock_at(2023, 7, 10),
        max_body_bytes=2048,
        import_max_body_bytes=2048,
        import_max_rows=2,
    )
    async with started(service) as svc, svc.client() as admin:
        own = await indicator(admin, url, REGION, uuid4())
        body = await admin.post(
            "/api/v1/measurements:import",
            content=csv_body(*[f"{own};2023-Q1;{n};;;" for n in range(60)]),
            headers=CSV,
        )
        rows = await admin.post(
            "/api/v1/measurements:import",
            json=[
                {"indicator_id": own, "period": "2023-Q1", "value": n, "reported_by": "КЦР"}
                for n in range(3)
            ],
        )
    assert body.status_code == 413
    assert body.headers["content-type"] == "application/problem+json"
    assert rows.status_code == 413
    assert rows.json()["limit"] == "IMPORT_MAX_ROWS" and rows.json()["max_rows"] == 2


async def test_a_principal_over_its_rate_gets_429_with_retry_after(database_factory):
    url = await database_factory("indicators")
    service = indicators_service(
        url, clock_at(2023, 7, 10), rate_limit_per_second=0.01, rate_limit_burst=3
    )
    principal = coordinator()
    async with started(service) as svc, svc.client(principal) as client:
        statuses = [(await client.get("/api/v1/indicators")).status_code for _ in range(3)]
        refused = await client.get("/api/v1/indicators")
        async with svc.client(coordinator()) as other:
            unaffected = await other.get("/api/v1/indicators")
        health = await client.get("/health/live")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["status"] == 429
    assert unaffected.status_code == 200
    assert health.status_code == 200


async def test_writes_are_audited_and_the_trail_is_for_admins(indicators):
    svc, url, admin = indicators
    ours = uuid4()
    own = await indicator(admin, url, REGION, ours)
    principal = department(ours)
    async with svc.client(principal, headers={"X-Request-ID": "audit-test-1"}) as client:
        written = await client.post(
            f"/api/v1/indicators/{own}/measurements", json={"period": "2023-Q1", "value": 45}
        )
        refused = await client.post(
            f"/api/v1/indicators/{own}/measurements", json={"period": "1999", "value": 45}
        )
        forbidden_trail = await client.get("/api/v1/audit")
    assert written.status_code == 201 and refused.status_code == 422
    trail = await admin.get("/api/v1/audit", params={"subject": principal.subject})
    assert forbidden_trail.status_code == 403
    assert trail.status_code == 200
    entries = trail.json()["items"]
    assert trail.json()["total"] == 1  # the refused write left no trace
    entry = entries[0]
    assert (entry["role"], entry["method"], entry["object_id"]) == ("department", "POST", own)
    assert entry["path"] == f"/api/v1/indicators/{own}/measurements"
    assert entry["client_address"] == "127.0.0.1"
    assert entry["request_id"] == "audit-test-1"
    # The admin's catalogue writes are in the trail too; reads are not.
    everything = (await admin.get("/api/v1/audit")).json()
    assert {(e["method"], e["role"]) for e in everything["items"]} == {
        ("POST", "admin"),
        ("POST", "department"),
    }


async def test_a_caller_without_the_role_gets_403_whatever_it_sends(indicators):
    svc, url, admin = indicators
    ours = uuid4()
    own = await indicator(admin, url, REGION, ours)
    async with svc.client(coordinator()) as client:
        # Each of these would be a 422 for a caller with the role; the role is refused first.
        answers = [
            await client.post(f"/api/v1/indicators/{own}/measurements", json={"value": "много"}),
            await client.post("/api/v1/indicators", json={"name": 5}),
            await client.patch("/api/v1/indicators/not-a-uuid", json={"targets": "все"}),
            await client.get("/api/v1/audit", params={"since": "вчера"}),
        ]
    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "errors" not in answer.json()
    async with svc.client(department(ours)) as client:
        invalid_for_the_owner = await client.post(
            f"/api/v1/indicators/{own}/measurements", json={"value": "много"}
        )
    assert invalid_for_the_owner.status_code == 422
    assert {e["field"] for e in invalid_for_the_owner.json()["errors"]} >= {"period", "value"}
