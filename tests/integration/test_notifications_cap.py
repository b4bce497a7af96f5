"""The hourly cap per recipient holds across transactions: the consumer, the reminders and other
replicas each count a recipient's emails of the last hour under a lock on that address."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from notifications.deliveries.models import Channel
from notifications.deliveries.service import cap_counts
from tests.integration.notifications_fixtures import pending_delivery

pytestmark = pytest.mark.integration

# Long enough for a count that does not wait for the lock to have come back.
UNBLOCKED_SECONDS = 0.5


async def test_a_second_transaction_counts_a_recipient_only_after_the_first_commits(
    notifications_sessions,
):
    address = f"kcr-{uuid4().hex[:8]}@lenreg.example.ru"
    other = f"kcr-{uuid4().hex[:8]}@lenreg.example.ru"
    now = datetime.now(UTC)
    async with notifications_sessions() as first, notifications_sessions() as second:
        await first.begin()
        before = await cap_counts(first, [address.upper()], now)
        first.add(pending_delivery(address))
        await first.flush()
        await second.begin()
        counting = asyncio.create_task(cap_counts(second, [other, address], now))
        await asyncio.sleep(UNBLOCKED_SECONDS)
        waited = not counting.done()
        await first.commit()
        after = await counting
        await second.rollback()

    assert before == {}
    assert waited, "the second count did not wait for the first transaction"
    assert after == {address: 1}


async def test_only_immediate_emails_of_the_last_hour_count(notifications_sessions):
    address = f"kcr-{uuid4().hex[:8]}@lenreg.example.ru"
    now = datetime.now(UTC)
    recent, old, digest = (pending_delivery(address) for _ in range(3))
    old.created_at = now - timedelta(hours=2)
    digest.channel = Channel.digest.value
    async with notifications_sessions() as session, session.begin():
        session.add_all([recent, old, digest])
    async with notifications_sessions() as session, session.begin():
        counts = await cap_counts(session, [address.title()], now)

    assert counts == {address: 1}
