"""Subscriptions and routing: who hears about an alert, and how."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.authorization import ensure_visible, region_scope
from common.problems import Conflict, Forbidden, NotFound, Unprocessable
from common.security import Principal
from notifications.alerts.models import Alert, AlertKind
from notifications.deliveries.models import RecipientType
from notifications.directory.models import Coordinator, Department
from notifications.directory.service import coordinators_in_scope, read_model
from notifications.paging import fetch_page
from notifications.subscriptions.models import DeliveryMode, Subscription
from notifications.subscriptions.schemas import (
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
)

ALL_KINDS = [kind.value for kind in AlertKind]


@dataclass(frozen=True)
class Recipient:
    """One address an email goes to, and on whose behalf."""

    address: str
    type: RecipientType
    department_id: UUID | None = None
    coordinator_id: UUID | None = None


def select_recipients(
    department: Department | None,
    coordinators: Iterable[tuple[Coordinator, Sequence[str]]],
    kind: AlertKind,
) -> list[Recipient]:
    """The department's addresses always, then coordinators whose immediate kinds include `kind`.

    Each address appears once, so a coordinator who is also a department address gets one email.
    """
    recipients: list[Recipient] = []
    seen: set[str] = set()

    def add(recipient: Recipient) -> None:
        key = recipient.address.strip().lower()
        if key and key not in seen:
            seen.add(key)
            recipients.append(recipient)

    if department is not None and department.active:
        for address in department.emails:
            add(Recipient(address.strip(), RecipientType.department, department_id=department.id))
    for coordinator, kinds in coordinators:
        if coordinator.active and kind.value in kinds:
            add(
                Recipient(
                    coordinator.email.strip(),
                    RecipientType.coordinator,
                    coordinator_id=coordinator.id,
                )
            )
    return recipients


async def route(session: AsyncSession, alert: Alert, kind: AlertKind) -> list[Recipient]:
    """Who gets an immediate email about this alert now."""
    department = (
        await read_model(session, Department, alert.department_id) if alert.department_id else None
    )
    coordinators = await coordinators_in_scope(session, alert.region, alert.sector_number)
    kinds = await _kinds_by_coordinator(
        session, [c.id for c in coordinators], DeliveryMode.immediate
    )
    return select_recipients(department, [(c, kinds.get(c.id, [])) for c in coordinators], kind)


async def _kinds_by_coordinator(
    session: AsyncSession, coordinator_ids: list[UUID], mode: DeliveryMode
) -> dict[UUID, list[str]]:
    if not coordinator_ids:
        return {}
    rows = await session.exec(
        select(Subscription).where(
            Subscription.coordinator_id.in_(coordinator_ids), Subscription.mode == mode.value
        )
    )
    return {s.coordinator_id: list(s.kinds) for s in rows.scalars().all()}


async def ensure_default(session: AsyncSession, coordinator_id: UUID, now: datetime) -> None:
    """A new coordinator hears about every kind immediately until they choose otherwise."""
    existing = await session.scalar(
        select(func.count()).where(Subscription.coordinator_id == coordinator_id)
    )
    if not existing:
        session.add(
            Subscription(
                coordinator_id=coordinator_id,
                mode=DeliveryMode.immediate.value,
                kinds=ALL_KINDS,
                created_at=now,
                updated_at=now,
            )
        )


async def digest_subscribers(session: AsyncSession) -> list[tuple[Coordinator, list[str]]]:
    """Active coordinators on the daily digest with the kinds they chose."""
    rows = await session.exec(
        select(Coordinator, Subscription)
        .join(Subscription, Subscription.coordinator_id == Coordinator.id)
        .where(Subscription.mode == DeliveryMode.digest.value, Coordinator.active.is_(True))
        .order_by(Coordinator.region, Coordinator.email)
    )
    return [(coordinator, list(sub.kinds)) for coordinator, sub in rows.all()]


def _public(subscription: Subscription, coordinator: Coordinator) -> SubscriptionPublic:
    return SubscriptionPublic(
        id=subscription.id,
        coordinator_id=subscription.coordinator_id,
        coordinator_email=coordinator.email,
        region=coordinator.region,
        sector_numbers=coordinator.sector_numbers,
        mode=DeliveryMode(subscription.mode),
        kinds=[AlertKind(k) for k in subscription.kinds],
        created_at=subscription.created_at,
        updated_at=subscription.updated_at,
    )


async def _mode_taken(
    session: AsyncSession, coordinator_id: UUID, mode: DeliveryMode, except_id: UUID | None = None
) -> bool:
    query = select(Subscription.id).where(
        Subscription.coordinator_id == coordinator_id, Subscription.mode == mode.value
    )
    if except_id is not None:
        query = query.where(Subscription.id != except_id)
    return (await session.scalar(query)) is not None


def scoped_coordinator(principal: Principal, requested: UUID | None) -> UUID | None:
    """The coordinator a request is about: a linked coordinator's own, or 403 for another one.

    Only a coordinator whose token names its coordinator record is narrowed; admins and a
    shared desk (a coordinator login without the link) get what they asked for.
    """
    own = principal.coordinator_id
    if own is None:
        return requested
    if requested is not None and requested != own:
        raise Forbidden(
            f"you act for coordinator {own} only, not {requested}", field="coordinator_id"
        )
    return own


async def create(
    session: AsyncSession, data: SubscriptionCreate, now: datetime, principal: Principal
) -> SubscriptionPublic:
    """Add a subscription for a known coordinator; one per coordinator and mode.

    A linked coordinator subscribes itself; a coordinator outside the principal's region is
    answered as unknown.
    """
    coordinator_id = scoped_coordinator(principal, data.coordinator_id)
    if coordinator_id is None:
        raise Unprocessable(
            "coordinator_id: required unless your login is a coordinator's own",
            errors=[{"field": "coordinator_id", "message": "required"}],
        )
    coordinator = await session.get(Coordinator, coordinator_id)
    if coordinator is None or not region_scope(principal).covers(coordinator.region):
        raise Unprocessable(
            "Unknown coordinator",
            errors=[{"field": "coordinator_id", "message": "no coordinator with this id"}],
        )
    if await _mode_taken(session, coordinator_id, data.mode):
        raise Conflict(
            f"The coordinator already has a {data.mode.value} subscription; change it instead",
            errors=[{"field": "mode", "message": "already subscribed in this mode"}],
        )
    subscription = Subscription(
        coordinator_id=coordinator_id,
        mode=data.mode.value,
        kinds=[k.value for k in data.kinds],
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    return _public(subscription, coordinator)


async def _load(
    session: AsyncSession, subscription_id: UUID, principal: Principal
) -> tuple[Subscription, Coordinator]:
    row = (
        await session.exec(
            select(Subscription, Coordinator)
            .join(Coordinator, Coordinator.id == Subscription.coordinator_id)
            .where(Subscription.id == subscription_id)
        )
    ).first()
    if row is None:
        raise NotFound(f"Subscription {subscription_id} does not exist")
    ensure_visible(principal, row[1].region, what=f"Subscription {subscription_id}")
    # Another coordinator's subscription is out of a linked coordinator's scope, like another
    # region's: answered as absent.
    if principal.coordinator_id not in (None, row[0].coordinator_id):
        raise NotFound(f"Subscription {subscription_id} does not exist")
    return row[0], row[1]


async def get(
    session: AsyncSession, subscription_id: UUID, principal: Principal
) -> SubscriptionPublic:
    """One subscription of a coordinator in the principal's scope."""
    return _public(*await _load(session, subscription_id, principal))


