"""SMTP trouble: temporary refusals and outages are retried until delivered once; permanent
refusals fail visibly. A private mail sink of the local stack (own ports, chaos triggers) plays
the mail server, so the shared sink's behaviour is never changed."""

import pytest

from common.events import TargetMissed
from tests.integration.notifications_fixtures import (
    EventSource,
    Mailbox,
    World,
    eventually,
    known_to,
    notifications_service,
    service_settings,
    smtp_settings,
)

pytestmark = pytest.mark.integration


async def deliveries(service, **params) -> list[dict]:
    async with service.client() as client:
        return (await client.get("/api/v1/deliveries", params=params)).json()["items"]


async def test_temporary_refusals_and_an_outage_are_retried_and_delivered_once(
    database_factory, sink
):
    source_db = await database_factory("projects")
    settings = service_settings(
        await database_factory("notifications"),
        smtp=smtp_settings("127.0.0.1", sink.smtp_port, timeout_seconds=2),
    )
    world, mailbox = World(), Mailbox(sink.api_url)
    recipients = [*world.department_emails, world.coordinator_email]

    await sink.start()
    await sink.set_chaos({"Recipient": {"ErrorCode": 451, "Probability": 100}})
    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        # First the mail server answers 451 to every recipient.
        await source.publish(TargetMissed(**world.facts("2023", "50", "41")))

        async def refused_temporarily():
            found = await deliveries(service, recipient=world.coordinator_email)
            return (
                found
                and found[0]["attempts"] >= 2
                and found[0]["last_smtp_code"] == 451
                and found[0]
            )

        refused = await eventually(refused_temporarily, "451 replies to be recorded")

        # Then it is down altogether.
        await sink.stop()

        async def retried_unreachable():
            # One delivery at a time meets the outage; the others wait behind it, untried.
            found = [d for r in recipients for d in await deliveries(service, recipient=r)]
            tried = [d for d in found if d["last_smtp_code"] is None and d["attempts"] > 0]
            return tried and tried[0]

        during_outage = await eventually(retried_unreachable, "retries while SMTP is down")

        # It comes back (without the chaos): each recipient gets the email exactly once.
        await sink.start()
        received = {r: await mailbox.wait_for(r, 1) for r in recipients}
        sent = await eventually(
            lambda: _all_with_status(service, "sent", recipients), "every delivery sent"
        )
        received_after = {r: await mailbox.messages_to(r) for r in recipients}

    assert refused["status"] == "pending" and "Chaos recipient error" in refused["last_smtp_reply"]
    assert during_outage["status"] == "pending"
    assert {len(messages) for messages in received.values()} == {1}
    assert {len(messages) for messages in received_after.values()} == {1}
    # Refused once at least (451), then sent; outage rounds count only for the one tried.
    assert all(d["attempts"] >= 2 and d["last_smtp_code"] == 250 for d in sent)


async def _all_with_status(service, status: str, recipients: list[str]) -> list[dict] | None:
    """The recipients' deliveries once all of them have the status (the topics are shared, so
    the service may also hold other tests' alerts)."""
    found = [
        d
        for d in await deliveries(service, status=status, limit=200)
        if d["recipient"] in recipients
    ]
    return found if len(found) == len(recipients) else None


async def test_a_permanent_refusal_fails_the_delivery_visibly(database_factory, sink):
    source_db = await database_factory("projects")
    await sink.start()
    await sink.set_chaos({"Recipient": {"ErrorCode": 550, "Probability": 100}})
    settings = service_settings(
        await database_factory("notifications"),
        smtp=smtp_settings("127.0.0.1", sink.smtp_port),
    )
    world, mailbox = World(), Mailbox(sink.api_url)
    recipients = [*world.department_emails, world.coordinator_email]

    async with EventSource(source_db) as source, notifications_service(settings) as service:
        await source.publish(*world.directory_events())
        await known_to(service, world)
        await source.publish(TargetMissed(**world.facts("2023", "50", "41")))
        failed = await eventually(
            lambda: _all_with_status(service, "failed", recipients), "every delivery failed"
        )
        async with service.client() as client:
            metrics = (await client.get("/metrics")).text
        received = {r: await mailbox.messages_to(r) for r in recipients}

    assert all(d["attempts"] == 1 and d["last_smtp_code"] == 550 for d in failed)
    assert sorted(d["recipient"] for d in failed) == sorted(recipients)
    assert 'notification_deliveries_total{kind="opened",outcome="failed"}' in metrics
    assert received == {r: [] for r in recipients}
