"""Alert lifecycles beyond the simple case: flapping, milestones, the hourly cap."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from common.clock import ManualClock
from common.events import (
    BackOnTrack,
    ForecastMiss,
    IndicatorCreated,
    IndicatorStatusChanged,
    IndicatorUpdated,
    MilestoneOverdue,
    MilestoneReached,
    MilestoneRemoved,
    MilestoneScheduled,
    Status,
    TargetMissed,
)
from tests.integration.notifications_fixtures import (
    EventSource,
    Mailbox,
    World,
    eventually,
    header,
    known_to,
    notifications_service,
    service_settings,
)

pytestmark = pytest.mark.integration


def five_am() -> datetime:
    return datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)


async def test_behind_on_track_behind_within_the_window_is_one_alert_and_one_email(
    database_factory,
):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"), flap_window_seconds=1800)
    clock = ManualClock(five_am())
    world, mailbox = World(), Mailbox()
    department = world.department_emails[0]
    behind = world.facts("2024-Q1", "50", "41")

    async with EventSource(source_db) as source, notifications_service(settings, clock) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(
            IndicatorStatusChanged(**behind, from_status=Status.on_track, to_status=Status.behind)
        )
        [opening] = await mailbox.wait_for(department, 1)
        clock.advance(timedelta(minutes=10))
        await source.publish(BackOnTrack(**world.facts("2024-Q1", "50", "51")))
        clock.advance(timedelta(minutes=10))
        await source.publish(
            IndicatorStatusChanged(**behind, from_status=Status.on_track, to_status=Status.behind)
        )
        async with service.client() as client:

            async def reopened():
                found = (await client.get("/api/v1/alerts", params={"region": world.region})).json()
                return found["total"] == 1 and found["items"][0]["reopen_count"] == 1 and found

            alerts = await eventually(reopened, "the alert to reopen")
            [alert] = alerts["items"]

            # It really recovers: the resolution is held for the window, then sent once.
            await source.publish(BackOnTrack(**world.facts("2024-Q1", "50", "52")))
            await eventually(
                lambda: _state(client, alert["id"], "resolved"), "the alert to resolve"
            )
            clock.advance(timedelta(minutes=31))
            messages = await mailbox.wait_for(department, 2)
            detail = (await client.get(f"/api/v1/alerts/{alert['id']}")).json()

    assert alert["state"] == "open" and alert["kind"] == "behind"
    assert [m["Subject"].split(":")[0] for m in messages] == [
        "[Ленинградская область] Показатель отстаёт от плана",
        "[Ленинградская область] Показатель вернулся к плану",
    ]
    assert "факт 52 %" in messages[1]["Subject"]
    assert header(messages[1], "References") == header(opening, "Message-Id")
    resolution_statuses = sorted(
        d["status"]
        for d in detail["deliveries"]
        if d["kind"] == "resolved" and d["recipient"] == department
    )
    assert resolution_statuses == ["cancelled", "sent"]
    assert [e["effect"] for e in detail["events"]] == ["opened", "resolved", "reopened", "resolved"]


async def _state(client, alert_id: str, state: str) -> bool:
    return (await client.get(f"/api/v1/alerts/{alert_id}")).json()["state"] == state


def milestone_of(world: World, title: str) -> dict:
    """A milestone of the world's project due on 30 June 2024, as the projects service tells it."""
    return {
        "milestone_id": uuid4(),
        "project_id": world.project_id,
        "project_name": "Цифровая школа",
        "region": world.region,
        "sector_number": 3,
        "responsible_department_id": world.department_id,
        "title": title,
        "due_date": date(2024, 6, 30),
    }


