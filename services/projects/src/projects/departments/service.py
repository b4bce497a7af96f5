"""Departments and coordinators: creation, upserts by natural key, changes and their events."""

from uuid import UUID

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.db import UnitOfWork
from common.events import CoordinatorUpserted, DepartmentUpserted
from common.logging import get_logger
from common.pagination import PageParams
from common.problems import Conflict, NotFound, Unprocessable
from projects.catalogue.service import require_region, require_sectors
from projects.departments.models import Coordinator, Department
from projects.departments.schemas import (
    CoordinatorCreate,
    CoordinatorUpdate,
    DepartmentCreate,
    DepartmentUpdate,
)
from projects.persistence import Upserted, apply_changes, find_by, flush_or_conflict, paginate
from projects.validation import patch_values

log = get_logger(__name__)


def department_event(department: Department) -> DepartmentUpserted:
    """The department.upserted event carrying the department as it now is."""
    return DepartmentUpserted(
        department_id=department.id,
        region=department.region,
        full_name=department.full_name,
        short_name=department.short_name,
        emails=list(department.emails),
        active=department.active,
    )


def coordinator_event(coordinator: Coordinator) -> CoordinatorUpserted:
    """The coordinator.upserted event carrying the coordinator as they now are."""
    return CoordinatorUpserted(
        coordinator_id=coordinator.id,
        region=coordinator.region,
        name=coordinator.name,
        email=coordinator.email,
        sector_numbers=list(coordinator.sector_numbers),
        active=coordinator.active,
    )


def _duplicate_department(region: str, full_name: str) -> Conflict:
    return Conflict(
        f"Region {region!r} already has a department named {full_name!r}",
        errors=[{"field": "full_name", "message": "already exists in this region"}],
    )


def _duplicate_coordinator(region: str, email: str) -> Conflict:
    return Conflict(
        f"Region {region!r} already has a coordinator with email {email!r}",
        errors=[{"field": "email", "message": "already exists in this region"}],
    )


async def get_department(session: AsyncSession, department_id: UUID) -> Department:
    """The department, or 404."""
    department = await session.get(Department, department_id)
    if department is None:
        raise NotFound(f"Department {department_id} does not exist")
    return department


async def require_department(
    session: AsyncSession,
    department_id: UUID,
    region: str,
    *,
    field: str = "responsible_department_id",
) -> Department:
    """A department of the region named in a request body, or 422 naming the field."""
    department = await session.get(Department, department_id)
    if department is None or department.region != region:
        raise Unprocessable(
            f"Region {region!r} has no department {department_id}",
            errors=[{"field": field, "message": f"no such department in region {region!r}"}],
        )
    return department


async def list_departments(
    session: AsyncSession, page: PageParams, *, region: str | None, active: bool | None
) -> tuple[list[Department], int]:
    """Departments by region and name, optionally filtered, one page, with the total."""
    query = select(Department)
    if region is not None:
        query = query.where(Department.region == region)
    if active is not None:
        query = query.where(Department.active == active)
    return await paginate(session, query, page, Department.region, Department.full_name)


async def create_department(uow: UnitOfWork, data: DepartmentCreate) -> Department:
    """A new department; 409 if its region already has one of that name."""
    session = uow.session
    await require_region(session, data.region)
    if await find_by(session, Department, region=data.region, full_name=data.full_name) is not None:
        raise _duplicate_department(data.region, data.full_name)
    department = Department(**data.model_dump())
    session.add(department)
    await flush_or_conflict(
        session, f"Region {data.region!r} already has this department", "full_name"
    )
    uow.publish(department_event(department))
    log.info("department created", department_id=str(department.id), region=data.region)
    return department


async def upsert_department(uow: UnitOfWork, data: DepartmentCreate) -> Upserted[Department]:
    """Create the department or bring it to `data`; an event only when something changed."""
    session = uow.session
    await require_region(session, data.region)
    department = await find_by(
        session, Department, lock=True, region=data.region, full_name=data.full_name
    )
    if department is None:
        return Upserted(await create_department(uow, data), created=True, changed=True)
    changed = apply_changes(department, data.model_dump(exclude={"region", "full_name"}))
    if changed:
        await session.flush()
        uow.publish(department_event(department))
        log.info("department updated", department_id=str(department.id))
    return Upserted(department, created=False, changed=changed)


