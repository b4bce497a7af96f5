"""Who may do what in the notifications service: regions, acknowledgements, subscriptions,
the mail log, limits and the audit trail."""

from contextlib import asynccontextmanager
from uuid import UUID, uuid4

import asyncpg
import pytest

from common.events import CoordinatorUpserted, TargetMissed
from common.security import Principal, Role
from tests.integration.notifications_fixtures import (
    EventSource,
    World,
    eventually,
    known_to,
    notifications_service,
    service_settings,
)

pytestmark = pytest.mark.integration


def coordinator_of(world: World, sectors: list[int] | None = None) -> Principal:
    return Principal(
        subject=f"user:{uuid4()}",
        role=Role.coordinator,
        region=world.region,
        sector_numbers=sectors or [],
    )


def department_of(world: World) -> Principal:
    return Principal(
        subject=f"user:{uuid4()}",
        role=Role.department,
        region=world.region,
        department_id=world.department_id,
    )


async def alert_of(client, world: World) -> dict:
    """The world's one alert, once the service has raised it."""

    async def raised():
        page = (await client.get("/api/v1/alerts", params={"region": world.region})).json()
        return page["total"] == 1 and page["items"][0]

    return await eventually(raised, f"the alert of {world.region}")


async def alert_id_in_database(service, world: World) -> str:
    """The world's alert, read from the database (polling the API would spend the rate)."""

    async def raised():
        conn = await asyncpg.connect(service.app.state.settings.asyncpg_dsn)
        try:
            return await conn.fetchval("SELECT id FROM alerts WHERE region = $1", world.region)
        finally:
            await conn.close()

    return str(await eventually(raised, f"the alert of {world.region}"))


async def subscription_of(client, world: World) -> dict:
    """The default subscription of the world's coordinator."""
    page = await client.get("/api/v1/subscriptions", params={"region": world.region})
    [subscription] = page.json()["items"]
    return subscription


async def test_scope_of_coordinators_and_departments(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    home, away = World(), World()
    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*home.directory_events(), *away.directory_events())
        await known_to(service, home)
        await known_to(service, away)
        await source.publish(
            TargetMissed(**home.facts("2022", "40", "30")),
            TargetMissed(**away.facts("2022", "40", "30")),
        )
        async with service.client() as admin:
            home_alert = await alert_of(admin, home)
            away_alert = await alert_of(admin, away)
            away_subscription = await subscription_of(admin, away)
            home_subscription = await subscription_of(admin, home)

        async with service.client(coordinator_of(home)) as coordinator:
            alerts = await coordinator.get("/api/v1/alerts")
            other_region = await coordinator.get("/api/v1/alerts", params={"region": away.region})
            read_away = await coordinator.get(f"/api/v1/alerts/{away_alert['id']}")
            ack_away = await coordinator.post(f"/api/v1/alerts/{away_alert['id']}/ack", json={})
            ack_home = await coordinator.post(
                f"/api/v1/alerts/{home_alert['id']}/ack", json={"comment": "Разбираемся"}
            )
            subscriptions = await coordinator.get("/api/v1/subscriptions")
            change_away = await coordinator.patch(
                f"/api/v1/subscriptions/{away_subscription['id']}", json={"kinds": ["behind"]}
            )
            subscribe_away = await coordinator.post(
                "/api/v1/subscriptions",
                json={
                    "coordinator_id": str(away.coordinator_id),
                    "mode": "digest",
                    "kinds": ["behind"],
                },
            )
            change_home = await coordinator.patch(
                f"/api/v1/subscriptions/{home_subscription['id']}", json={"kinds": ["behind"]}
            )
            deliveries = await coordinator.get("/api/v1/deliveries")
            digest_away = await coordinator.get(
                "/api/v1/digests/preview", params={"region": away.region}
            )
            departments = await coordinator.get("/api/v1/departments")

        async with service.client(coordinator_of(home, sectors=[1])) as other_sector:
            hidden = await other_sector.get(f"/api/v1/alerts/{home_alert['id']}")
            sector_list = await other_sector.get("/api/v1/alerts")

        async with service.client(department_of(home)) as department:
            department_alerts = await department.get("/api/v1/alerts")
            department_subscriptions = await department.get("/api/v1/subscriptions")

    assert [a["id"] for a in alerts.json()["items"]] == [home_alert["id"]]
    assert other_region.status_code == 403 and other_region.json()["field"] == "region"
    assert (read_away.status_code, ack_away.status_code) == (404, 404)
    assert ack_home.status_code == 200 and ack_home.json()["state"] == "acknowledged"
    assert [s["id"] for s in subscriptions.json()["items"]] == [home_subscription["id"]]
    assert change_away.status_code == 404
    assert subscribe_away.status_code == 422
    assert subscribe_away.json()["errors"][0]["field"] == "coordinator_id"
    assert change_home.status_code == 200
    assert deliveries.status_code == 403
    assert digest_away.status_code == 403
    assert {d["region"] for d in departments.json()["items"]} == {home.region}
    # The world's project lies in sector 3: a coordinator of sector 1 does not see its alert.
    assert hidden.status_code == 404 and sector_list.json()["total"] == 0
    assert [a["id"] for a in department_alerts.json()["items"]] == [home_alert["id"]]
    assert department_subscriptions.status_code == 403


