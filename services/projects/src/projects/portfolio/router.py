"""HTTP API of projects, their stage transitions and history."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from common.authorization import ADMIN_ONLY, scoped_region, scoped_sector
from common.events import Stage
from common.pagination import Page, PageDep
from common.security import PrincipalDep
from common.web import UnitOfWorkDep
from projects.dependencies import ClockDep
from projects.portfolio import service
from projects.portfolio.schemas import (
    ProjectCreate,
    ProjectPublic,
    ProjectUpdate,
    TransitionCreate,
    TransitionPublic,
    project_public,
)
from projects.responses import CONFLICT, INVALID, NOT_FOUND, page_of, upsert_status
from projects.validation import SLUG_PATTERN

router = APIRouter(tags=["projects"])


@router.get("/projects", summary="List and search projects", response_model=Page[ProjectPublic])
async def list_projects(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    region: Annotated[
        str | None, Query(pattern=SLUG_PATTERN, examples=["leningrad-oblast"])
    ] = None,
    sector: Annotated[int | None, Query(ge=1, le=10_000, description="Sector number")] = None,
    department: Annotated[UUID | None, Query(description="Responsible department id")] = None,
    stage: Annotated[list[Stage] | None, Query(description="Any of these stages")] = None,
    federal_recommended: bool | None = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Full-text search in project names (Russian morphology)",
            examples=["образовательная среда"],
        ),
    ] = None,
) -> Page[ProjectPublic]:
    """Projects by region, sector and number; with `q`, best name matches first.

    Coordinators and departments see their region (coordinators with sectors, those).
    """
    filters = service.ProjectFilters(
        region=scoped_region(principal, region),
        sector_numbers=scoped_sector(principal, sector),
        department_id=department,
        stages=tuple(stage or ()),
        federal_recommended=federal_recommended,
        search=q.strip() if q else None,
    )
    rows, total = await service.list_projects(uow.session, filters, page)
    return page_of(rows, total, page, project_public)


@router.post(
    "/projects",
    summary="Create a project",
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def create_project(data: ProjectCreate, uow: UnitOfWorkDep) -> ProjectPublic:
    """A new project in the planned stage; 409 when its sector already has that number."""
    project = await service.create_project(uow, data)
    uow.audit_object(project.id)
    await uow.commit()
    return project_public(project)


@router.put(
    "/projects",
    summary="Create or update a project by region, sector and number",
    responses={201: {"description": "Created"}, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def upsert_project(
    data: ProjectCreate, response: Response, uow: UnitOfWorkDep
) -> ProjectPublic:
    """Idempotent load: 201 when created, 200 otherwise; an event only when something changed."""
    result = await service.upsert_project(uow, data)
    uow.audit_object(result.row.id)
    await uow.commit()
    upsert_status(response, result.created)
    return project_public(result.row)


@router.get("/projects/{project_id}", summary="Get a project", responses=NOT_FOUND)
async def get_project(
    project_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> ProjectPublic:
    """One project with the stages it may move to."""
    return project_public(await service.visible_project(uow.session, project_id, principal))


@router.patch(
    "/projects/{project_id}",
    summary="Change a project's catalogue data",
    responses={**NOT_FOUND, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def update_project(
    project_id: UUID, data: ProjectUpdate, uow: UnitOfWorkDep
) -> ProjectPublic:
    """Change names, texts, tasks or the responsible department; emits project.updated."""
    project = await service.update_project(uow, project_id, data)
    await uow.commit()
    return project_public(project)


@router.post(
    "/projects/{project_id}/transitions",
    summary="Move a project to another lifecycle stage",
    status_code=status.HTTP_201_CREATED,
    responses={
        **NOT_FOUND,
        409: {
            "description": "The lifecycle does not allow this move; the allowed ones are listed",
            "content": {
                "application/problem+json": {
                    "example": {
                        "type": "about:blank",
                        "title": "Transition not allowed",
                        "status": 409,
                        "detail": "A project in stage 'planned' cannot move to 'completed'; "
                        "allowed: launched, suspended, cancelled",
                        "current_stage": "planned",
                        "allowed_transitions": ["launched", "suspended", "cancelled"],
                    }
                }
            },
        },
        **INVALID,
    },
    dependencies=[ADMIN_ONLY],
)
async def create_transition(
    project_id: UUID,
    data: TransitionCreate,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    clock: ClockDep,
) -> TransitionPublic:
    """Record the move in the history and emit project.stage_changed."""
    entry = await service.transition(uow, project_id, data, principal, clock.now())
    await uow.commit()
    return TransitionPublic.model_validate(entry)


@router.get(
    "/projects/{project_id}/history",
    summary="The stage history of a project",
    response_model=Page[TransitionPublic],
    responses=NOT_FOUND,
)
async def get_history(
    project_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep
) -> Page[TransitionPublic]:
    """Every transition, oldest first."""
    rows, total = await service.history(uow.session, project_id, page, principal)
    return page_of(rows, total, page, TransitionPublic.model_validate)
