"""Composing digests: who gets one, what it says, and building the day's digests."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

from sqlalchemy import and_, func, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from common.logging import get_logger
from notifications.alerts.models import FAMILY, Alert, AlertKind, AlertState
from notifications.alerts.service import periods_closing_year
from notifications.deliveries.email import (
    DigestContent,
    DigestLine,
    DigestSector,
    RenderedEmail,
    facts_phrase,
    format_gap,
    headline,
    message_id_for,
    render_digest,
)
from notifications.deliveries.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    NotificationKind,
    RecipientType,
)
from notifications.directory.service import region_name
from notifications.policy import Policy
from notifications.subscriptions.service import digest_subscribers

log = get_logger(__name__)
# Serialises digest building across replicas.
DIGEST_LOCK_ID = 0x64696765


@dataclass
class DigestTarget:
    """One recipient's digest for one region: their subscription scope and deferred emails."""

    recipient: str
    region: str
    recipient_type: RecipientType
    coordinator_id: UUID | None = None
    department_id: UUID | None = None
    kinds: list[str] | None = None  # None: not on the digest, only deferred emails
    sector_numbers: list[int] = field(default_factory=list)
    deferred: list[Delivery] = field(default_factory=list)


@dataclass(frozen=True)
class DigestWindow:
    """The digest of `day` covers [start, end)."""

    day: date
    start: datetime
    end: datetime


def digest_moment(day: date, at: time) -> datetime:
    """When the digest of a day goes out."""
    return datetime.combine(day, at, tzinfo=UTC)


def due_window(now: datetime, at: time) -> DigestWindow | None:
    """Today's window once its digest time has come, else None."""
    moment = digest_moment(now.astimezone(UTC).date(), at)
    if now < moment:
        return None
    return DigestWindow(moment.date(), moment - timedelta(days=1), moment)


def upcoming_window(now: datetime, at: time) -> DigestWindow:
    """The next digest to go out (what it would say if nothing else happened before it)."""
    today = now.astimezone(UTC).date()
    day = today if now < digest_moment(today, at) else today + timedelta(days=1)
    moment = digest_moment(day, at)
    return DigestWindow(day, moment - timedelta(days=1), moment)


def line_status(alert: Alert, window: DigestWindow) -> str:
    """new (opened in the window), resolved (resolved in it) or open (still open from before)."""
    if alert.state == AlertState.resolved.value:
        return "resolved"
    return "new" if alert.opened_at >= window.start else "open"


def _worst_first(alert: Alert) -> tuple:
    # Most negative gap first; alerts without a gap (reports, milestones) after them.
    return (alert.gap_percent is None, alert.gap_percent or 0, alert.opened_at)


def one_per_problem(alerts: list[Alert]) -> list[Alert]:
    """The alerts less each missed target whose year-end behind/at-risk alert is among them.

    A year-end value below target is one problem told once (the missed target's alert is kept
    but told to nobody); the digest says it once too.
    """
    year_end_status = {
        (alert.subject_id, alert.period)
        for alert in alerts
        if alert.family == FAMILY[AlertKind.behind]
    }
    return [
        alert
        for alert in alerts
        if alert.kind != AlertKind.target_missed.value
        or not any(
            (alert.subject_id, period) in year_end_status
            for period in periods_closing_year(alert.period)
        )
    ]


def arrange(alerts: list[Alert], window: DigestWindow, region: str, name: str) -> DigestContent:
    """Group alerts by sector (in sector order), worst gap first within each; one line for
    one problem."""
    by_sector: dict[int | None, list[Alert]] = defaultdict(list)
    for alert in one_per_problem(alerts):
        by_sector[alert.sector_number].append(alert)
    sectors = []
    counts = {"new": 0, "open": 0, "resolved": 0}
    for number in sorted(by_sector, key=lambda n: (n is None, n or 0)):
        members = sorted(by_sector[number], key=_worst_first)
        sector = DigestSector(
            number=number,
            name=next((a.sector_name for a in members if a.sector_name), None)
            or ("Без направления" if number is None else f"Направление {number}"),
        )
        for alert in members:
            status = line_status(alert, window)
            counts[status] += 1
            notice = "resolved" if status == "resolved" and alert.family != "news" else "opened"
            sector.lines.append(
                DigestLine(
                    alert=alert,
                    status=status,
                    headline=headline(alert, NotificationKind(notice)),
                    facts=facts_phrase(alert, AlertKind(alert.kind)),
                    gap=format_gap(alert),
                )
            )
        sectors.append(sector)
    return DigestContent(
        region=region,
        region_name=name,
        day=window.day,
        sectors=sectors,
        new=counts["new"],
        still_open=counts["open"],
        resolved=counts["resolved"],
    )


