"""Milestones: CRUD, reaching one, and marking passed ones missed, each event emitted once."""

from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.authorization import ensure_visible, may_write_for_department
from common.db import UnitOfWork
from common.events import (
    MilestoneOverdue,
    MilestoneReached,
    MilestoneRemoved,
    MilestoneScheduled,
)
from common.logging import get_logger
from common.pagination import PageParams
from common.problems import Conflict, Forbidden, NotFound, Unprocessable
from common.security import Principal
from projects.milestones.models import Milestone
from projects.milestones.schemas import (
    MilestoneCreate,
    MilestoneStatus,
    MilestoneUpdate,
    ReachRequest,
)
from projects.persistence import Upserted, apply_changes, find_by, flush_or_conflict, paginate
from projects.portfolio.models import Project
from projects.portfolio.service import get_project, visible_project
from projects.validation import patch_values

log = get_logger(__name__)


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar date at `moment` in the time zone that decides due dates."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def _snapshot(milestone: Milestone, project: Project) -> dict:
    return {
        "milestone_id": milestone.id,
        "project_id": project.id,
        "project_name": project.name,
        "region": project.region,
        "sector_number": project.sector_number,
        "responsible_department_id": project.responsible_department_id,
        "title": milestone.title,
        "due_date": milestone.due_date,
    }


def _duplicate(title: str) -> Conflict:
    return Conflict(
        f"The project already has a milestone titled {title!r}",
        errors=[{"field": "title", "message": "already exists in this project"}],
    )


def _reopen_if_rescheduled(milestone: Milestone, today: date) -> None:
    # A missed milestone given a due date that has not passed yet is pending again, so the
    # scheduler watches the new date (and may report it overdue once more).
    if milestone.status == MilestoneStatus.missed and milestone.due_date >= today:
        milestone.status = MilestoneStatus.pending.value
        milestone.missed_at = None


def _record_missed_if_past_due(milestone: Milestone, today: date, now: datetime) -> None:
    # An imported milestone whose due date passed before it entered the system is shown missed
    # straight away; the overdue scan then has nothing to announce about it, so loading the
    # plan of past years raises no alert storm about history.
    if milestone.status == MilestoneStatus.pending and milestone.due_date < today:
        milestone.status = MilestoneStatus.missed.value
        milestone.missed_at = now


async def get_milestone(
    session: AsyncSession, milestone_id: UUID, *, lock: bool = False
) -> Milestone:
    """The milestone, or 404."""
    milestone = await session.get(Milestone, milestone_id, with_for_update=lock)
    if milestone is None:
        raise NotFound(f"Milestone {milestone_id} does not exist")
    return milestone


async def visible_milestone(
    session: AsyncSession, milestone_id: UUID, principal: Principal
) -> Milestone:
    """The milestone, or 404 when it does not exist or its project is outside the scope."""
    milestone = await get_milestone(session, milestone_id)
    await visible_project(session, milestone.project_id, principal)
    return milestone


async def list_milestones(
    session: AsyncSession,
    project_id: UUID,
    page: PageParams,
    *,
    status: MilestoneStatus | None,
    principal: Principal,
) -> tuple[list[Milestone], int]:
    """A project's milestones by due date, optionally of one status, one page, with the total."""
    await visible_project(session, project_id, principal)
    query = select(Milestone).where(Milestone.project_id == project_id)
    if status is not None:
        query = query.where(Milestone.status == status.value)
    return await paginate(session, query, page, Milestone.due_date, Milestone.title)


def _announce(uow: UnitOfWork, milestone: Milestone, project: Project) -> None:
    uow.publish(
        MilestoneScheduled(
            **_snapshot(milestone, project), status=milestone.status, evidence=milestone.evidence
        )
    )


async def create_milestone(
    uow: UnitOfWork, project_id: UUID, data: MilestoneCreate, today: date, now: datetime
) -> Milestone:
    """A new milestone, announced; 409 if the project already has one with that title.

    Pending, unless `data.announce_overdue` is false and its due date has passed: then missed.
    """
    session = uow.session
    project = await get_project(session, project_id)
    if await find_by(session, Milestone, project_id=project_id, title=data.title) is not None:
        raise _duplicate(data.title)
    milestone = Milestone(
        project_id=project_id,
        title=data.title,
        due_date=data.resolved_due_date,
        status=MilestoneStatus.pending.value,
        evidence=data.evidence,
    )
    if not data.announce_overdue:
        _record_missed_if_past_due(milestone, today, now)
    session.add(milestone)
    await flush_or_conflict(session, f"Duplicate milestone {data.title!r}", "title")
    _announce(uow, milestone, project)
    log.info(
        "milestone created",
        milestone_id=str(milestone.id),
        project_id=str(project_id),
        status=milestone.status,
    )
    return milestone


