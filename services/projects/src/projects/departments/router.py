"""HTTP API of departments and coordinators."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from common.authorization import ADMIN_ONLY, ensure_visible, scoped_region
from common.pagination import Page, PageDep
from common.security import PrincipalDep
from common.web import UnitOfWorkDep
from projects.departments import service
from projects.departments.schemas import (
    CoordinatorCreate,
    CoordinatorPublic,
    CoordinatorUpdate,
    DepartmentCreate,
    DepartmentPublic,
    DepartmentUpdate,
)
from projects.responses import CONFLICT, INVALID, NOT_FOUND, page_of, upsert_status
from projects.validation import SLUG_PATTERN

router = APIRouter(tags=["departments"])

RegionFilter = Annotated[
    str | None, Query(pattern=SLUG_PATTERN, description="Only this region", examples=["nenets-ao"])
]
ActiveFilter = Annotated[bool | None, Query(description="Only active (true) or inactive (false)")]


@router.get("/departments", summary="List departments", response_model=Page[DepartmentPublic])
async def list_departments(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    region: RegionFilter = None,
    active: ActiveFilter = None,
) -> Page[DepartmentPublic]:
    """Departments, optionally of one region or activity."""
    rows, total = await service.list_departments(
        uow.session, page, region=scoped_region(principal, region), active=active
    )
    return page_of(rows, total, page, DepartmentPublic.model_validate)


@router.post(
    "/departments",
    summary="Create a department",
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def create_department(data: DepartmentCreate, uow: UnitOfWorkDep) -> DepartmentPublic:
    """A new department; 409 when its region already has one of that full name."""
    department = await service.create_department(uow, data)
    uow.audit_object(department.id)
    await uow.commit()
    return DepartmentPublic.model_validate(department)


@router.put(
    "/departments",
    summary="Create or update a department by region and full name",
    responses={201: {"description": "Created"}, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def upsert_department(
    data: DepartmentCreate, response: Response, uow: UnitOfWorkDep
) -> DepartmentPublic:
    """Idempotent load: 201 when created, 200 otherwise; an event only when something changed."""
    result = await service.upsert_department(uow, data)
    uow.audit_object(result.row.id)
    await uow.commit()
    upsert_status(response, result.created)
    return DepartmentPublic.model_validate(result.row)


@router.get("/departments/{department_id}", summary="Get a department", responses=NOT_FOUND)
async def get_department(
    department_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> DepartmentPublic:
    """One department."""
    department = await service.get_department(uow.session, department_id)
    ensure_visible(principal, department.region, what=f"Department {department_id}")
    return DepartmentPublic.model_validate(department)


@router.patch(
    "/departments/{department_id}",
    summary="Change a department",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def update_department(
    department_id: UUID, data: DepartmentUpdate, uow: UnitOfWorkDep
) -> DepartmentPublic:
    """Change names, emails or the active flag; emits department.upserted when changed."""
    department = await service.update_department(uow, department_id, data)
    await uow.commit()
    return DepartmentPublic.model_validate(department)


@router.get("/coordinators", summary="List coordinators", response_model=Page[CoordinatorPublic])
async def list_coordinators(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    region: RegionFilter = None,
    active: ActiveFilter = None,
) -> Page[CoordinatorPublic]:
    """Coordinators, optionally of one region or activity."""
    rows, total = await service.list_coordinators(
        uow.session, page, region=scoped_region(principal, region), active=active
    )
    return page_of(rows, total, page, CoordinatorPublic.model_validate)


@router.post(
    "/coordinators",
    summary="Create a coordinator",
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def create_coordinator(data: CoordinatorCreate, uow: UnitOfWorkDep) -> CoordinatorPublic:
    """A new coordinator; 409 when the region already has one with that email."""
    coordinator = await service.create_coordinator(uow, data)
    uow.audit_object(coordinator.id)
    await uow.commit()
    return CoordinatorPublic.model_validate(coordinator)


@router.put(
    "/coordinators",
    summary="Create or update a coordinator by region and email",
    responses={201: {"description": "Created"}, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def upsert_coordinator(
    data: CoordinatorCreate, response: Response, uow: UnitOfWorkDep
) -> CoordinatorPublic:
    """Idempotent load: 201 when created, 200 otherwise; an event only when something changed."""
    result = await service.upsert_coordinator(uow, data)
    uow.audit_object(result.row.id)
    await uow.commit()
    upsert_status(response, result.created)
    return CoordinatorPublic.model_validate(result.row)


@router.get("/coordinators/{coordinator_id}", summary="Get a coordinator", responses=NOT_FOUND)
async def get_coordinator(
    coordinator_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> CoordinatorPublic:
    """One coordinator."""
    coordinator = await service.get_coordinator(uow.session, coordinator_id)
    ensure_visible(principal, coordinator.region, what=f"Coordinator {coordinator_id}")
    return CoordinatorPublic.model_validate(coordinator)


@router.patch(
    "/coordinators/{coordinator_id}",
    summary="Change a coordinator",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def update_coordinator(
    coordinator_id: UUID, data: CoordinatorUpdate, uow: UnitOfWorkDep
) -> CoordinatorPublic:
    """Change name, email, sectors or the active flag; emits coordinator.upserted when changed."""
    coordinator = await service.update_coordinator(uow, coordinator_id, data)
    await uow.commit()
    return CoordinatorPublic.model_validate(coordinator)
