"""Alert endpoints: lists with filters, one alert with its history, acknowledgement."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from common.authorization import role_required, scoped_region, scoped_sector
from common.pagination import Page, PageDep
from common.problems import Conflict, NotFound
from common.security import PrincipalDep, Role
from common.web import AnonymousRouter, UnitOfWorkDep
from notifications.alerts import service
from notifications.alerts.ack_links import AckGrant, ExpiredAckLink, InvalidAckLink
from notifications.alerts.models import Alert, AlertKind, AlertState
from notifications.alerts.pages import ack_page
from notifications.alerts.schemas import (
    ACK_COMMENT_MAX_LENGTH,
    AckRequest,
    AlertDetail,
    AlertEventPublic,
    AlertPublic,
)
from notifications.deliveries import service as deliveries
from notifications.deliveries.schemas import DeliveryPublic

router = APIRouter(prefix="/alerts", tags=["alerts"])
# The links mailed to recipients carry their own permission: no bearer token is asked for.
link_router = AnonymousRouter(prefix="/ack", tags=["alerts"])


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


_PAGE = {"text/html": {"schema": {"type": "string"}}}
_LINK_RESPONSES = {
    404: {
        "description": "The link was not issued by this service, or its alert is gone",
        "content": _PAGE,
    },
    410: {"description": "The link has expired", "content": _PAGE},
}


# The token in the address is the recipient's permission: the page is never cached (and, as
# every answer, sent with `Referrer-Policy: no-referrer` by the HTTP guards). Its inline styles
# and its form are all it may use.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
}


def _page(status_code: int, title: str, **parts) -> HTMLResponse:
    return HTMLResponse(ack_page(title, **parts), status_code=status_code, headers=_PAGE_HEADERS)


def _grant(request: Request, token: str) -> AckGrant | HTMLResponse:
    """What the link allows, or the page saying why it does not work."""
    try:
        return request.app.state.policy.links.ack_signer.grant(token)
    except ExpiredAckLink:
        return _page(
            410,
            "Срок действия ссылки истёк",
            message="Воспользуйтесь ссылкой из последнего письма-напоминания или "
            "подтвердите уведомление через API.",
        )
    except InvalidAckLink:
        return _page(
            404, "Ссылка недействительна", message="Проверьте, что она скопирована целиком."
        )


_UNKNOWN_ALERT = "Уведомление не найдено"


def _state_page(alert: Alert, status_code: int = 200) -> HTMLResponse:
    if alert.state == AlertState.open.value:
        return _page(status_code, "Принять уведомление в работу", alert=alert, form=True)
    title = (
        "Уведомление принято в работу"
        if alert.state == AlertState.acknowledged.value
        else "Уведомление закрыто"
    )
    return _page(status_code, title, alert=alert, message="Напоминания по нему не отправляются.")


@link_router.get(
    "/{token}",
    summary="The page an emailed acknowledgement link opens",
    response_class=HTMLResponse,
    responses=_LINK_RESPONSES,
)
async def acknowledgement_page(token: str, request: Request, uow: UnitOfWorkDep) -> HTMLResponse:
    """The alert and, while it is open, a form to take it up; opening it changes nothing."""
    grant = _grant(request, token)
    if isinstance(grant, HTMLResponse):
        return grant
    alert = await uow.session.get(Alert, grant.alert_id)
    return _state_page(alert) if alert else _page(404, _UNKNOWN_ALERT)


@link_router.post(
    "/{token}",
    summary="Acknowledge an alert through its emailed link",
    response_class=HTMLResponse,
    response_model=None,
    status_code=303,
    responses={
        **_LINK_RESPONSES,
        409: {
            "description": "The alert is not open (already acknowledged or resolved)",
            "content": _PAGE,
        },
        422: {"description": "The comment is too long", "content": _PAGE},
    },
)
async def acknowledge_by_link(
    token: str,
    request: Request,
    uow: UnitOfWorkDep,
    comment: Annotated[str, Form(description="What is being done")] = "",
) -> HTMLResponse | RedirectResponse:
    """Acknowledge as the link's recipient, then show the page again (post/redirect/get)."""
    grant = _grant(request, token)
    if isinstance(grant, HTMLResponse):
        return grant
    try:
        data = AckRequest(comment=comment.strip() or None)
    except ValidationError:
        return _page(
            422,
            "Принять уведомление в работу",
            alert=await uow.session.get(Alert, grant.alert_id),
            form=True,
            comment=comment,
            error=f"Комментарий длиннее {ACK_COMMENT_MAX_LENGTH} знаков.",
        )
    try:
        await service.acknowledge_by_link(uow.session, grant, data, request.app.state.clock.now())
    except NotFound:
        return _page(404, _UNKNOWN_ALERT)
    except Conflict:
        # The alert as locked and read by the attempt: acknowledged or resolved meanwhile.
        alert = await uow.session.get(Alert, grant.alert_id)
        return _state_page(alert, 409)
    await uow.commit()
    return RedirectResponse(request.url.path, status_code=303)
