"""Read-only views of the recipients the service knows (to check routing and subscriptions)."""

from typing import Annotated

from fastapi import APIRouter, Query

from common.authorization import scoped_region
from common.pagination import Page, PageDep
from common.security import PrincipalDep
from common.web import UnitOfWorkDep
from notifications.directory import service
from notifications.directory.schemas import CoordinatorPublic, DepartmentPublic

router = APIRouter(tags=["directory"])
RegionQuery = Annotated[str | None, Query(description="Region slug", examples=["leningrad-oblast"])]


@router.get("/departments", summary="Departments known from events")
async def list_departments(
    uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep, region: RegionQuery = None
) -> Page[DepartmentPublic]:
    """Departments with the addresses their alerts go to."""
    items, total = await service.list_departments(
        uow.session, region=scoped_region(principal, region), limit=page.limit, offset=page.offset
    )
    return Page(
        items=[DepartmentPublic.model_validate(d) for d in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/coordinators", summary="Coordinators known from events")
async def list_coordinators(
    uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep, region: RegionQuery = None
) -> Page[CoordinatorPublic]:
    """Coordinators with their region and sector scope."""
    items, total = await service.list_coordinators(
        uow.session, region=scoped_region(principal, region), limit=page.limit, offset=page.offset
    )
    return Page(
        items=[CoordinatorPublic.model_validate(c) for c in items],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
