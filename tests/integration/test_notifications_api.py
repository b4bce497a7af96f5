"""The notifications HTTP API: subscription CRUD, filters, pagination, problem+json errors."""

from uuid import uuid4

import pytest

from common.events import CoordinatorUpserted, ForecastMiss, ReportOverdue, TargetMissed
from tests.integration.notifications_fixtures import (
    EventSource,
    World,
    eventually,
    known_to,
    notifications_service,
    service_settings,
)

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


async def test_subscription_crud_and_its_errors(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world = World()

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        async with service.client() as client:
            listed = (
                await client.get("/api/v1/subscriptions", params={"region": world.region})
            ).json()
            [default] = listed["items"]
            duplicate = await client.post(
                "/api/v1/subscriptions",
                json={"coordinator_id": str(world.coordinator_id), "kinds": ["behind"]},
            )
            created = await client.post(
                "/api/v1/subscriptions",
                json={
                    "coordinator_id": str(world.coordinator_id),
                    "mode": "digest",
                    "kinds": ["behind", "target_missed", "behind"],
                },
            )
            unknown = await client.post(
                "/api/v1/subscriptions",
                json={"coordinator_id": str(uuid4()), "kinds": ["behind"]},
            )
            invalid = await client.post(
                "/api/v1/subscriptions",
                json={"coordinator_id": str(world.coordinator_id), "kinds": ["sometimes"]},
            )
            empty = await client.patch(f"/api/v1/subscriptions/{default['id']}", json={"kinds": []})
            clash = await client.patch(
                f"/api/v1/subscriptions/{default['id']}", json={"mode": "digest"}
            )
            narrowed = await client.patch(
                f"/api/v1/subscriptions/{default['id']}", json={"kinds": ["milestone_overdue"]}
            )
            deleted = await client.delete(f"/api/v1/subscriptions/{created.json()['id']}")
            gone = await client.get(f"/api/v1/subscriptions/{created.json()['id']}")
            remaining = (
                await client.get(
                    "/api/v1/subscriptions", params={"coordinator_id": str(world.coordinator_id)}
                )
            ).json()

    assert listed["total"] == 1
    assert default["mode"] == "immediate" and "target_missed" in default["kinds"]
    assert default["coordinator_email"] == world.coordinator_email
    assert duplicate.status_code == 409 and duplicate.headers["content-type"] == PROBLEM
    assert created.status_code == 201
    assert created.json()["kinds"] == ["target_missed", "behind"]
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [
        {"field": "coordinator_id", "message": "no coordinator with this id"}
    ]
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "kinds.0"
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "kinds"
    assert clash.status_code == 409
    assert narrowed.status_code == 200 and narrowed.json()["kinds"] == ["milestone_overdue"]
    assert deleted.status_code == 204 and gone.status_code == 404
    assert gone.headers["content-type"] == PROBLEM
    assert [s["id"] for s in remaining["items"]] == [default["id"]]


async def test_alert_filters_pagination_and_unknown_ids(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world = World()
    scoped = CoordinatorUpserted(
        coordinator_id=uuid4(),
        region=world.region,
        name="Петров",
        email=f"sector-{world.tag}@gov.example.ru",
        sector_numbers=[7],
    )

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events(), scoped)
        await known_to(service, world)
        await source.publish(
            TargetMissed(**world.facts("2022", "40", "30")),
            TargetMissed(**world.facts("2023", "50", "41")),
            ForecastMiss(**world.facts("2024", "60", "45"), projected=55),
            ReportOverdue(
                **world.facts("2024-Q1", "52", "0") | {"actual": None, "gap": None},
                deadline="2024-04-15",
            ),
        )
        async with service.client() as client:

            async def all_four():
                page = (await client.get("/api/v1/alerts", params={"region": world.region})).json()
                return page["total"] == 4 and page

            everything = await eventually(all_four, "four alerts")
            first = (
                await client.get(
                    "/api/v1/alerts", params={"region": world.region, "limit": 3, "offset": 0}
                )
            ).json()
            second = (
                await client.get(
                    "/api/v1/alerts", params={"region": world.region, "limit": 3, "offset": 3}
                )
            ).json()
            missed = (
                await client.get(
                    "/api/v1/alerts",
                    params={"region": world.region, "kind": "target_missed", "state": "open"},
                )
            ).json()
            by_department = (
                await client.get(
                    "/api/v1/alerts", params={"department_id": str(world.department_id)}
                )
            ).json()
            other_sector = (
                await client.get("/api/v1/alerts", params={"region": world.region, "sector": 7})
            ).json()
            too_many = await client.get("/api/v1/alerts", params={"limit": 1000})
            bad_kind = await client.get("/api/v1/alerts", params={"kind": "bad"})
            unknown = await client.get(f"/api/v1/alerts/{uuid4()}")
            unknown_ack = await client.post(f"/api/v1/alerts/{uuid4()}/ack", json={})
            long_comment = await client.post(
                f"/api/v1/alerts/{everything['items'][0]['id']}/ack", json={"comment": "x" * 2001}
            )
            failed = (await client.get("/api/v1/deliveries", params={"status": "failed"})).json()
            scoped_deliveries = (
                await client.get("/api/v1/deliveries", params={"recipient": scoped.email})
            ).json()

    assert len(first["items"]) == 3 and len(second["items"]) == 1 and first["total"] == 4
    ids = {a["id"] for a in first["items"]} | {a["id"] for a in second["items"]}
    assert ids == {a["id"] for a in everything["items"]}
    assert {a["period"] for a in missed["items"]} == {"2022", "2023"}
    assert by_department["total"] == 4
    assert other_sector["total"] == 0
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "query.limit"
    assert bad_kind.status_code == 422
    assert unknown.status_code == 404 and unknown_ack.status_code == 404
    assert long_comment.status_code == 422
    assert long_comment.json()["errors"][0]["field"] == "comment"
    assert failed["total"] == 0
    # A coordinator scoped to another sector hears nothing about sector 3.
    assert scoped_deliveries["total"] == 0
