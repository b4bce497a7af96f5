"""HTTP API of indicators: upsert by natural key, CRUD, filters, summary, the behind list."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.exc import IntegrityError

from common.authorization import ADMIN_ONLY, scoped_region, scoped_sector
from common.pagination import Page, PageDep
from common.problems import Conflict
from common.security import PrincipalDep
from common.web import UnitOfWorkDep
from indicators.catalogue import service
from indicators.catalogue.schemas import (
    GroupBy,
    IndicatorCreate,
    IndicatorPublic,
    IndicatorUpdate,
    StatusFilter,
    Summary,
)

router = APIRouter(tags=["indicators"])


@router.post(
    "/indicators",
    response_model=IndicatorPublic,
    status_code=201,
    summary="Create an indicator, or bring the one with the same project and name up to date",
    responses={
        200: {"description": "It existed; it now matches the body (an event only if it changed)"},
        409: {"description": "A concurrent request created it first; retry"},
        422: {"description": "Invalid definition, or region missing for an unknown project"},
    },
    dependencies=[ADMIN_ONLY],
)
async def upsert_indicator(
    body: IndicatorCreate, request: Request, response: Response, uow: UnitOfWorkDep
) -> IndicatorPublic:
    """Idempotent by (project_id, name): loading the same definition twice changes nothing."""
    state = request.app.state
    try:
        indicator, created = await service.upsert_indicator(
            uow, body, state.clock.now(), state.settings.report_deadline_days
        )
        uow.audit_object(indicator.id)
        await uow.commit()
    except IntegrityError as exc:
        raise Conflict("the indicator was created concurrently; retry", field="name") from exc
    response.status_code = 201 if created else 200
    return indicator


@router.get("/indicators", summary="Indicators, filtered")
async def list_indicators(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    region: str | None = None,
    project_id: UUID | None = None,
    department_id: UUID | None = None,
    sector: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    status: StatusFilter | None = None,
) -> Page[IndicatorPublic]:
    """Every filter given must hold; status `no_data` means nothing evaluated yet.

    Coordinators and departments see their region only (coordinators with sectors, those).
    """
    return await service.list_indicators(
        uow.session,
        page,
        region=scoped_region(principal, region),
        project_id=project_id,
        department_id=department_id,
        sectors=scoped_sector(principal, sector),
        status=status,
    )


@router.get(
    "/indicators/{indicator_id}",
    summary="An indicator with its targets and current status",
    responses={404: {"description": "Unknown or archived indicator"}},
)
async def read_indicator(
    indicator_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> IndicatorPublic:
    """One indicator."""
    return await service.read_indicator(uow.session, indicator_id, principal)


@router.patch(
    "/indicators/{indicator_id}",
    summary="Change an indicator; `targets` replaces all targets",
    responses={404: {"description": "Unknown or archived indicator"}},
    dependencies=[ADMIN_ONLY],
)
async def update_indicator(
    indicator_id: UUID, body: IndicatorUpdate, request: Request, uow: UnitOfWorkDep
) -> IndicatorPublic:
    """Partial update; an event only if something changed. Admins only (targets included).

    A change of targets, direction, tolerance or baseline re-evaluates the reported values:
    their statuses, the current one and the signals follow the new plan."""
    indicator = await service.update_indicator(
        uow, indicator_id, body, request.app.state.clock.now()
    )
    await uow.commit()
    return indicator


@router.delete(
    "/indicators/{indicator_id}",
    status_code=204,
    summary="Archive an indicator (its measurements stay readable in the history)",
    responses={404: {"description": "Unknown or archived indicator"}},
    dependencies=[ADMIN_ONLY],
)
async def archive_indicator(indicator_id: UUID, request: Request, uow: UnitOfWorkDep) -> Response:
    """Archive; posting the same definition again revives it."""
    await service.archive_indicator(uow, indicator_id, request.app.state.clock.now())
    await uow.commit()
    return Response(status_code=204)


@router.get("/summary", summary="Counts of indicators by current status, grouped")
async def summary(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    group_by: GroupBy = "region",
    region: str | None = None,
) -> Summary:
    """Per region, sector (within its region), department or project."""
    return await service.summary(
        uow.session,
        group_by,
        scoped_region(principal, region),
        scoped_sector(principal, None),
    )


@router.get("/behind", summary="The coordinator's list: indicators behind, worst gap first")
async def behind(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    region: str | None = None,
    department_id: UUID | None = None,
    sector: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    include_at_risk: bool = False,
) -> Page[IndicatorPublic]:
    """Ordered by the gap in % of the expected value, most negative first."""
    return await service.behind_list(
        uow.session,
        page,
        region=scoped_region(principal, region),
        department_id=department_id,
        sectors=scoped_sector(principal, sector),
        include_at_risk=include_at_risk,
    )
