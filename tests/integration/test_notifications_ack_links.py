"""The acknowledgement link in an email: a page that shows the alert, a form that takes it up."""

from datetime import UTC, datetime, timedelta

import pytest

from common.clock import ManualClock
from common.events import TargetMissed
from tests.integration.notifications_fixtures import (
    EventSource,
    Mailbox,
    World,
    ack_path,
    known_to,
    notifications_service,
    service_settings,
)

pytestmark = pytest.mark.integration


def forged(path: str) -> str:
    """The path with its signature's first character changed (the last may be padding bits)."""
    head, signature = path.rsplit(".", 1)
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


async def test_the_emailed_link_acknowledges_the_alert_as_its_recipient(database_factory):
    source_db = await database_factory("indicators")
    settings = service_settings(await database_factory("notifications"))
    clock = ManualClock(datetime.now(UTC))
    world, mailbox = World(), Mailbox()
    department = world.department_emails[0]

    async with EventSource(source_db) as source, notifications_service(settings, clock) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(TargetMissed(**world.facts("2023", "50", "41")))
        [to_department] = await mailbox.wait_for(department, 1)
        [to_coordinator] = await mailbox.wait_for(world.coordinator_email, 1)
        path, coordinator_path = ack_path(to_department), ack_path(to_coordinator)

        async with (
            service.client(principal=None) as browser,
            service.client() as admin,
        ):

            async def the_alert() -> dict:
                found = await admin.get("/api/v1/alerts", params={"region": world.region})
                [alert] = found.json()["items"]
                return alert

            page = await browser.get(path)
            after_page = await the_alert()
            too_long = await browser.post(path, data={"comment": "я" * 2001})
            after_too_long = await the_alert()
            acked = await browser.post(path, data={"comment": "  Уточняем данные школ  "})
            shown = await browser.get(acked.headers["location"])
            again = await browser.post(coordinator_path, data={})
            forgery = await browser.get(forged(path))
            acknowledged = await the_alert()
            clock.advance(timedelta(days=31))
            expired = await browser.get(coordinator_path)

    assert path != coordinator_path  # each recipient has a link of their own
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
    )
    assert world.indicator_name in page.text and "Целевое значение не достигнуто" in page.text
    assert '<form method="post">' in page.text and "факт 41 %, план 50 %" in page.text
    assert after_page["state"] == "open"  # opening the link (a mail scanner does) changes nothing

    assert too_long.status_code == 422 and "Комментарий длиннее 2000 знаков" in too_long.text
    assert after_too_long["state"] == "open"

    assert acked.status_code == 303 and acked.headers["location"] == path
    assert shown.status_code == 200 and "Уведомление принято в работу" in shown.text
    assert f"email:{department}" in shown.text and "Уточняем данные школ" in shown.text
    assert "<form" not in shown.text
    assert acknowledged["state"] == "acknowledged"
    assert acknowledged["acknowledged_by"] == f"email:{department}"
    assert acknowledged["ack_comment"] == "Уточняем данные школ"
    assert acknowledged["next_reminder_at"] is None

    assert again.status_code == 409 and "Уведомление принято в работу" in again.text
    assert forgery.status_code == 404 and "Ссылка недействительна" in forgery.text
    assert expired.status_code == 410 and "Срок действия ссылки истёк" in expired.text
