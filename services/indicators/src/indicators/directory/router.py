"""HTTP API of the directory read model (what the service knows of projects and departments)."""

from fastapi import APIRouter

from common.authorization import scoped_region
from common.pagination import Page, PageDep
from common.security import PrincipalDep
from common.web import UnitOfWorkDep
from indicators.directory import service
from indicators.directory.schemas import DepartmentPublic, ProjectPublic

router = APIRouter(prefix="/directory", tags=["directory"])


@router.get("/projects", summary="Projects known from the projects service's events")
async def list_projects(
    uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep, region: str | None = None
) -> Page[ProjectPublic]:
    """The read model of projects."""
    return await service.list_projects(uow.session, page, scoped_region(principal, region))


@router.get("/departments", summary="Departments known from the projects service's events")
async def list_departments(
    uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep, region: str | None = None
) -> Page[DepartmentPublic]:
    """The read model of departments."""
    return await service.list_departments(uow.session, page, scoped_region(principal, region))
