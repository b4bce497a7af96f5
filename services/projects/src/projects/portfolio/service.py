"""Projects: catalogue writes with their events, search, lifecycle transitions and history."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, literal_column, select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.authorization import ensure_visible
from common.db import UnitOfWork
from common.events import ProjectCreated, ProjectStageChanged, ProjectUpdated, Stage
from common.logging import get_logger
from common.pagination import PageParams
from common.problems import Conflict, NotFound
from common.security import Principal
from projects.catalogue.models import Region, Sector
from projects.catalogue.service import require_region, require_sector
from projects.departments.service import require_department
from projects.persistence import Upserted, apply_changes, find_by, flush_or_conflict, paginate
from projects.portfolio.lifecycle import TransitionNotAllowed, check_transition
from projects.portfolio.models import Project, StageTransition
from projects.portfolio.schemas import (
    NULLABLE_PROJECT_FIELDS,
    ProjectCreate,
    ProjectFields,
    ProjectUpdate,
    TransitionCreate,
)
from projects.validation import patch_values

log = get_logger(__name__)

RUSSIAN = literal_column("'russian'::regconfig")
NATURAL_KEY = {"region", "sector_number", "number"}


@dataclass(frozen=True)
class ProjectFilters:
    """What GET /projects narrows the list by; None means any."""

    region: str | None = None
    sector_numbers: list[int] | None = None
    department_id: UUID | None = None
    stages: tuple[Stage, ...] = ()
    federal_recommended: bool | None = None
    search: str | None = None


async def _snapshot(session: AsyncSession, project: Project) -> dict[str, Any]:
    """The ProjectSnapshot fields of a project, names of its region and sector included."""
    region = await session.get(Region, project.region)
    sector = await session.get(Sector, (project.region, project.sector_number))
    return {
        "project_id": project.id,
        "region": project.region,
        "region_name": region.name,
        "sector_number": project.sector_number,
        "sector_name": sector.name,
        "number": project.number,
        "name": project.name,
        "federal_recommended": project.federal_recommended,
        "responsible_department_id": project.responsible_department_id,
        "stage": Stage(project.stage),
    }


def _duplicate(region: str, sector_number: int, number: int) -> Conflict:
    return Conflict(
        f"Sector {sector_number} of region {region!r} already has project {number}",
        errors=[{"field": "number", "message": "already exists in this sector"}],
    )


async def get_project(session: AsyncSession, project_id: UUID, *, lock: bool = False) -> Project:
    """The project, or 404."""
    project = await session.get(Project, project_id, with_for_update=lock)
    if project is None:
        raise NotFound(f"Project {project_id} does not exist")
    return project


async def visible_project(session: AsyncSession, project_id: UUID, principal: Principal) -> Project:
    """The project, or 404 when it does not exist or lies outside the principal's scope."""
    project = await get_project(session, project_id)
    ensure_visible(principal, project.region, project.sector_number, what=f"Project {project_id}")
    return project


async def list_projects(
    session: AsyncSession, filters: ProjectFilters, page: PageParams
) -> tuple[list[Project], int]:
    """Projects matching the filters, best search matches first, one page, with the total."""
    query = select(Project)
    if filters.region is not None:
        query = query.where(Project.region == filters.region)
    if filters.sector_numbers is not None:
        query = query.where(Project.sector_number.in_(filters.sector_numbers))
    if filters.department_id is not None:
        query = query.where(Project.responsible_department_id == filters.department_id)
    if filters.stages:
        query = query.where(Project.stage.in_([stage.value for stage in filters.stages]))
    if filters.federal_recommended is not None:
        query = query.where(Project.federal_recommended == filters.federal_recommended)
    order: list[Any] = [Project.region, Project.sector_number, Project.number]
    if filters.search:
        vector = func.to_tsvector(RUSSIAN, Project.name)
        terms = func.websearch_to_tsquery(RUSSIAN, filters.search)
        query = query.where(vector.op("@@")(terms))
        order.insert(0, func.ts_rank(vector, terms).desc())
    return await paginate(session, query, page, *order)


async def _check_references(session: AsyncSession, region: str, data: ProjectCreate) -> None:
    await require_region(session, region)
    await require_sector(session, region, data.sector_number)
    if data.responsible_department_id is not None:
        await require_department(session, data.responsible_department_id, region)