async def test_a_department_acknowledges_its_own_alerts_only(database_factory):
    """Its emails ask the responsible department to acknowledge; another department of the
    region may read the alert but not take it up for it."""
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world = World()
    neighbour = Principal(
        subject=f"user:{uuid4()}",
        role=Role.department,
        region=world.region,
        department_id=uuid4(),
    )
    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(TargetMissed(**world.facts("2022", "40", "30")))
        async with service.client() as admin:
            alert = await alert_of(admin, world)
        async with service.client(neighbour) as other:
            refused = await other.post(f"/api/v1/alerts/{alert['id']}/ack", json={})
        async with service.client(department_of(world)) as department:
            acknowledged = await department.post(
                f"/api/v1/alerts/{alert['id']}/ack", json={"comment": "Внесём значение"}
            )

    assert refused.status_code == 403
    assert acknowledged.status_code == 200
    assert acknowledged.json()["state"] == "acknowledged"
    assert acknowledged.json()["ack_comment"] == "Внесём значение"


@asynccontextmanager
async def region_with_two_coordinators(database_factory):
    """A running service knowing a world whose region has a second coordinator, a colleague.

    Yields the service, the world, the colleague's id and the default subscription of each.
    """
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world, colleague_id = World(), uuid4()
    colleague = CoordinatorUpserted(
        coordinator_id=colleague_id,
        region=world.region,
        name="Смирнов Олег Викторович",
        email=f"colleague-{world.tag}@gov.example.ru",
    )
    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events(), colleague)
        await known_to(service, world)
        async with service.client() as admin:

            async def default_of(coordinator_id: UUID):
                page = await admin.get(
                    "/api/v1/subscriptions", params={"coordinator_id": str(coordinator_id)}
                )
                return page.json()["items"]

            [own] = await eventually(
                lambda: default_of(world.coordinator_id), "the coordinator's subscription"
            )
            [colleagues] = await eventually(
                lambda: default_of(colleague_id), "the colleague's subscription"
            )
        yield service, world, colleague_id, own, colleagues


async def test_a_coordinators_own_login_manages_only_its_own_subscriptions(database_factory):
    async with region_with_two_coordinators(database_factory) as shared:
        service, world, colleague_id, own, colleagues = shared
        me = Principal(
            subject=f"user:{uuid4()}",
            role=Role.coordinator,
            region=world.region,
            coordinator_id=world.coordinator_id,
        )
        async with service.client(me) as coordinator:
            listed = await coordinator.get("/api/v1/subscriptions")
            listed_self = await coordinator.get(
                "/api/v1/subscriptions", params={"coordinator_id": str(world.coordinator_id)}
            )
            listed_colleague = await coordinator.get(
                "/api/v1/subscriptions", params={"coordinator_id": str(colleague_id)}
            )
            read_colleague = await coordinator.get(f"/api/v1/subscriptions/{colleagues['id']}")
            change_colleague = await coordinator.patch(
                f"/api/v1/subscriptions/{colleagues['id']}", json={"kinds": ["behind"]}
            )
            delete_colleague = await coordinator.delete(f"/api/v1/subscriptions/{colleagues['id']}")
            subscribe_colleague = await coordinator.post(
                "/api/v1/subscriptions",
                json={"coordinator_id": str(colleague_id), "mode": "digest", "kinds": ["behind"]},
            )
            subscribe_self = await coordinator.post(
                "/api/v1/subscriptions", json={"mode": "digest", "kinds": ["behind"]}
            )
            read_own = await coordinator.get(f"/api/v1/subscriptions/{own['id']}")
            change_own = await coordinator.patch(
                f"/api/v1/subscriptions/{own['id']}", json={"kinds": ["target_missed"]}
            )
        async with service.client() as admin:
            colleague_after = await admin.get(
                "/api/v1/subscriptions", params={"coordinator_id": str(colleague_id)}
            )

    assert [s["id"] for s in listed.json()["items"]] == [own["id"]]
    assert [s["id"] for s in listed_self.json()["items"]] == [own["id"]]
    assert listed_colleague.status_code == 403
    assert listed_colleague.json()["field"] == "coordinator_id"
    for refused in (read_colleague, change_colleague, delete_colleague):
        assert refused.status_code == 404, refused.text
    assert subscribe_colleague.status_code == 403
    assert subscribe_colleague.json()["field"] == "coordinator_id"
    assert subscribe_self.status_code == 201, subscribe_self.text
    assert subscribe_self.json()["coordinator_id"] == str(world.coordinator_id)
    assert subscribe_self.json()["mode"] == "digest"
    assert read_own.status_code == 200
    assert change_own.status_code == 200 and change_own.json()["kinds"] == ["target_missed"]
    # Nothing of the colleague's changed, and no digest subscription was made for them.
    assert colleague_after.json()["items"] == [colleagues]


