"""Alert endpoints: lists with filters, one alert with its history, acknowledgement."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from common.authorization import role_required, scoped_region, scoped_sector
from common.pagination import Page, PageDep
from common.security import PrincipalDep, Role
from common.web import UnitOfWorkDep
from notifications.alerts import service
from notifications.alerts.models import AlertKind, AlertState
from notifications.alerts.schemas import AckRequest, AlertDetail, AlertEventPublic, AlertPublic
from notifications.deliveries import service as deliveries
from notifications.deliveries.schemas import DeliveryPublic

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", summary="List alerts")
async def list_alerts(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    region: Annotated[str | None, Query(examples=["leningrad-oblast"])] = None,
    sector: Annotated[int | None, Query(ge=1, le=10_000, description="Sector number")] = None,
    department_id: UUID | None = None,
    kind: AlertKind | None = None,
    state: AlertState | None = None,
) -> Page[AlertPublic]:
    """Alerts, most recently changed first; narrowed to the caller's region (and sectors)."""
    items, total = await service.list_page(
        uow.session,
        service.AlertFilter(
            scoped_region(principal, region),
            scoped_sector(principal, sector),
            department_id,
            kind,
            state,
        ),
        limit=page.limit,
        offset=page.offset,
    )
    return Page(
        items=[AlertPublic.model_validate(a) for a in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{alert_id}", summary="One alert with its deliveries and events")
async def get_alert(alert_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep) -> AlertDetail:
    """The alert, every email about it and every event behind it."""
    alert = await service.get(uow.session, alert_id, principal)
    return AlertDetail(
        **AlertPublic.model_validate(alert).model_dump(),
        deliveries=[
            DeliveryPublic.model_validate(d)
            for d in await deliveries.of_alert(uow.session, alert_id)
        ],
        events=[
            AlertEventPublic.model_validate(e)
            for e in await service.events_of(uow.session, alert_id)
        ],
    )


@router.post(
    "/{alert_id}/ack",
    summary="Acknowledge an alert",
    responses={
        403: {"description": "A department acknowledging another department's alert"},
        404: {"description": "Unknown alert, or outside the caller's region"},
        409: {"description": "The alert is not open (already acknowledged or resolved)"},
    },
    dependencies=[role_required(Role.coordinator, Role.department)],
)
async def acknowledge_alert(
    alert_id: UUID,
    data: AckRequest,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    request: Request,
) -> AlertPublic:
    """Someone has taken the alert up: reminders stop; the resolution notice will still come.

    Coordinators acknowledge alerts of their region (and sectors), departments the alerts they
    are responsible for, admins any.
    """
    alert = await service.acknowledge(
        uow.session, alert_id, data, principal, request.app.state.clock.now()
    )
    await uow.commit()
    return AlertPublic.model_validate(alert)
