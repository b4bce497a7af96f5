"""Reminders and the daily digest on a controllable clock, against the real SMTP sink."""

from datetime import UTC, datetime, timedelta

import pytest

from common.clock import ManualClock
from common.events import TargetMet, TargetMissed
from tests.integration.notifications_fixtures import (
    EventSource,
    Mailbox,
    World,
    header,
    known_to,
    notifications_service,
    service_settings,
)

pytestmark = pytest.mark.integration


async def test_reminders_until_acknowledged_and_a_daily_digest(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(await database_factory("notifications"))
    start = datetime.now(UTC).replace(hour=5, minute=0, second=0, microsecond=0)
    clock = ManualClock(start)
    world, mailbox = World(), Mailbox()
    department = world.department_emails[0]

    async with EventSource(source_db) as source, notifications_service(settings, clock) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        async with service.client() as client:
            [default] = (
                await client.get(
                    "/api/v1/subscriptions", params={"coordinator_id": str(world.coordinator_id)}
                )
            ).json()["items"]
            changed = await client.patch(
                f"/api/v1/subscriptions/{default['id']}", json={"mode": "digest"}
            )
            assert changed.status_code == 200, changed.text

            await source.publish(TargetMissed(**world.facts("2023", "50", "41")))
            [opening] = await mailbox.wait_for(department, 1)
            [alert] = (await client.get("/api/v1/alerts", params={"region": world.region})).json()[
                "items"
            ]
            [preview] = (
                await client.get("/api/v1/digests/preview", params={"region": world.region})
            ).json()

            clock.advance(timedelta(hours=1))  # 06:00: the digest goes out
            [digest] = await mailbox.wait_for(world.coordinator_email, 1)

            clock.advance(timedelta(days=7))  # the reminder is due, and a new day's digest
            reminders = await mailbox.wait_for(department, 2)
            await mailbox.wait_for(world.coordinator_email, 2)

            acked = await client.post(
                f"/api/v1/alerts/{alert['id']}/ack", json={"comment": "Уточняем данные школ"}
            )
            again = await client.post(f"/api/v1/alerts/{alert['id']}/ack", json={})
            clock.advance(timedelta(days=7))
            # The next day's digest proves the schedulers ran past the acknowledged reminder time.
            await mailbox.wait_for(world.coordinator_email, 3)
            detail = (await client.get(f"/api/v1/alerts/{alert['id']}")).json()
            quiet_after_ack = len(await mailbox.messages_to(department))

            # Acknowledged, not forgotten: the value back on target still brings its notice.
            await source.publish(TargetMet(**world.facts("2023", "50", "52")))
            emails = await mailbox.wait_for(department, 3)
            resolved = (await client.get(f"/api/v1/alerts/{alert['id']}")).json()

    assert preview["recipient"] == world.coordinator_email
    assert (preview["new"], preview["still_open"], preview["resolved"]) == (1, 0, 0)
    assert preview["sectors"][0]["name"] == "Образование"

    day = start.strftime("%d.%m.%Y")
    assert digest["Subject"] == (
        f"[Ленинградская область] Сводка уведомлений за {day}: новых 1, открытых 0, решённых 0"
    )
    assert "3. Образование" in digest["Text"] and "факт 41 %, план 50 %" in digest["Text"]
    assert not [
        m
        for m in await mailbox.messages_to(world.coordinator_email)
        if "Напоминание" in m["Subject"]
    ]

    reminder = reminders[1]
    assert reminder["Subject"].startswith("[Ленинградская область] Напоминание: Целевое значение")
    assert header(reminder, "References") == header(opening, "Message-Id")
    assert header(reminder, "Message-Id") != header(opening, "Message-Id")

    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert detail["reminder_count"] == 1 and detail["next_reminder_at"] is None
    assert quiet_after_ack == 2
    assert resolved["state"] == "resolved" and resolved["resolved_by"] == "target_met"
    assert emails[2]["Subject"].startswith("[Ленинградская область] Целевое значение достигнуто")
    assert header(emails[2], "References") == header(opening, "Message-Id")
