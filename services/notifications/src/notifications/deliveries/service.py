"""Turning a decided notification into delivery rows, and reading them back."""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import ARRAY, Text, any_, bindparam, func, select, text, update
from sqlmodel.ext.asyncio.session import AsyncSession

from common.logging import get_logger
from common.problems import NotFound
from notifications.alerts.models import Alert
from notifications.deliveries.email import (
    RenderedEmail,
    TrendPoint,
    format_number,
    message_id_for,
    render_alert,
)
from notifications.deliveries.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    NotificationKind,
    RecipientType,
)
from notifications.directory.service import recent_values
from notifications.paging import fetch_page
from notifications.policy import Policy
from notifications.subscriptions.service import Recipient

log = get_logger(__name__)
CAP_WINDOW = timedelta(hours=1)
# The first key of the advisory locks that make the hourly cap's count-then-insert one step per
# recipient across transactions (the consumer, the reminders, other replicas); the second is
# the address's hash.
CAP_LOCK_NAMESPACE = 0x636170


def channel_for(sent_in_last_hour: int, hourly_cap: int) -> Channel:
    """Immediate while the recipient is under the hourly cap; the excess waits for the digest."""
    return Channel.immediate if sent_in_last_hour < hourly_cap else Channel.digest


async def email_writer(
    session: AsyncSession, alert: Alert, notification: NotificationKind, policy: Policy
) -> Callable[[str], RenderedEmail]:
    """Writes the email about an alert to a recipient (each has links of their own), with the
    indicator's recent values when it has any."""
    trend: list[TrendPoint] = []
    if alert.subject_type == "indicator":
        trend = [
            TrendPoint(v.period, format_number(v.value, alert.unit))
            for v in await recent_values(session, alert.subject_id)
        ]

    def write(recipient: str) -> RenderedEmail:
        return render_alert(
            alert, notification, trend=trend, links=policy.links, recipient=recipient
        )

    return write


async def notify(
    session: AsyncSession,
    alert: Alert,
    notification: NotificationKind,
    recipients: Sequence[Recipient],
    policy: Policy,
    *,
    due_at: datetime | None = None,
    shown: Alert | None = None,
) -> list[Delivery]:
    """Write one pending delivery per recipient in the caller's transaction; the email
    presents `shown` (the alert itself unless given)."""
    if not recipients:
        log.warning("alert has nobody to notify", alert_id=str(alert.id), kind=notification.value)
        return []
    now = policy.clock.now()
    write = await email_writer(session, shown or alert, notification, policy)
    sent_in_last_hour = await cap_counts(session, [r.address for r in recipients], now)
    # An opening is told only of an alert opened in this transaction: there is no earlier email
    # about it to thread to.
    threaded = notification != NotificationKind.opened
    created = []
    for recipient in recipients:
        address = recipient.address.lower()
        delivery_id = uuid4()
        email = write(recipient.address)
        delivery = Delivery(
            id=delivery_id,
            alert_id=alert.id,
            kind=notification.value,
            channel=channel_for(sent_in_last_hour.get(address, 0), policy.hourly_cap).value,
            status=DeliveryStatus.pending.value,
            recipient=recipient.address,
            recipient_type=recipient.type.value,
            department_id=recipient.department_id,
            coordinator_id=recipient.coordinator_id,
            region=alert.region,
            subject=email.subject,
            body_text=email.text,
            body_html=email.html,
            message_id=message_id_for(delivery_id, policy.sender),
            thread_message_id=(
                await thread_of(session, alert.id, recipient.address) if threaded else None
            ),
            created_at=now,
            due_at=due_at or now,
        )
        session.add(delivery)
        created.append(delivery)
        if delivery.channel == Channel.immediate.value:
            sent_in_last_hour[address] = sent_in_last_hour.get(address, 0) + 1
        if delivery.channel == Channel.digest.value:
            log.info("hourly cap reached, deferred to digest", recipient=recipient.address)
    await session.flush()
    log.info(
        "notification queued",
        alert_id=str(alert.id),
        kind=notification.value,
        recipients=len(created),
    )
    return created


# Built once: composing these from the model for every notification cost more than running them.
# A notification locks its addresses in a fixed order; a transaction that notifies several times
# can still meet another in a deadlock, which PostgreSQL breaks and the consumer retries.
_CAP_LOCKS = text(
    "SELECT pg_advisory_xact_lock(:namespace, hash) FROM"
    " (SELECT DISTINCT hashtext(address) AS hash FROM unnest(:addresses) AS address"
    " ORDER BY hash) AS ordered"
).bindparams(bindparam("addresses", type_=ARRAY(Text)))
_RECIPIENT = func.lower(Delivery.recipient)
_CAP_COUNTS = (
    select(_RECIPIENT, func.count())
    .where(
        _RECIPIENT == any_(bindparam("addresses", type_=ARRAY(Text))),
        Delivery.channel == Channel.immediate.value,
        Delivery.kind != NotificationKind.digest.value,
        Delivery.status != DeliveryStatus.cancelled.value,
        Delivery.created_at > bindparam("since"),
    )
    .group_by(_RECIPIENT)
)


