"""Subscription CRUD."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from common.authorization import role_required, scoped_region
from common.pagination import Page, PageDep
from common.security import PrincipalDep, Role
from common.web import UnitOfWorkDep
from notifications.subscriptions import service
from notifications.subscriptions.models import DeliveryMode
from notifications.subscriptions.schemas import (
    SubscriptionCreate,
    SubscriptionPublic,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/subscriptions", tags=["subscriptions"])


SCOPE = (
    " A coordinator whose token carries a `coordinator_id` claim (its login is that coordinator "
    "record) sees and manages only that coordinator's subscriptions: another coordinator's are "
    "answered 404 as absent. A coordinator login without the claim is a shared desk acting for "
    "every coordinator of its region; admins act everywhere."
)
OWN_ONLY = {403: {"description": "A coordinator's own login named another coordinator"}}


@router.get(
    "",
    summary="List subscriptions",
    description="Subscriptions by region, coordinator address and mode." + SCOPE,
    responses=OWN_ONLY,
    dependencies=[role_required(Role.coordinator)],
)
async def list_subscriptions(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    coordinator_id: Annotated[
        UUID | None,
        Query(description="Only this coordinator's; a coordinator's own login: itself or 403"),
    ] = None,
    region: Annotated[str | None, Query(examples=["leningrad-oblast"])] = None,
    mode: DeliveryMode | None = None,
) -> Page[SubscriptionPublic]:
    """Subscriptions, filtered by coordinator, region or mode (a coordinator: its own scope)."""
    items, total = await service.list_page(
        uow.session,
        coordinator_id=service.scoped_coordinator(principal, coordinator_id),
        region=scoped_region(principal, region),
        mode=mode,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a coordinator",
    description=(
        "Choose which alert kinds a coordinator receives, immediately or in the daily digest."
        + SCOPE
    ),
    responses={
        **OWN_ONLY,
        409: {"description": "The coordinator already has a subscription in this mode"},
    },
    dependencies=[role_required(Role.coordinator)],
)
async def create_subscription(
    data: SubscriptionCreate, uow: UnitOfWorkDep, principal: PrincipalDep, request: Request
) -> SubscriptionPublic:
    """Choose which alert kinds a coordinator receives, immediately or in the daily digest."""
    created = await service.create(uow.session, data, request.app.state.clock.now(), principal)
    uow.audit_object(created.id)
    await uow.commit()
    return created


@router.get(
    "/{subscription_id}",
    summary="One subscription",
    description=SCOPE.strip(),
    dependencies=[role_required(Role.coordinator)],
)
async def get_subscription(
    subscription_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> SubscriptionPublic:
    """A subscription by id."""
    return await service.get(uow.session, subscription_id, principal)


@router.patch(
    "/{subscription_id}",
    summary="Change a subscription",
    description=SCOPE.strip(),
    dependencies=[role_required(Role.coordinator)],
)
async def update_subscription(
    subscription_id: UUID,
    data: SubscriptionUpdate,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    request: Request,
) -> SubscriptionPublic:
    """Change the kinds or the mode."""
    updated = await service.update(
        uow.session, subscription_id, data, request.app.state.clock.now(), principal
    )
    await uow.commit()
    return updated


@router.delete(
    "/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe",
    description=SCOPE.strip(),
    dependencies=[role_required(Role.coordinator)],
)
async def delete_subscription(
    subscription_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> Response:
    """Remove a subscription; the coordinator then hears nothing in that mode."""
    await service.delete(uow.session, subscription_id, principal)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
