"""Delivery endpoints: what was sent, what is pending, what failed and why."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from common.authorization import ADMIN_ONLY
from common.pagination import Page, PageDep
from common.web import UnitOfWorkDep
from notifications.deliveries import service
from notifications.deliveries.models import DeliveryStatus, NotificationKind
from notifications.deliveries.schemas import DeliveryPublic

router = APIRouter(prefix="/deliveries", tags=["deliveries"])


@router.get("", summary="List deliveries", dependencies=[ADMIN_ONLY])
async def list_deliveries(
    uow: UnitOfWorkDep,
    page: PageDep,
    status: DeliveryStatus | None = None,
    alert_id: UUID | None = None,
    recipient: Annotated[str | None, Query(examples=["kcr@lenreg.ru"])] = None,
    kind: NotificationKind | None = None,
) -> Page[DeliveryPublic]:
    """Deliveries, newest first; `status=failed` shows what the mail server refused.

    The mail log names recipients and carries whole emails: admins only.
    """
    items, total = await service.list_page(
        uow.session,
        status=status,
        alert_id=alert_id,
        recipient=recipient,
        kind=kind,
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        items=[DeliveryPublic.model_validate(d) for d in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{delivery_id}", summary="One delivery", dependencies=[ADMIN_ONLY])
async def get_delivery(delivery_id: UUID, uow: UnitOfWorkDep) -> DeliveryPublic:
    """A delivery by id (admins only)."""
    return DeliveryPublic.model_validate(await service.get(uow.session, delivery_id))