async def alerts_for(
    session: AsyncSession, target: DigestTarget, window: DigestWindow
) -> list[Alert]:
    """The target's alerts: in its subscription scope or carried by its deferred emails."""
    conditions = []
    if target.kinds is not None:
        in_scope = [
            Alert.region == target.region,
            or_(Alert.kind.in_(target.kinds), Alert.resolved_by.in_(target.kinds)),
            Alert.opened_at < window.end,
            or_(
                Alert.state != AlertState.resolved.value,
                and_(Alert.resolved_at >= window.start, Alert.resolved_at < window.end),
            ),
        ]
        if target.sector_numbers:
            in_scope.append(Alert.sector_number.in_(target.sector_numbers))
        conditions.append(and_(*in_scope))
    deferred_ids = {d.alert_id for d in target.deferred if d.alert_id}
    if deferred_ids:
        conditions.append(Alert.id.in_(deferred_ids))
    if not conditions:
        return []
    rows = await session.exec(select(Alert).where(or_(*conditions)))
    return list(rows.scalars().all())


async def targets(
    session: AsyncSession, *, region: str | None = None, lock_deferred: bool = False
) -> list[DigestTarget]:
    """Everyone with a digest due: coordinators on the digest and holders of deferred emails."""
    found: dict[tuple[str, str], DigestTarget] = {}
    for coordinator, kinds in await digest_subscribers(session):
        if region and coordinator.region != region:
            continue
        found[(coordinator.email.lower(), coordinator.region)] = DigestTarget(
            recipient=coordinator.email,
            region=coordinator.region,
            recipient_type=RecipientType.coordinator,
            coordinator_id=coordinator.id,
            kinds=kinds,
            sector_numbers=list(coordinator.sector_numbers),
        )
    query = select(Delivery).where(
        Delivery.status == DeliveryStatus.pending.value, Delivery.channel == Channel.digest.value
    )
    if region:
        query = query.where(Delivery.region == region)
    if lock_deferred:
        query = query.with_for_update(skip_locked=True)
    for item in (await session.exec(query.order_by(Delivery.created_at))).scalars().all():
        key = (item.recipient.lower(), item.region)
        target = found.setdefault(
            key,
            DigestTarget(
                recipient=item.recipient,
                region=item.region,
                recipient_type=RecipientType(item.recipient_type),
                coordinator_id=item.coordinator_id,
                department_id=item.department_id,
            ),
        )
        target.deferred.append(item)
    return list(found.values())


async def compose(
    session: AsyncSession, target: DigestTarget, window: DigestWindow, policy: Policy
) -> tuple[DigestContent, RenderedEmail] | None:
    """The digest of one target, or None when there is nothing to say."""
    alerts = await alerts_for(session, target, window)
    if not alerts:
        return None
    name = await region_name(session, target.region) or alerts[0].region_name
    content = arrange(alerts, window, target.region, name)
    return content, render_digest(content, links=policy.links, recipient=target.recipient)


def dedup_key(target: DigestTarget, day: date) -> str:
    """One digest per recipient, region and day."""
    return f"digest:{target.recipient.lower()}:{target.region}:{day.isoformat()}"


async def build_due(session: AsyncSession, policy: Policy, at: time) -> int:
    """Write today's digest deliveries once the digest time has come; returns how many."""
    window = due_window(policy.clock.now(), at)
    if window is None:
        return 0
    if not await session.scalar(select(func.pg_try_advisory_xact_lock(DIGEST_LOCK_ID))):
        return 0
    built = 0
    for target in await targets(session, lock_deferred=True):
        key = dedup_key(target, window.day)
        if await session.scalar(select(Delivery.id).where(Delivery.dedup_key == key)):
            continue  # already built today; deferred emails wait for tomorrow's
        composed = await compose(session, target, window, policy)
        if composed is None:
            continue
        content, email = composed
        now = policy.clock.now()
        digest_id = uuid4()
        session.add(
            Delivery(
                id=digest_id,
                kind=NotificationKind.digest.value,
                channel=Channel.immediate.value,
                status=DeliveryStatus.pending.value,
                recipient=target.recipient,
                recipient_type=target.recipient_type.value,
                department_id=target.department_id,
                coordinator_id=target.coordinator_id,
                region=target.region,
                subject=email.subject,
                body_text=email.text,
                body_html=email.html,
                message_id=message_id_for(digest_id, policy.sender),
                digest_date=content.day,
                dedup_key=key,
                created_at=now,
                due_at=now,
            )
        )
        await session.flush()
        if target.deferred:
            await session.exec(
                update(Delivery)
                .where(Delivery.id.in_([d.id for d in target.deferred]))
                .values(status=DeliveryStatus.digested.value, digest_id=digest_id)
            )
        built += 1
        log.info(
            "digest queued",
            recipient=target.recipient,
            region=target.region,
            day=content.day.isoformat(),
            deferred=len(target.deferred),
        )
    return built


async def preview(
    session: AsyncSession,
    policy: Policy,
    at: time,
    *,
    region: str,
    recipient: str | None,
) -> list[tuple[DigestTarget, DigestWindow, DigestContent, RenderedEmail]]:
    """What the next digests of a region would say if they were built now."""
    window = upcoming_window(policy.clock.now(), at)
    previews = []
    for target in await targets(session, region=region):
        if recipient and target.recipient.lower() != recipient.lower():
            continue
        composed = await compose(session, target, window, policy)
        if composed is not None:
            previews.append((target, window, *composed))
    return previews