async def update(
    session: AsyncSession,
    subscription_id: UUID,
    data: SubscriptionUpdate,
    now: datetime,
    principal: Principal,
) -> SubscriptionPublic:
    """Change the mode or the kinds of a subscription."""
    subscription, coordinator = await _load(session, subscription_id, principal)
    if data.mode is not None and data.mode.value != subscription.mode:
        if await _mode_taken(session, subscription.coordinator_id, data.mode, subscription.id):
            raise Conflict(
                f"The coordinator already has a {data.mode.value} subscription",
                errors=[{"field": "mode", "message": "already subscribed in this mode"}],
            )
        subscription.mode = data.mode.value
    if data.kinds is not None:
        subscription.kinds = [k.value for k in data.kinds]
    subscription.updated_at = now
    session.add(subscription)
    await session.flush()
    return _public(subscription, coordinator)


async def delete(session: AsyncSession, subscription_id: UUID, principal: Principal) -> None:
    """Remove a subscription."""
    subscription, _ = await _load(session, subscription_id, principal)
    await session.delete(subscription)


async def list_page(
    session: AsyncSession,
    *,
    coordinator_id: UUID | None,
    region: str | None,
    mode: DeliveryMode | None,
    limit: int,
    offset: int,
) -> tuple[list[SubscriptionPublic], int]:
    """A page of subscriptions, by region and coordinator address."""
    query = select(Subscription, Coordinator).join(
        Coordinator, Coordinator.id == Subscription.coordinator_id
    )
    if coordinator_id is not None:
        query = query.where(Subscription.coordinator_id == coordinator_id)
    if region:
        query = query.where(Coordinator.region == region)
    if mode is not None:
        query = query.where(Subscription.mode == mode.value)
    rows, total = await fetch_page(
        session,
        query,
        Coordinator.region,
        Coordinator.email,
        Subscription.mode,
        limit=limit,
        offset=offset,
    )
    return [_public(s, c) for s, c in rows.all()], total
