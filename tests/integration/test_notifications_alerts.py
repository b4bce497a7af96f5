"""Alerts end to end inside the notifications service: real Kafka, PostgreSQL and SMTP sink."""

import asyncio
from decimal import Decimal

import pytest

from common.events import BackOnTrack, IndicatorStatusChanged, Status, TargetMet, TargetMissed
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


async def test_target_missed_emails_each_recipient_once_and_resolution_once(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world, mailbox = World(), Mailbox()
    recipients = [*world.department_emails, world.coordinator_email]
    missed = TargetMissed(**world.facts("2023", "50", "41"))

    async with EventSource(source_db) as source:
        async with notifications_service(settings) as service:
            await source.publish(*world.directory_events())
            await known_to(service, world)
            [event_id] = await source.publish(missed)
            first = {r: (await mailbox.wait_for(r, 1))[0] for r in recipients}

            # The same record again, and the same facts as a new event: nothing new is sent.
            await source.redeliver(event_id)
            await source.publish(missed)
            async with service.client() as client:
                alerts = (
                    await client.get("/api/v1/alerts", params={"region": world.region})
                ).json()
                assert alerts["total"] == 1
                [alert] = alerts["items"]
                detail = await _wait_for_events(client, alert["id"], 2)

        # A restart re-reads nothing already applied and sends nothing more.
        async with notifications_service(settings) as service:
            await source.publish(BackOnTrack(**world.facts("2023", "50", "52")))
            resolutions = {r: await mailbox.wait_for(r, 2) for r in recipients}
            async with service.client() as client:
                resolved = (await client.get(f"/api/v1/alerts/{alert['id']}")).json()

    subject = first[world.coordinator_email]["Subject"]
    assert subject == (
        "[Ленинградская область] Целевое значение не достигнуто: Доля учащихся, обеспеченных "
        "доступом к высокоскоростному… — 2023: факт 41 %, план 50 %"
    )
    text = first[world.department_emails[0]]["Text"]
    assert "Цифровая школа" in text and "КЦР ЛО" in text and "−9 п. п." in text
    assert "<td>" in first[world.department_emails[0]]["HTML"]
    assert alert["state"] == "open" and alert["kind"] == "target_missed"
    assert [e["effect"] for e in detail["events"]] == ["opened", "updated"]
    assert sorted(d["recipient"] for d in detail["deliveries"]) == sorted(recipients)

    for recipient in recipients:
        opening, resolution = resolutions[recipient]
        assert len(resolutions[recipient]) == 2, recipient
        assert resolution["Subject"].startswith(
            "[Ленинградская область] Показатель вернулся к плану: Доля учащихся"
        )
        assert "факт 52 %, план 50 %" in resolution["Subject"]
        first_id = header(opening, "Message-Id")
        assert header(resolution, "In-Reply-To") == first_id
        assert header(resolution, "References") == first_id
    assert resolved["state"] == "resolved" and resolved["resolved_by"] == "back_on_track"
    assert len(resolved["deliveries"]) == 2 * len(recipients)
    assert {d["status"] for d in resolved["deliveries"]} == {"sent"}


async def _wait_for_events(client, alert_id: str, count: int) -> dict:
    from tests.integration.notifications_fixtures import eventually

    async def enough():
        detail = (await client.get(f"/api/v1/alerts/{alert_id}")).json()
        return detail if len(detail["events"]) >= count else None

    return await eventually(enough, f"{count} events behind the alert")


async def test_a_year_end_value_behind_and_below_target_is_one_email_and_one_resolution(
    database_factory,
):
    """The indicators service announces a year-end value below target as a status change and
    a missed target, and its recovery as a status change, back on track and target met."""
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world, mailbox = World(), Mailbox()
    recipients = [*world.department_emails, world.coordinator_email]
    behind, recovered = world.facts("2023", "50", "41"), world.facts("2023", "50", "52")

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(
            IndicatorStatusChanged(**behind, from_status=None, to_status=Status.behind),
            TargetMissed(**behind),
        )
        async with service.client() as client:

            async def both_alerts():
                found = (await client.get("/api/v1/alerts", params={"region": world.region})).json()
                return found["total"] == 2 and found

            alerts = await eventually(both_alerts, "the behind and target-missed alerts")
            for recipient in recipients:
                await mailbox.wait_for(recipient, 1)
            await source.publish(
                IndicatorStatusChanged(
                    **recovered, from_status=Status.behind, to_status=Status.on_track
                ),
                BackOnTrack(**recovered),
                TargetMet(**recovered),
            )
            for recipient in recipients:
                await mailbox.wait_for(recipient, 2)

            async def all_resolved():
                found = (await client.get("/api/v1/alerts", params={"region": world.region})).json()
                return all(a["state"] == "resolved" for a in found["items"]) and found

            settled = await eventually(all_resolved, "both alerts to resolve")
            # A stray third email would arrive within this on a loaded machine.
            await asyncio.sleep(5)
            inboxes = {r: await mailbox.messages_to(r) for r in recipients}

    assert sorted(a["kind"] for a in alerts["items"]) == ["behind", "target_missed"]
    assert settled["total"] == 2
    for recipient, messages in inboxes.items():
        assert [m["Subject"].split(":")[0] for m in messages] == [
            "[Ленинградская область] Показатель отстаёт от плана",
            "[Ленинградская область] Показатель вернулся к плану",
        ], recipient


async def test_a_target_met_with_nothing_open_is_recorded_but_not_mailed(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world, mailbox = World(), Mailbox()
    recipients = [*world.department_emails, world.coordinator_email]

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(TargetMet(**world.facts("2023", "50", "52")))
        # A missed target afterwards proves the routing works and bounds the wait.
        await source.publish(TargetMissed(**world.facts("2024", "60", "41")))
        async with service.client() as client:

            async def both_recorded():
                found = (await client.get("/api/v1/alerts", params={"region": world.region})).json()
                return found["total"] == 2 and found

            alerts = await eventually(both_recorded, "the target-met and target-missed alerts")
        for recipient in recipients:
            await mailbox.wait_for(recipient, 1)
        await asyncio.sleep(5)  # a stray good-news email would arrive within this
        inboxes = {r: await mailbox.messages_to(r) for r in recipients}

    kinds = {a["kind"]: a for a in alerts["items"]}
    assert kinds["target_met"]["state"] == "resolved"
    for recipient, messages in inboxes.items():
        assert len(messages) == 1, recipient
        assert "Целевое значение не достигнуто" in messages[0]["Subject"], recipient


async def test_good_news_closing_several_alerts_sends_each_recipient_one_notice(database_factory):
    """A year's target met also closes its quarters' alerts: one notice each, not one per alert."""
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world = World()
    recipients = sorted([*world.department_emails, world.coordinator_email])

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(
            *(
                IndicatorStatusChanged(
                    **world.facts(quarter, "25", "10"), from_status=None, to_status=Status.behind
                )
                for quarter in ("2023-Q2", "2023-Q3")
            )
        )
        await source.publish(TargetMet(**world.facts("2023", "50", "52")))
        async with service.client() as client:

            async def both_resolved():
                found = (await client.get("/api/v1/alerts", params={"region": world.region})).json()
                return found["total"] == 2 and all(a["state"] == "resolved" for a in found["items"])

            await eventually(both_resolved, "both quarters' alerts to resolve")
            # Notices are decided in the resolving transaction: their rows are all there now.
            notices = (
                await client.get("/api/v1/deliveries", params={"kind": "resolved", "limit": 200})
            ).json()["items"]

    told = sorted(d["recipient"] for d in notices if d["region"] == world.region)
    assert told == recipients
    # Told of what closed their alerts, the year, not of a quarter's old figures.
    subjects = {d["subject"] for d in notices if d["region"] == world.region}
    [subject] = subjects
    assert subject.startswith("[Ленинградская область] Целевое значение достигнуто: ")
    assert subject.endswith(" — 2023: факт 52 %, план 50 %")


async def test_figures_as_large_as_the_indicators_service_accepts_raise_their_alert(
    database_factory,
):
    """18 digits before the point, and a gap in % of a tiny plan beyond that: kept as sent."""
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    world, mailbox = World(), Mailbox()
    facts = {
        **world.facts("2023", "0.000001", "0"),
        "expected": Decimal("900000000000000000"),
        "actual": Decimal("0.000001"),
        "gap": Decimal("-899999999999999999.999999"),
        "gap_percent": Decimal("-99999999999999999999999999.9"),
    }

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(TargetMissed(**facts))
        [email] = await mailbox.wait_for(world.coordinator_email, 1)
        async with service.client() as client:
            [alert] = (await client.get("/api/v1/alerts", params={"region": world.region})).json()[
                "items"
            ]

    assert Decimal(alert["gap_percent"]) == facts["gap_percent"]
    assert Decimal(alert["expected"]) == facts["expected"]
    assert "план 900\u00a0000\u00a0000\u00a0000\u00a0000\u00a0000 %" in email["Subject"]
