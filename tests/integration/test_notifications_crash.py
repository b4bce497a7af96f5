"""A crash between "alert stored" and "email sent" loses no email and sends none twice.

The notifications service runs as production runs it, a uvicorn process of its own, and is
killed (SIGKILL: no shutdown, nothing flushed) while its deliveries wait for a mail server that
is down. Restarted, with the server back, it sends each email exactly once, and the event it
had already applied is not applied again.
"""

from uuid import uuid4

import asyncpg
import pytest

from common.events import TargetMissed
from tests.integration.notifications_fixtures import (
    TEST_SENDER,
    EventSource,
    Mailbox,
    World,
    eventually,
    known_in,
    start_group_at_the_end,
)
from tests.support.auth import TEST_ENVIRONMENT
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.services import ServiceProcess

pytestmark = pytest.mark.integration


async def deliveries(dsn: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch("SELECT recipient, status, attempts FROM deliveries")
    finally:
        await conn.close()


async def test_a_killed_service_sends_each_pending_email_once_when_it_returns(
    database_factory, sink
):
    source_db = await database_factory("projects")
    database_url = await database_factory("notifications")
    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    group = f"test-{uuid4().hex}"
    await start_group_at_the_end(group)
    service = ServiceProcess(
        "notifications.main:app",
        {
            **TEST_ENVIRONMENT,
            "DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP_SERVERS,
            "KAFKA_CONSUMER_GROUP": group,
            "KAFKA_AUTO_OFFSET_RESET": "latest",
            # The sink is not started yet: every attempt meets a refused connection.
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.smtp_port),
            "SMTP_SENDER": f"Мониторинг стратегий <{TEST_SENDER}>",
            "SMTP_TIMEOUT_SECONDS": "2",
            "SMTP_RETRY_BASE_SECONDS": "0.2",
            "SMTP_RETRY_MAX_SECONDS": "1",
            "SENDER_POLL_INTERVAL_SECONDS": "0.2",
            "READ_MODEL_GRACE_SECONDS": "0",
            "FLAP_WINDOW_SECONDS": "0",
        },
    )
    world, mailbox = World(), Mailbox(sink.api_url)
    recipients = sorted([*world.department_emails, world.coordinator_email])

    async with EventSource(source_db) as source:
        await service.start()
        try:
            await source.publish(*world.directory_events())
            await known_in(dsn, world)
            await source.publish(TargetMissed(**world.facts("2023", "50", "41")))

            async def tried_and_pending():
                # The server is down: one is tried and refused, the others wait behind it.
                found = await deliveries(dsn)
                return (
                    len(found) == len(recipients)
                    and all(d["status"] == "pending" for d in found)
                    and any(d["attempts"] >= 1 for d in found)
                )

            await eventually(tried_and_pending, "the deliveries to wait for the mail server")
            await service.kill()

            await sink.start()
            await service.start()
            received = {r: await mailbox.wait_for(r, 1) for r in recipients}

            async def all_sent():
                found = await deliveries(dsn)
                return all(d["status"] == "sent" for d in found) and found

            sent = await eventually(all_sent, "every delivery to be marked sent")
            # A second copy would have been sent before its row was marked.
            again = {r: await mailbox.messages_to(r) for r in recipients}
        finally:
            await service.kill()

    assert sorted(d["recipient"] for d in sent) == recipients
    assert {len(messages) for messages in received.values()} == {1}
    assert {len(messages) for messages in again.values()} == {1}
    assert all("2023: факт 41 %, план 50 %" in m[0]["Subject"] for m in again.values())