async def cap_counts(
    session: AsyncSession, addresses: Sequence[str], now: datetime
) -> dict[str, int]:
    """Immediate emails of the last hour per (lowercased) address, counted under a lock on each
    address held until commit, so that two transactions cannot both take the last place."""
    lowered = sorted({address.lower() for address in addresses})
    await session.exec(_CAP_LOCKS, params={"namespace": CAP_LOCK_NAMESPACE, "addresses": lowered})
    counted = await session.exec(
        _CAP_COUNTS, params={"addresses": lowered, "since": now - CAP_WINDOW}
    )
    return {address: count for address, count in counted.all()}


async def thread_of(session: AsyncSession, alert_id: UUID, address: str) -> str | None:
    """The Message-ID of the first email about an alert to an address, which later ones cite."""
    return await session.scalar(
        select(Delivery.message_id)
        .where(
            Delivery.alert_id == alert_id,
            func.lower(Delivery.recipient) == address.lower(),
            Delivery.status != DeliveryStatus.cancelled.value,
        )
        .order_by(Delivery.created_at, Delivery.id)
        .limit(1)
    )


async def recipients_of(session: AsyncSession, alert_id: UUID) -> list[Recipient]:
    """Everyone told about an alert so far, in the order they were first told."""
    rows = await session.exec(
        select(Delivery)
        .where(
            Delivery.alert_id == alert_id,
            Delivery.status != DeliveryStatus.cancelled.value,
            Delivery.kind.in_(
                [
                    NotificationKind.opened.value,
                    NotificationKind.escalated.value,
                    NotificationKind.reminder.value,
                ]
            ),
        )
        .order_by(Delivery.created_at, Delivery.id)
    )
    seen: dict[str, Recipient] = {}
    for d in rows.scalars().all():
        seen.setdefault(
            d.recipient.lower(),
            Recipient(
                d.recipient, RecipientType(d.recipient_type), d.department_id, d.coordinator_id
            ),
        )
    return list(seen.values())


async def withdraw_resolution(session: AsyncSession, alert_id: UUID) -> bool:
    """Cancel a held resolution notice; False when one was already sent (too late to withdraw)."""
    sent = await session.scalar(
        select(func.count()).where(
            Delivery.alert_id == alert_id,
            Delivery.kind == NotificationKind.resolved.value,
            Delivery.status.in_([DeliveryStatus.sent.value, DeliveryStatus.digested.value]),
        )
    )
    if sent:
        return False
    await session.exec(
        update(Delivery)
        .where(
            Delivery.alert_id == alert_id,
            Delivery.kind == NotificationKind.resolved.value,
            Delivery.status == DeliveryStatus.pending.value,
        )
        .values(status=DeliveryStatus.cancelled.value)
    )
    return True


async def list_page(
    session: AsyncSession,
    *,
    status: DeliveryStatus | None,
    alert_id: UUID | None,
    recipient: str | None,
    kind: NotificationKind | None,
    limit: int,
    offset: int,
) -> tuple[list[Delivery], int]:
    """A page of deliveries, newest first."""
    query = select(Delivery)
    if status is not None:
        query = query.where(Delivery.status == status.value)
    if alert_id is not None:
        query = query.where(Delivery.alert_id == alert_id)
    if recipient:
        query = query.where(func.lower(Delivery.recipient) == recipient.lower())
    if kind is not None:
        query = query.where(Delivery.kind == kind.value)
    rows, total = await fetch_page(
        session, query, Delivery.created_at.desc(), Delivery.id, limit=limit, offset=offset
    )
    return list(rows.scalars().all()), total


async def get(session: AsyncSession, delivery_id: UUID) -> Delivery:
    """One delivery."""
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"Delivery {delivery_id} does not exist")
    return delivery


async def of_alert(session: AsyncSession, alert_id: UUID) -> list[Delivery]:
    """Every delivery about an alert, oldest first."""
    rows = await session.exec(
        select(Delivery)
        .where(Delivery.alert_id == alert_id)
        .order_by(Delivery.created_at, Delivery.id)
    )
    return list(rows.scalars().all())
