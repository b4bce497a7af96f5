"""The sender is woken by the NOTIFY a new delivery sends: with an hour between its polls, an
alert is still emailed at once; consecutive batches share one SMTP connection."""

import asyncio
from uuid import uuid4

import pytest
from aiosmtpd.controller import Controller

from common.clock import SystemClock
from common.db import create_engine, session_factory
from common.events import TargetMissed
from common.settings import SmtpSettings
from common.workers import WakeChannel
from notifications.deliveries.models import DUE_CHANNEL
from notifications.deliveries.sender import DeliverySender
from tests.integration.notifications_fixtures import (
    EventSource,
    Mailbox,
    World,
    eventually,
    known_to,
    notifications_service,
    pending_delivery,
    service_settings,
)
from tests.support.services import free_port

pytestmark = pytest.mark.integration


async def test_a_new_delivery_wakes_the_sender_before_its_poll(database_factory):
    source_db = await database_factory("projects")
    settings = service_settings(
        await database_factory("notifications"), sender_poll_interval_seconds=3600
    )
    world, mailbox = World(), Mailbox()
    async with EventSource(source_db) as source, notifications_service(settings) as service:
        [sender] = [w for w in service.app.state.workers if isinstance(w, DeliverySender)]
        await source.publish(*world.directory_events())
        await known_to(service, world)
        assert sender.notifications == 0  # the read models alone write no delivery

        await source.publish(TargetMissed(**world.facts("2023", "50", "41")))
        for recipient in [*world.department_emails, world.coordinator_email]:
            [message] = await mailbox.wait_for(recipient, 1)
            assert "2023: факт 41 %, план 50 %" in message["Subject"]
        # Other suites' alerts on the shared topics may wake it too, never the poll.
        assert sender.notifications >= 1


class SessionRecorder:
    """An SMTP server's handler that notes which client connection carried each message."""

    def __init__(self) -> None:
        self.peers: list[tuple[str, int]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.peers.append(session.peer)
        return "250 OK"


@pytest.fixture
def smtp_server():
    recorder = SessionRecorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


@pytest.mark.parametrize(("idle", "connections"), [(3600.0, 1), (0.0, 2)])
async def test_batches_share_one_smtp_connection_until_it_idles(
    database_factory, smtp_server, idle, connections
):
    recorder, port = smtp_server
    url = await database_factory("notifications")
    engine = create_engine(url, pool_size=2)
    sessions = session_factory(engine)
    sender = DeliverySender(
        sessions,
        SmtpSettings(host="127.0.0.1", port=port),
        SystemClock(),
        batch_size=20,
        poll_interval=3600,
        retry_base=0.2,
        retry_max=1.0,
        max_attempts=3,
        smtp_idle=idle,
        wake_channel=WakeChannel(url.replace("+asyncpg", "", 1), DUE_CHANNEL),
    )
    task = asyncio.create_task(sender.run())
    try:
        await asyncio.wait_for(sender.listener.listening.wait(), 60)
        for n in range(2):  # two transactions, two wake-ups, two batches
            async with sessions() as session, session.begin():
                session.add(pending_delivery(f"kcr-{n}-{uuid4().hex[:8]}@lenreg.example.ru"))

            async def arrived(n: int = n) -> bool:
                return len(recorder.peers) > n

            await eventually(arrived, f"email {n + 1} to arrive")
    finally:
        sender.stop()
        await asyncio.wait_for(task, 60)
        await engine.dispose()
    assert len(set(recorder.peers)) == connections