async def create_project(uow: UnitOfWork, data: ProjectCreate) -> Project:
    """A new project in the planned stage; 409 if its sector already has that number."""
    session = uow.session
    await _check_references(session, data.region, data)
    if await find_by(session, Project, **data.model_dump(include=NATURAL_KEY)) is not None:
        raise _duplicate(data.region, data.sector_number, data.number)
    project = Project(**data.model_dump(), stage=Stage.planned.value)
    session.add(project)
    await flush_or_conflict(
        session, f"Sector {data.sector_number} already has project {data.number}", "number"
    )
    uow.publish(ProjectCreated(**await _snapshot(session, project)))
    log.info("project created", project_id=str(project.id), region=data.region)
    return project


async def upsert_project(uow: UnitOfWork, data: ProjectCreate) -> Upserted[Project]:
    """Create the project or bring its catalogue data to `data`; an event only on change."""
    session = uow.session
    await _check_references(session, data.region, data)
    project = await find_by(session, Project, lock=True, **data.model_dump(include=NATURAL_KEY))
    if project is None:
        return Upserted(await create_project(uow, data), created=True, changed=True)
    changed = apply_changes(project, data.model_dump(include=set(ProjectFields.model_fields)))
    if changed:
        await session.flush()
        uow.publish(ProjectUpdated(**await _snapshot(session, project)))
        log.info("project updated", project_id=str(project.id))
    return Upserted(project, created=False, changed=changed)


async def update_project(uow: UnitOfWork, project_id: UUID, update: ProjectUpdate) -> Project:
    """Change some catalogue fields of a project; an event only when something changed."""
    session = uow.session
    values = patch_values(update, nullable=NULLABLE_PROJECT_FIELDS)
    project = await get_project(session, project_id, lock=True)
    if values.get("responsible_department_id") is not None:
        await require_department(session, values["responsible_department_id"], project.region)
    if apply_changes(project, values):
        await session.flush()
        uow.publish(ProjectUpdated(**await _snapshot(session, project)))
        log.info("project updated", project_id=str(project.id))
    return project


async def announce_projects(uow: UnitOfWork, region: str, sector_number: int | None = None) -> int:
    """Re-publish project.updated for a region's (or a sector's) projects after a rename."""
    query = select(Project).where(Project.region == region)
    if sector_number is not None:
        query = query.where(Project.sector_number == sector_number)
    projects = list((await uow.session.exec(query.order_by(Project.id))).scalars())
    for project in projects:
        uow.publish(ProjectUpdated(**await _snapshot(uow.session, project)))
    if projects:
        log.info("projects re-announced", region=region, sector=sector_number, count=len(projects))
    return len(projects)


async def transition(
    uow: UnitOfWork,
    project_id: UUID,
    data: TransitionCreate,
    principal: Principal,
    now: datetime,
) -> StageTransition:
    """Move a project to another stage, record it in the history and emit stage_changed."""
    session = uow.session
    project = await get_project(session, project_id, lock=True)
    current = Stage(project.stage)
    suspended_from = Stage(project.suspended_from) if project.suspended_from else None
    try:
        remembered = check_transition(current, data.to_stage, suspended_from)
    except TransitionNotAllowed as exc:
        allowed = [stage.value for stage in exc.allowed]
        raise Conflict(
            f"A project in stage {current.value!r} cannot move to {data.to_stage.value!r}; "
            f"allowed: {', '.join(allowed) or 'none (the stage is final)'}",
            title="Transition not allowed",
            current_stage=current.value,
            allowed_transitions=allowed,
            errors=[{"field": "to_stage", "message": "not allowed from the current stage"}],
        ) from exc
    project.stage = data.to_stage.value
    project.suspended_from = remembered.value if remembered else None
    entry = StageTransition(
        project_id=project.id,
        from_stage=current.value,
        to_stage=data.to_stage.value,
        changed_at=now,
        changed_by=principal.subject,
        comment=data.comment or None,
    )
    session.add(entry)
    await session.flush()
    uow.publish(
        ProjectStageChanged(
            project_id=project.id,
            region=project.region,
            responsible_department_id=project.responsible_department_id,
            from_stage=current,
            to_stage=data.to_stage,
            changed_at=now,
            changed_by=principal.subject,
            comment=entry.comment,
        )
    )
    log.info(
        "project stage changed",
        project_id=str(project.id),
        from_stage=current.value,
        to_stage=data.to_stage.value,
    )
    return entry


async def history(
    session: AsyncSession, project_id: UUID, page: PageParams, principal: Principal
) -> tuple[list[StageTransition], int]:
    """A project's transitions, oldest first, one page, with the total."""
    await visible_project(session, project_id, principal)
    query = select(StageTransition).where(StageTransition.project_id == project_id)
    return await paginate(session, query, page, StageTransition.seq)
