"""The sender is woken by the NOTIFY a new delivery sends: with an hour between its polls, an
alert is still emailed at once."""

import pytest

from common.events import TargetMissed
from notifications.deliveries.sender import DeliverySender
from tests.integration.notifications_fixtures import (
    EventSource,
    Mailbox,
    World,
    known_to,
    notifications_service,
    service_settings,
)

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
