"""Keeping the read models current from events, and the lookups routing needs."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from common.events import (
    CoordinatorUpserted,
    DepartmentUpserted,
    IndicatorSnapshot,
    MeasurementRecorded,
    ProjectSnapshot,
    ProjectStageChanged,
)
from notifications.alerts.models import FAMILY, Alert, AlertKind, AlertState
from notifications.directory.models import (
    Coordinator,
    Department,
    Indicator,
    IndicatorValue,
    Project,
)
from notifications.paging import fetch_page

T = TypeVar("T")

# Where a transaction keeps the read-model rows it has looked up (see `read_model`).
_LOOKED_UP = "read_models"


async def read_model(session: AsyncSession, model: type[T], key: UUID) -> T | None:
    """A department, project, indicator or coordinator by id, looked up once per transaction.

    The consumer applies a batch of events in one transaction, and most of them name the same
    few projects and departments; the rows are read once and kept, detached, until one of this
    transaction's own upserts changes them (`_forget`). A row this transaction changed and has
    not flushed yet is returned as it is and not kept: detaching it would drop the change.
    """
    looked_up = session.info.setdefault(_LOOKED_UP, {})
    if (model, key) not in looked_up:
        row = await session.get(model, key)
        if row is not None and session.is_modified(row):
            return row
        _remember(session, model, key, row)
    return looked_up[(model, key)]


def _remember(session: AsyncSession, model: type, key: UUID, row: Any) -> None:
    if row is not None:
        session.expunge(row)
    session.info.setdefault(_LOOKED_UP, {})[(model, key)] = row


def _forget(session: AsyncSession, model: type, key: UUID) -> None:
    session.info.get(_LOOKED_UP, {}).pop((model, key), None)


async def _upsert(session: AsyncSession, model: type, values: dict, keys: Sequence[str]) -> None:
    _forget(session, model, values["id"])
    statement = insert(model).values(**values)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={k: statement.excluded[k] for k in values if k not in keys},
        )
    )


async def upsert_department(session: AsyncSession, event: DepartmentUpserted, at: datetime) -> None:
    """Store the department as the event describes it."""
    await _upsert(
        session,
        Department,
        {
            "id": event.department_id,
            "region": event.region,
            "full_name": event.full_name,
            "short_name": event.short_name,
            "emails": list(event.emails),
            "active": event.active,
            "updated_at": at,
        },
        ["id"],
    )


async def upsert_coordinator(
    session: AsyncSession, event: CoordinatorUpserted, at: datetime
) -> bool:
    """Store the coordinator; True when it was not known before."""
    known = await session.get(Coordinator, event.coordinator_id)
    await _upsert(
        session,
        Coordinator,
        {
            "id": event.coordinator_id,
            "region": event.region,
            "name": event.name,
            "email": event.email,
            "sector_numbers": sorted(set(event.sector_numbers)),
            "active": event.active,
            "updated_at": at,
        },
        ["id"],
    )
    return known is None


async def upsert_project(session: AsyncSession, event: ProjectSnapshot, at: datetime) -> None:
    """Store the project's catalogue data."""
    await _upsert(
        session,
        Project,
        {
            "id": event.project_id,
            "region": event.region,
            "region_name": event.region_name,
            "sector_number": event.sector_number,
            "sector_name": event.sector_name,
            "number": event.number,
            "name": event.name,
            "responsible_department_id": event.responsible_department_id,
            "stage": event.stage.value,
            "updated_at": at,
        },
        ["id"],
    )


async def change_project_stage(
    session: AsyncSession, event: ProjectStageChanged, at: datetime
) -> None:
    """Record a project's new stage (ignored until the project itself is known)."""
    _forget(session, Project, event.project_id)
    project = await session.get(Project, event.project_id)
    if project is not None:
        project.stage = event.to_stage.value
        project.responsible_department_id = event.responsible_department_id
        project.updated_at = at
        session.add(project)


