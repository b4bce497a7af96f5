"""Applying the projects service's events to the read model, and reading it."""

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.db import UnitOfWork
from common.events import DepartmentUpserted, ProjectSnapshot, ProjectStageChanged
from common.logging import get_logger
from common.messaging.cloudevents import Envelope
from common.pagination import Page, PageParams
from indicators.catalogue.service import refresh_from_project
from indicators.directory.models import DirectoryDepartment, DirectoryProject
from indicators.directory.schemas import DepartmentPublic, ProjectPublic

log = get_logger(__name__)


async def on_project(envelope: Envelope, uow: UnitOfWork) -> None:
    """project.created / project.updated: store the snapshot, then re-point its indicators."""
    event: ProjectSnapshot = envelope.data
    fields = ProjectSnapshot.model_fields.keys()
    values = {name: getattr(event, name) for name in fields}
    values["stage"] = event.stage.value
    project = await uow.session.get(DirectoryProject, event.project_id, with_for_update=True)
    if project is None:
        project = DirectoryProject(**values)
        uow.session.add(project)
    else:
        for name, value in values.items():
            setattr(project, name, value)
    await uow.session.flush()
    await refresh_from_project(uow, project)
    log.info("project applied", project_id=str(event.project_id), event_type=envelope.type)


async def on_stage_changed(envelope: Envelope, uow: UnitOfWork) -> None:
    """project.stage_changed: the stage and responsible department of a known project."""
    event: ProjectStageChanged = envelope.data
    project = await uow.session.get(DirectoryProject, event.project_id, with_for_update=True)
    if project is None:
        # The snapshot (project.created) precedes it on the same key; without one there is
        # nothing complete to store, and the next snapshot will carry the stage.
        log.warning("stage change of an unknown project", project_id=str(event.project_id))
        return
    project.stage = event.to_stage.value
    project.responsible_department_id = event.responsible_department_id
    await uow.session.flush()
    await refresh_from_project(uow, project)


async def on_department(envelope: Envelope, uow: UnitOfWork) -> None:
    """department.upserted: store the department's names and addresses."""
    event: DepartmentUpserted = envelope.data
    department = await uow.session.get(
        DirectoryDepartment, event.department_id, with_for_update=True
    )
    values = event.model_dump()
    if department is None:
        uow.session.add(DirectoryDepartment(**values))
    else:
        for name, value in values.items():
            setattr(department, name, value)
    log.info("department applied", department_id=str(event.department_id))


async def list_projects(
    session: AsyncSession, page: PageParams, region: str | None
) -> Page[ProjectPublic]:
    """Known projects, by region, sector and number."""
    query = select(DirectoryProject)
    count = select(func.count()).select_from(DirectoryProject)
    if region is not None:
        query = query.where(DirectoryProject.region == region)
        count = count.where(DirectoryProject.region == region)
    rows = (
        await session.exec(
            query.order_by(
                DirectoryProject.region, DirectoryProject.sector_number, DirectoryProject.number
            )
            .limit(page.limit)
            .offset(page.offset)
        )
    ).scalars()
    return Page(
        items=[ProjectPublic.model_validate(r) for r in rows],
        total=await session.scalar(count),
        limit=page.limit,
        offset=page.offset,
    )


async def list_departments(
    session: AsyncSession, page: PageParams, region: str | None
) -> Page[DepartmentPublic]:
    """Known departments, by region and short name."""
    query = select(DirectoryDepartment)
    count = select(func.count()).select_from(DirectoryDepartment)
    if region is not None:
        query = query.where(DirectoryDepartment.region == region)
        count = count.where(DirectoryDepartment.region == region)
    rows = (
        await session.exec(
            query.order_by(DirectoryDepartment.region, DirectoryDepartment.short_name)
            .limit(page.limit)
            .offset(page.offset)
        )
    ).scalars()
    return Page(
        items=[DepartmentPublic.model_validate(r) for r in rows],
        total=await session.scalar(count),
        limit=page.limit,
        offset=page.offset,
    )
