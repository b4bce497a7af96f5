"""HTTP API of milestones."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response, status

from common.authorization import ADMIN_ONLY, role_required
from common.pagination import Page, PageDep
from common.security import PrincipalDep, Role
from common.web import UnitOfWorkDep
from projects.dependencies import ClockDep
from projects.milestones import service
from projects.milestones.schemas import (
    MilestoneCreate,
    MilestonePublic,
    MilestoneStatus,
    MilestoneUpdate,
    ReachRequest,
)
from projects.responses import CONFLICT, INVALID, NOT_FOUND, page_of, upsert_status

router = APIRouter(tags=["milestones"])


def milestone_today(request: Request, clock: ClockDep) -> date:
    """Today in the time zone that decides whether a due date has passed."""
    return service.local_date(clock.now(), request.app.state.settings.milestone_timezone)


TodayDep = Annotated[date, Depends(milestone_today)]


@router.get(
    "/projects/{project_id}/milestones",
    summary="List a project's milestones",
    response_model=Page[MilestonePublic],
    responses=NOT_FOUND,
)
async def list_milestones(
    project_id: UUID,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    status_filter: Annotated[
        MilestoneStatus | None, Query(alias="status", description="Only this status")
    ] = None,
) -> Page[MilestonePublic]:
    """Milestones by due date."""
    rows, total = await service.list_milestones(
        uow.session, project_id, page, status=status_filter, principal=principal
    )
    return page_of(rows, total, page, MilestonePublic.model_validate)


@router.post(
    "/projects/{project_id}/milestones",
    summary="Add a milestone to a project",
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def create_milestone(
    project_id: UUID,
    data: MilestoneCreate,
    uow: UnitOfWorkDep,
    today: TodayDep,
    clock: ClockDep,
) -> MilestonePublic:
    """A new pending milestone (missed if imported past due); 409 when the title exists."""
    milestone = await service.create_milestone(uow, project_id, data, today, clock.now())
    uow.audit_object(milestone.id)
    await uow.commit()
    return MilestonePublic.model_validate(milestone)


@router.put(
    "/projects/{project_id}/milestones",
    summary="Create or update a milestone by title",
    responses={201: {"description": "Created"}, **NOT_FOUND, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def upsert_milestone(
    project_id: UUID,
    data: MilestoneCreate,
    response: Response,
    uow: UnitOfWorkDep,
    today: TodayDep,
    clock: ClockDep,
) -> MilestonePublic:
    """Idempotent load keyed by (project, title): 201 when created, 200 otherwise."""
    result = await service.upsert_milestone(uow, project_id, data, today, clock.now())
    uow.audit_object(result.row.id)
    await uow.commit()
    upsert_status(response, result.created)
    return MilestonePublic.model_validate(result.row)


@router.get("/milestones/{milestone_id}", summary="Get a milestone", responses=NOT_FOUND)
async def get_milestone(
    milestone_id: UUID, uow: UnitOfWorkDep, principal: PrincipalDep
) -> MilestonePublic:
    """One milestone."""
    return MilestonePublic.model_validate(
        await service.visible_milestone(uow.session, milestone_id, principal)
    )


@router.patch(
    "/milestones/{milestone_id}",
    summary="Change a milestone",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def update_milestone(
    milestone_id: UUID,
    data: MilestoneUpdate,
    uow: UnitOfWorkDep,
    today: TodayDep,
) -> MilestonePublic:
    """Change title, due date or evidence; a missed milestone moved to a later date reopens."""
    milestone = await service.update_milestone(uow, milestone_id, data, today)
    await uow.commit()
    return MilestonePublic.model_validate(milestone)


@router.delete(
    "/milestones/{milestone_id}",
    summary="Delete a milestone",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=NOT_FOUND,
    dependencies=[ADMIN_ONLY],
)
async def delete_milestone(milestone_id: UUID, uow: UnitOfWorkDep) -> Response:
    """Remove a milestone."""
    await service.delete_milestone(uow, milestone_id)
    await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/milestones/{milestone_id}/reach",
    summary="Mark a milestone reached",
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    dependencies=[role_required(Role.department)],
)
async def reach_milestone(
    milestone_id: UUID,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    clock: ClockDep,
    data: ReachRequest | None = None,
) -> MilestonePublic:
    """Record that a pending (or missed) milestone was reached; emits milestone_reached once.

    The project's responsible department reports it (admins may too).
    """
    milestone = await service.reach(
        uow, milestone_id, data or ReachRequest(), clock.now(), principal
    )
    await uow.commit()
    return MilestonePublic.model_validate(milestone)