async def upsert_milestone(
    uow: UnitOfWork, project_id: UUID, data: MilestoneCreate, today: date, now: datetime
) -> Upserted[Milestone]:
    """Create the milestone or bring its due date (and evidence, if given) to `data`, by title;
    with `announce_overdue` false, a pending one (re)dated into the past is recorded missed."""
    session = uow.session
    project = await get_project(session, project_id, lock=True)
    milestone = await find_by(
        session, Milestone, lock=True, project_id=project_id, title=data.title
    )
    if milestone is None:
        created = await create_milestone(uow, project_id, data, today, now)
        return Upserted(created, created=True, changed=True)
    values = {"due_date": data.resolved_due_date}
    # Evidence is usually written when the milestone is reached; a reload without it keeps it.
    if data.evidence is not None:
        values["evidence"] = data.evidence
    changed = apply_changes(milestone, values)
    if changed:
        _reopen_if_rescheduled(milestone, today)
        if not data.announce_overdue:
            _record_missed_if_past_due(milestone, today, now)
        await session.flush()
        _announce(uow, milestone, project)
        log.info("milestone updated", milestone_id=str(milestone.id))
    return Upserted(milestone, created=False, changed=changed)


async def update_milestone(
    uow: UnitOfWork, milestone_id: UUID, update: MilestoneUpdate, today: date
) -> Milestone:
    """Change title, due date or evidence of a milestone, announcing a change."""
    session = uow.session
    values = patch_values(update, nullable=frozenset({"evidence"}))
    milestone = await get_milestone(session, milestone_id, lock=True)
    new_title = values.get("title", milestone.title)
    if new_title != milestone.title:
        if (
            await find_by(session, Milestone, project_id=milestone.project_id, title=new_title)
            is not None
        ):
            raise _duplicate(new_title)
    if apply_changes(milestone, values):
        if "due_date" in values:
            _reopen_if_rescheduled(milestone, today)
        await flush_or_conflict(session, f"Duplicate milestone {new_title!r}", "title")
        _announce(uow, milestone, await get_project(session, milestone.project_id))
        log.info("milestone updated", milestone_id=str(milestone.id))
    return milestone


async def delete_milestone(uow: UnitOfWork, milestone_id: UUID) -> None:
    """Remove a milestone and announce its removal."""
    session = uow.session
    milestone = await get_milestone(session, milestone_id, lock=True)
    project = await get_project(session, milestone.project_id)
    await session.delete(milestone)
    await session.flush()
    uow.publish(
        MilestoneRemoved(milestone_id=milestone_id, project_id=project.id, region=project.region)
    )
    log.info("milestone deleted", milestone_id=str(milestone_id))


async def reach(
    uow: UnitOfWork, milestone_id: UUID, data: ReachRequest, now: datetime, principal: Principal
) -> Milestone:
    """Mark a pending or missed milestone reached and emit milestone_reached; 409 if it was.

    Only the project's responsible department (or an admin) may; a milestone of a project
    outside the principal's region is answered as unknown.
    """
    session = uow.session
    if data.reached_at is not None and data.reached_at > now:
        raise Unprocessable(
            "reached_at is in the future",
            errors=[{"field": "reached_at", "message": "must not be in the future"}],
        )
    # The row lock orders this against the overdue scan: whichever commits first, each
    # event is emitted once.
    milestone = await get_milestone(session, milestone_id, lock=True)
    project = await get_project(session, milestone.project_id)
    ensure_visible(
        principal, project.region, project.sector_number, what=f"Milestone {milestone_id}"
    )
    if not may_write_for_department(principal, project.responsible_department_id):
        raise Forbidden(
            f"milestone {milestone_id} is reported by its project's responsible department",
            field="milestone_id",
        )
    if milestone.status == MilestoneStatus.reached:
        raise Conflict(
            f"Milestone {milestone_id} was already reached at {milestone.reached_at.isoformat()}",
            reached_at=milestone.reached_at.isoformat(),
        )
    milestone.status = MilestoneStatus.reached.value
    milestone.reached_at = data.reached_at or now
    if data.evidence:
        milestone.evidence = data.evidence
    await session.flush()
    uow.publish(
        MilestoneReached(
            **_snapshot(milestone, project),
            reached_at=milestone.reached_at,
            evidence=milestone.evidence,
        )
    )
    log.info(
        "milestone reached",
        milestone_id=str(milestone.id),
        project_id=str(project.id),
        after_due_date=milestone.missed_at is not None,
    )
    return milestone


async def mark_overdue(uow: UnitOfWork, today: date, now: datetime, limit: int) -> int:
    """Mark up to `limit` pending milestones due before `today` missed, one event each."""
    session = uow.session
    # SKIP LOCKED lets replicas share the scan and never waits on a milestone being reached.
    claimed = await session.exec(
        select(Milestone)
        .where(Milestone.status == MilestoneStatus.pending.value, Milestone.due_date < today)
        .order_by(Milestone.due_date, Milestone.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    milestones = list(claimed.scalars())
    for milestone in milestones:
        project = await session.get(Project, milestone.project_id)
        milestone.status = MilestoneStatus.missed.value
        milestone.missed_at = now
        uow.publish(MilestoneOverdue(**_snapshot(milestone, project)))
        log.info(
            "milestone overdue",
            milestone_id=str(milestone.id),
            project_id=str(project.id),
            due_date=milestone.due_date.isoformat(),
        )
    await session.flush()
    return len(milestones)