async def upsert_indicator(session: AsyncSession, event: IndicatorSnapshot, at: datetime) -> None:
    """Store the indicator with its targets."""
    await _upsert(
        session,
        Indicator,
        {
            "id": event.indicator_id,
            "project_id": event.project_id,
            "region": event.region,
            "sector_number": event.sector_number,
            "responsible_department_id": event.responsible_department_id,
            "name": event.name,
            "unit": event.unit,
            "direction": event.direction.value,
            "targets": {str(year): str(value) for year, value in event.targets.items()},
            "updated_at": at,
        },
        ["id"],
    )


_VALUE_COLUMNS = ("indicator_id", "period", "value", "revision", "as_of", "recorded_at")
_NEW_VALUE = insert(IndicatorValue).values({name: bindparam(name) for name in _VALUE_COLUMNS})
# Built once: a statement built per event costs more to compile-cache than to run. The value is
# kept and its indicator read in one round trip: the evaluation events that follow a measurement
# (status changed, target met or missed) describe that indicator.
_RECORD_VALUE = (
    select(
        Indicator,
        exists().where(
            Alert.subject_id == bindparam("indicator_id"),
            Alert.period == bindparam("period"),
            Alert.family == FAMILY[AlertKind.report_overdue],
            Alert.state != AlertState.resolved.value,
        ),
    )
    .where(Indicator.id == bindparam("indicator_id"))
    .add_cte(
        _NEW_VALUE.on_conflict_do_update(
            index_elements=["indicator_id", "period"],
            set_={name: _NEW_VALUE.excluded[name] for name in _VALUE_COLUMNS[2:]},
            where=IndicatorValue.revision <= _NEW_VALUE.excluded.revision,
        ).cte("recorded")
    )
)


async def record_value(session: AsyncSession, event: MeasurementRecorded, at: datetime) -> bool:
    """Keep the newest revision of a period's value (an older revision arriving late loses).

    True when an overdue-report alert of the period may still be unresolved, for the value to
    settle it; asked in the same round trip, as the value settles one only now and then.
    """
    row = (
        await session.exec(
            _RECORD_VALUE,
            params={
                "indicator_id": event.indicator_id,
                "period": event.period,
                "value": event.value,
                "revision": event.revision,
                "as_of": event.as_of,
                "recorded_at": at,
            },
        )
    ).one_or_none()
    _remember(session, Indicator, event.indicator_id, row[0] if row else None)
    return row is None or row[1]  # an indicator not known yet: ask the alerts themselves


async def recent_values(
    session: AsyncSession, indicator_id: UUID, limit: int = 5
) -> list[IndicatorValue]:
    """The last values of an indicator, oldest first."""
    rows = await session.exec(
        select(IndicatorValue)
        .where(IndicatorValue.indicator_id == indicator_id)
        .order_by(IndicatorValue.period.desc())
        .limit(limit)
    )
    return list(reversed(rows.scalars().all()))


async def region_name(session: AsyncSession, region: str) -> str | None:
    """The human name of a region, as its projects carry it."""
    return await session.scalar(
        select(func.min(Project.region_name)).where(Project.region == region)
    )


async def coordinators_in_scope(
    session: AsyncSession, region: str, sector_number: int | None
) -> list[Coordinator]:
    """Active coordinators of a region whose sector scope covers the sector."""
    rows = await session.exec(
        select(Coordinator).where(Coordinator.region == region, Coordinator.active.is_(True))
    )
    return [
        c
        for c in rows.scalars().all()
        if not c.sector_numbers or (sector_number is not None and sector_number in c.sector_numbers)
    ]


async def list_departments(
    session: AsyncSession, *, region: str | None, limit: int, offset: int
) -> tuple[list[Department], int]:
    """A page of departments, by region then name."""
    query = select(Department)
    if region:
        query = query.where(Department.region == region)
    rows, total = await fetch_page(
        session, query, Department.region, Department.short_name, limit=limit, offset=offset
    )
    return list(rows.scalars().all()), total


async def list_coordinators(
    session: AsyncSession, *, region: str | None, limit: int, offset: int
) -> tuple[list[Coordinator], int]:
    """A page of coordinators, by region then name."""
    query = select(Coordinator)
    if region:
        query = query.where(Coordinator.region == region)
    rows, total = await fetch_page(
        session, query, Coordinator.region, Coordinator.name, limit=limit, offset=offset
    )
    return list(rows.scalars().all()), total