async def test_milestone_overdue_and_reached_reach_the_department(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world, mailbox = World(), Mailbox()
    department = world.department_emails[1]
    late = milestone_of(world, "Подключение 120 школ к ЕСПД")
    on_time = milestone_of(world, "Закупка оборудования")

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(MilestoneOverdue(**late))
        [overdue] = await mailbox.wait_for(department, 1)
        reached_at = datetime(2024, 7, 5, 10, tzinfo=UTC)
        await source.publish(
            MilestoneReached(**late, reached_at=reached_at),
            MilestoneReached(**on_time, reached_at=reached_at),
        )
        messages = await mailbox.wait_for(department, 3)
        coordinator_messages = await mailbox.wait_for(world.coordinator_email, 3)

    assert overdue["Subject"] == (
        "[Ленинградская область] Просрочен этап проекта: Подключение 120 школ к ЕСПД — "
        "срок 30.06.2024"
    )
    assert "Проект: Цифровая школа" in overdue["Text"]
    subjects = sorted(m["Subject"] for m in messages[1:])
    assert subjects == [
        "[Ленинградская область] Этап проекта выполнен: Закупка оборудования — срок 30.06.2024",
        "[Ленинградская область] Этап проекта выполнен: Подключение 120 школ к ЕСПД — "
        "срок 30.06.2024",
    ]
    resolution = next(m for m in messages[1:] if "120 школ" in m["Subject"])
    assert header(resolution, "In-Reply-To") == header(overdue, "Message-Id")
    assert len(coordinator_messages) == 3


async def test_the_hourly_cap_moves_the_excess_into_the_digest(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"), hourly_cap_per_recipient=2)
    clock = ManualClock(five_am())
    world, mailbox = World(), Mailbox()
    department = world.department_emails[0]

    async with EventSource(source_db) as source, notifications_service(settings, clock) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(
            *(TargetMissed(**world.facts(year, "50", "41")) for year in ("2022", "2023", "2024"))
        )
        immediate = await mailbox.wait_for(department, 2)
        async with service.client() as client:

            async def deferred():
                found = (
                    await client.get("/api/v1/deliveries", params={"recipient": department})
                ).json()["items"]
                return len(found) == 3 and [d for d in found if d["channel"] == "digest"]

            [held] = await eventually(deferred, "the third email to be deferred")
            clock.advance(timedelta(hours=1))
            messages = await mailbox.wait_for(department, 3)
            after = (await client.get(f"/api/v1/deliveries/{held['id']}")).json()

    assert [m["Subject"] for m in messages[:2]] == [m["Subject"] for m in immediate]
    digest = messages[2]
    assert digest["Subject"].startswith("[Ленинградская область] Сводка уведомлений за")
    assert "2024: факт 41 %, план 50 %" in digest["Text"]
    assert held["status"] == "pending" and "2024" in held["subject"]
    assert after["status"] == "digested" and after["digest_id"]


async def test_a_rescheduled_or_removed_milestone_closes_its_overdue_alert_quietly(
    database_factory,
):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world, mailbox = World(), Mailbox()
    department = world.department_emails[1]
    moved = milestone_of(world, "Подключение 120 школ к ЕСПД")
    dropped = milestone_of(world, "Закупка оборудования")

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(MilestoneOverdue(**moved), MilestoneOverdue(**dropped))
        await mailbox.wait_for(department, 2)
        await source.publish(
            MilestoneScheduled(**{**moved, "due_date": date(2030, 12, 31)}, status="pending"),
            MilestoneRemoved(
                milestone_id=dropped["milestone_id"],
                project_id=world.project_id,
                region=world.region,
            ),
        )

        async def both_closed():
            async with service.client() as admin:
                page = await admin.get("/api/v1/alerts", params={"region": world.region})
            items = page.json()["items"]
            return all(a["state"] == "resolved" for a in items) and items

        closed = {a["subject_id"]: a for a in await eventually(both_closed, "alerts closed")}
        # A notice would be a delivery written with the resolution, in its transaction.
        async with service.client() as admin:
            kinds = {
                (await admin.get(f"/api/v1/alerts/{a['id']}")).json()["deliveries"][-1]["kind"]
                for a in closed.values()
            }
        # Moved back and reached in time: news to those told it was overdue, closed or not.
        await source.publish(
            MilestoneReached(**moved, reached_at=datetime(2024, 6, 28, 10, tzinfo=UTC))
        )
        reached = (await mailbox.wait_for(department, 3))[-1]

    assert closed[str(moved["milestone_id"])]["resolved_by"] == "milestone_rescheduled"
    assert closed[str(dropped["milestone_id"])]["resolved_by"] == "milestone_removed"
    assert all(a["next_reminder_at"] is None for a in closed.values())
    assert kinds == {"opened"}
    assert reached["Subject"].startswith("[Ленинградская область] Этап проекта выполнен")


async def test_a_year_taken_out_of_the_plan_and_an_archived_indicator_close_their_alerts_quietly(
    database_factory,
):
    source_db = await database_factory("indicators")
    settings = service_settings(await database_factory("notifications"))
    world, mailbox = World(), Mailbox()
    department = world.department_emails[0]
    events = world.directory_events()
    [created] = [e for e in events if isinstance(e, IndicatorCreated)]
    plan = created.model_dump()
    behind = {"from_status": Status.on_track, "to_status": Status.behind}

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*events)
        await known_to(service, world)
        await source.publish(
            IndicatorStatusChanged(**world.facts("2023", "50", "41"), **behind),
            IndicatorStatusChanged(**world.facts("2024-Q1", "52.5", "44"), **behind),
            ForecastMiss(**world.facts("2024", "60", "48"), projected=48),
        )
        await mailbox.wait_for(department, 3)
        async with service.client() as admin:

            async def alerts_by_period(resolved: int) -> dict[str, dict] | None:
                page = await admin.get("/api/v1/alerts", params={"region": world.region})
                items = page.json()["items"]
                done = [a for a in items if a["state"] == "resolved"]
                return {a["period"]: a for a in items} if len(done) == resolved else None

            await source.publish(
                IndicatorUpdated(**{**plan, "targets": {2022: 40, 2023: 50}}),
            )
            after_replan = await eventually(lambda: alerts_by_period(2), "the 2024 alerts to close")
            await source.publish(
                IndicatorUpdated(**{**plan, "targets": {2022: 40, 2023: 50}, "active": False}),
            )
            after_archive = await eventually(lambda: alerts_by_period(3), "the 2023 alert to close")
            details = [
                (await admin.get(f"/api/v1/alerts/{a['id']}")).json()
                for a in after_archive.values()
            ]

    assert after_replan["2023"]["state"] == "open"
    assert {p: after_replan[p]["resolved_by"] for p in ("2024", "2024-Q1")} == {
        "2024": "target_withdrawn",
        "2024-Q1": "target_withdrawn",
    }
    assert after_archive["2023"]["resolved_by"] == "indicator_archived"
    assert after_archive["2024"]["resolved_by"] == "target_withdrawn"  # closed once, not again
    assert all(a["next_reminder_at"] is None for a in after_archive.values())
    # No notice: the only deliveries are the opening emails.
    assert {d["kind"] for detail in details for d in detail["deliveries"]} == {"opened"}
    assert all([e["effect"] for e in d["events"]] == ["opened", "resolved"] for d in details)
