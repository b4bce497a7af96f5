"""The sender against a real mail server: a session the server refuses (bad credentials) holds
the mail until it is set right, and a message that cannot be built fails alone, never holding up
the others. A private mail sink (own ports, chaos triggers) plays the server."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from common.clock import SystemClock
from notifications.deliveries.models import Delivery, DeliveryStatus
from notifications.deliveries.sender import DeliverySender
from tests.integration.local_infra_helpers import PrivateMailSink
from tests.integration.notifications_fixtures import Mailbox, pending_delivery, smtp_settings
from tests.support.services import free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def sessions(notifications_sessions):
    return notifications_sessions


def sender_for(sessions, sink: PrivateMailSink, **smtp) -> DeliverySender:
    return DeliverySender(
        sessions,
        smtp_settings("127.0.0.1", sink.smtp_port, timeout_seconds=5, **smtp),
        SystemClock(),
        batch_size=20,
        poll_interval=3600,
        retry_base=0.2,
        retry_max=1.0,
        # One answered refusal would fail a delivery: a refused session must not count.
        max_attempts=1,
        smtp_idle=0,
    )


async def close(sender: DeliverySender) -> None:
    """Say goodbye to the mail server: a stopped sender's run() only disconnects."""
    sender.stop()
    await sender.run()


async def add(sessions, *deliveries: Delivery) -> None:
    async with sessions() as session, session.begin():
        session.add_all(deliveries)


async def rows(sessions) -> dict[str, Delivery]:
    async with sessions() as session:
        found = (await session.exec(select(Delivery))).scalars().all()
    return {d.recipient: d for d in found}


async def test_refused_credentials_hold_every_email_until_the_server_takes_them(sessions, sink):
    await sink.start()
    recipients = [f"kcr-{n}-{uuid4().hex[:8]}@lenreg.example.ru" for n in range(2)]
    await add(sessions, *(pending_delivery(r) for r in recipients))
    async with httpx.AsyncClient(base_url=sink.api_url) as client:
        chaos = {"Authentication": {"ErrorCode": 535, "Probability": 100}}
        (await client.put("/api/v1/chaos", json=chaos)).raise_for_status()
        sender = sender_for(sessions, sink, username="monitoring", password="wrong")

        await sender.send_due()
        held = await rows(sessions)

        (await client.put("/api/v1/chaos", json={})).raise_for_status()
        async with sessions() as session, session.begin():
            await session.exec(update(Delivery).values(due_at=datetime.now(UTC)))
        await sender.send_due()
        await close(sender)
    sent = await rows(sessions)
    received = {r: await Mailbox(sink.api_url).messages_to(r) for r in recipients}

    assert {d.status for d in held.values()} == {DeliveryStatus.pending.value}
    # The first meets the refusal; the rest wait as long, untried.
    tried, untried = sorted(held.values(), key=lambda d: -d.attempts)
    assert (tried.attempts, tried.last_smtp_code) == (1, 535)
    assert (untried.attempts, untried.last_smtp_code) == (0, None)
    assert untried.due_at == tried.due_at > tried.created_at
    assert {d.status for d in sent.values()} == {DeliveryStatus.sent.value}
    assert {len(messages) for messages in received.values()} == {1}


async def test_a_message_that_cannot_be_built_fails_alone(sessions, sink):
    await sink.start()
    broken, fine = (f"{name}-{uuid4().hex[:8]}@lenreg.example.ru" for name in ("broken", "fine"))
    await add(sessions, pending_delivery(broken, subject="Строка\r\nBcc: everyone@example.ru"))
    await add(sessions, pending_delivery(fine))
    sender = sender_for(sessions, sink)

    await sender.send_due()
    await close(sender)
    settled = await rows(sessions)
    mailbox = Mailbox(sink.api_url)

    assert settled[broken].status == DeliveryStatus.failed.value
    assert "cannot be built" in settled[broken].last_smtp_reply
    assert settled[fine].status == DeliveryStatus.sent.value
    assert len(await mailbox.messages_to(fine)) == 1
    assert await mailbox.messages_to(broken) == []
    assert await mailbox.messages_to("everyone@example.ru") == []


async def test_a_cyrillic_domain_is_delivered_and_an_unwritable_address_fails_alone(sessions, sink):
    await sink.start()
    cyrillic = f"kcr-{uuid4().hex[:8]}@минцифры.рф"
    unwritable, fine = f"почта-{uuid4().hex[:8]}@минцифры.рф", f"fine-{uuid4().hex[:8]}@lenreg.ru"
    await add(sessions, pending_delivery(unwritable))
    await add(sessions, pending_delivery(cyrillic), pending_delivery(fine))
    sender = sender_for(sessions, sink)

    await sender.send_due()
    await close(sender)
    settled = await rows(sessions)
    mailbox = Mailbox(sink.api_url)

    assert settled[unwritable].status == DeliveryStatus.failed.value
    assert "cannot be sent to" in settled[unwritable].last_smtp_reply
    assert settled[cyrillic].status == settled[fine].status == DeliveryStatus.sent.value
    assert len(await mailbox.messages_to(cyrillic)) == 1
    assert len(await mailbox.messages_to(fine)) == 1


async def test_a_message_larger_than_the_server_takes_fails_without_holding_the_others(
    sessions, sink
):
    await sink.start()
    recipients = [f"kcr-{n}-{uuid4().hex[:8]}@lenreg.example.ru" for n in range(2)]
    await add(sessions, *(pending_delivery(r) for r in recipients))
    async with httpx.AsyncClient(base_url=sink.api_url) as client:
        chaos = {"Sender": {"ErrorCode": 552, "Probability": 100}}
        (await client.put("/api/v1/chaos", json=chaos)).raise_for_status()
        sender = sender_for(sessions, sink)
        await sender.send_due()
        await close(sender)
    settled = await rows(sessions)

    assert {(d.status, d.attempts, d.last_smtp_code) for d in settled.values()} == {
        (DeliveryStatus.failed.value, 1, 552)
    }


class OneMessagePerConnection:
    """An SMTP server's handler that takes one message per connection and closes it at the next
    one (421), as servers limiting messages per connection, or restarting, do to a connection
    the sender keeps between batches."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self._used: set[tuple] = set()

    async def handle_MAIL(self, server, session, envelope, address, mail_options) -> str:
        if session.peer in self._used:
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.4.2 one message per connection"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self._used.add(session.peer)
        self.received.append(envelope.rcpt_tos[0])
        return "250 OK"


async def test_a_connection_the_server_dropped_is_replaced_without_deferring_anyone(sessions):
    server = OneMessagePerConnection()
    controller = Controller(server, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        recipients = [f"kcr-{n}-{uuid4().hex[:8]}@lenreg.example.ru" for n in range(3)]
        for recipient in recipients:
            await add(sessions, pending_delivery(recipient))
        sender = DeliverySender(
            sessions,
            smtp_settings("127.0.0.1", controller.port, timeout_seconds=5),
            SystemClock(),
            batch_size=20,
            poll_interval=3600,
            retry_base=60,
            retry_max=60,
            max_attempts=3,
            smtp_idle=3600,
        )
        await sender.send_due()
        await close(sender)
    finally:
        controller.stop()
    settled = await rows(sessions)

    assert sorted(server.received) == sorted(recipients)
    assert {(d.status, d.attempts) for d in settled.values()} == {(DeliveryStatus.sent.value, 1)}