async def update_department(
    uow: UnitOfWork, department_id: UUID, update: DepartmentUpdate
) -> Department:
    """Change some fields of a department; an event only when something changed."""
    session = uow.session
    values = patch_values(update)
    department = await session.get(Department, department_id, with_for_update=True)
    if department is None:
        raise NotFound(f"Department {department_id} does not exist")
    new_name = values.get("full_name", department.full_name)
    if new_name != department.full_name:
        if (
            await find_by(session, Department, region=department.region, full_name=new_name)
            is not None
        ):
            raise _duplicate_department(department.region, new_name)
    if apply_changes(department, values):
        await flush_or_conflict(
            session, f"Region {department.region!r} already has this department", "full_name"
        )
        uow.publish(department_event(department))
        log.info("department updated", department_id=str(department.id))
    return department


async def get_coordinator(session: AsyncSession, coordinator_id: UUID) -> Coordinator:
    """The coordinator, or 404."""
    coordinator = await session.get(Coordinator, coordinator_id)
    if coordinator is None:
        raise NotFound(f"Coordinator {coordinator_id} does not exist")
    return coordinator


async def list_coordinators(
    session: AsyncSession, page: PageParams, *, region: str | None, active: bool | None
) -> tuple[list[Coordinator], int]:
    """Coordinators by region and email, optionally filtered, one page, with the total."""
    query = select(Coordinator)
    if region is not None:
        query = query.where(Coordinator.region == region)
    if active is not None:
        query = query.where(Coordinator.active == active)
    return await paginate(session, query, page, Coordinator.region, Coordinator.email)


async def create_coordinator(uow: UnitOfWork, data: CoordinatorCreate) -> Coordinator:
    """A new coordinator; 409 if the region already has one with that email."""
    session = uow.session
    await require_region(session, data.region)
    await require_sectors(session, data.region, data.sector_numbers)
    if await find_by(session, Coordinator, region=data.region, email=data.email) is not None:
        raise _duplicate_coordinator(data.region, data.email)
    coordinator = Coordinator(**data.model_dump())
    session.add(coordinator)
    await flush_or_conflict(
        session, f"Region {data.region!r} already has this coordinator", "email"
    )
    uow.publish(coordinator_event(coordinator))
    log.info("coordinator created", coordinator_id=str(coordinator.id), region=data.region)
    return coordinator


async def upsert_coordinator(uow: UnitOfWork, data: CoordinatorCreate) -> Upserted[Coordinator]:
    """Create the coordinator or bring them to `data`; an event only when something changed."""
    session = uow.session
    await require_region(session, data.region)
    await require_sectors(session, data.region, data.sector_numbers)
    coordinator = await find_by(
        session, Coordinator, lock=True, region=data.region, email=data.email
    )
    if coordinator is None:
        return Upserted(await create_coordinator(uow, data), created=True, changed=True)
    changed = apply_changes(coordinator, data.model_dump(exclude={"region", "email"}))
    if changed:
        await session.flush()
        uow.publish(coordinator_event(coordinator))
        log.info("coordinator updated", coordinator_id=str(coordinator.id))
    return Upserted(coordinator, created=False, changed=changed)


async def update_coordinator(
    uow: UnitOfWork, coordinator_id: UUID, update: CoordinatorUpdate
) -> Coordinator:
    """Change some fields of a coordinator; an event only when something changed."""
    session = uow.session
    values = patch_values(update)
    coordinator = await session.get(Coordinator, coordinator_id, with_for_update=True)
    if coordinator is None:
        raise NotFound(f"Coordinator {coordinator_id} does not exist")
    if "sector_numbers" in values:
        await require_sectors(session, coordinator.region, values["sector_numbers"])
    new_email = values.get("email", coordinator.email)
    if new_email != coordinator.email:
        if (
            await find_by(session, Coordinator, region=coordinator.region, email=new_email)
            is not None
        ):
            raise _duplicate_coordinator(coordinator.region, new_email)
    if apply_changes(coordinator, values):
        await flush_or_conflict(
            session, f"Region {coordinator.region!r} already has this coordinator", "email"
        )
        uow.publish(coordinator_event(coordinator))
        log.info("coordinator updated", coordinator_id=str(coordinator.id))
    return coordinator
