"""HTTP API of overdue reports."""

from uuid import UUID

from fastapi import APIRouter, Request

from common.authorization import scoped_region
from common.pagination import Page, PageDep
from common.security import PrincipalDep
from common.web import UnitOfWorkDep
from indicators.measurements.service import driver_connection
from indicators.overdue.schemas import OverdueReport
from indicators.overdue.service import Filters, find_overdue

router = APIRouter(tags=["overdue"])


@router.get("/overdue", summary="Indicator-periods with no value after their reporting deadline")
async def list_overdue(
    request: Request,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    region: str | None = None,
    department_id: UUID | None = None,
) -> Page[OverdueReport]:
    """As of the service's clock; the deadline is the period's end + REPORT_DEADLINE_DAYS."""
    conn = await driver_connection(uow.session)
    overdue = await find_overdue(
        conn,
        request.app.state.clock.now().date(),
        request.app.state.settings.report_deadline_days,
        Filters(region=scoped_region(principal, region), department_id=department_id),
    )
    return Page(
        items=overdue[page.offset : page.offset + page.limit],
        total=len(overdue),
        limit=page.limit,
        offset=page.offset,
    )