async def test_a_coordinator_login_without_a_link_is_a_desk_for_the_whole_region(database_factory):
    async with region_with_two_coordinators(database_factory) as shared:
        service, world, colleague_id, own, colleagues = shared
        async with service.client(coordinator_of(world)) as desk:
            listed = await desk.get("/api/v1/subscriptions")
            change_colleague = await desk.patch(
                f"/api/v1/subscriptions/{colleagues['id']}", json={"kinds": ["behind"]}
            )
            subscribe_colleague = await desk.post(
                "/api/v1/subscriptions",
                json={"coordinator_id": str(colleague_id), "mode": "digest", "kinds": ["behind"]},
            )
            nobody_named = await desk.post(
                "/api/v1/subscriptions", json={"mode": "digest", "kinds": ["behind"]}
            )
        async with service.client() as admin:
            admin_nobody_named = await admin.post(
                "/api/v1/subscriptions", json={"mode": "digest", "kinds": ["behind"]}
            )

    assert {s["id"] for s in listed.json()["items"]} == {own["id"], colleagues["id"]}
    assert change_colleague.status_code == 200
    assert subscribe_colleague.status_code == 201
    assert subscribe_colleague.json()["coordinator_id"] == str(colleague_id)
    # Only a coordinator's own login knows whom a subscription without a coordinator is for.
    for unnamed in (nobody_named, admin_nobody_named):
        assert unnamed.status_code == 422, unnamed.text
        assert [e["field"] for e in unnamed.json()["errors"]] == ["coordinator_id"]


async def test_mass_assignment_and_oversized_bodies_are_refused(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"), max_body_bytes=1024)
    world = World()
    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(TargetMissed(**world.facts("2022", "40", "30")))
        async with service.client() as admin:
            alert = await alert_of(admin, world)
            subscription = await subscription_of(admin, world)
        async with service.client(coordinator_of(world)) as coordinator:
            ack = await coordinator.post(
                f"/api/v1/alerts/{alert['id']}/ack",
                json={"comment": "ок", "acknowledged_by": "someone-else"},
            )
            widen = await coordinator.patch(
                f"/api/v1/subscriptions/{subscription['id']}",
                json={"kinds": ["behind"], "region": "moscow"},
            )
            huge = await coordinator.post(
                f"/api/v1/alerts/{alert['id']}/ack", json={"comment": "я" * 2000}
            )
            still_open = await coordinator.get(f"/api/v1/alerts/{alert['id']}")
    assert ack.status_code == 422 and ack.json()["errors"][0]["field"] == "acknowledged_by"
    assert widen.status_code == 422 and widen.json()["errors"][0]["field"] == "region"
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"
    assert still_open.json()["state"] == "open"


async def test_rate_limit_and_audit_trail(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(
        await database_factory("notifications"), rate_limit_per_second=0.01, rate_limit_burst=6
    )
    world = World()
    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(TargetMissed(**world.facts("2022", "40", "30")))
        alert_id = await alert_id_in_database(service, world)
        async with service.client() as admin:
            principal = coordinator_of(world)
            async with service.client(principal) as coordinator:
                acked = await coordinator.post(f"/api/v1/alerts/{alert_id}/ack", json={})
                again = await coordinator.post(f"/api/v1/alerts/{alert_id}/ack", json={})
                trail_for_coordinator = await coordinator.get("/api/v1/audit")
                statuses = [(await coordinator.get("/api/v1/alerts")).status_code for _ in range(3)]
                limited = await coordinator.get("/api/v1/alerts")
                health = await coordinator.get("/health/ready")
            trail = await admin.get("/api/v1/audit", params={"subject": principal.subject})
    assert acked.status_code == 200 and again.status_code == 409
    assert trail_for_coordinator.status_code == 403
    assert statuses == [200, 200, 200]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert health.status_code == 200
    # Only the acknowledgement that committed is in the trail.
    [entry] = trail.json()["items"]
    assert (entry["method"], entry["role"], entry["object_id"]) == ("POST", "coordinator", alert_id)
    assert entry["path"] == f"/api/v1/alerts/{alert_id}/ack"


async def test_a_caller_without_the_role_gets_403_whatever_it_sends(database_factory):
    settings = service_settings(await database_factory("notifications"))
    world = World()
    async with notifications_service(settings) as service:
        async with service.client(department_of(world)) as client:
            # Each of these would be a 422 for a coordinator; the role is refused first.
            answers = [
                await client.post("/api/v1/subscriptions", json={"mode": "по почте"}),
                await client.patch("/api/v1/subscriptions/not-a-uuid", json={"kinds": 5}),
            ]
        async with service.client(coordinator_of(world)) as client:
            invalid_for_a_coordinator = await client.post(
                "/api/v1/subscriptions", json={"mode": "по почте"}
            )
    for answer in answers:
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "errors" not in answer.json()
    assert invalid_for_a_coordinator.status_code == 422
    assert "mode" in {e["field"] for e in invalid_for_a_coordinator.json()["errors"]}
