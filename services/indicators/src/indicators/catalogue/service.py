"""Indicator logic: natural-key upsert, updates, archiving, reads, summaries."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import func, nulls_last, select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.authorization import ensure_visible
from common.db import UnitOfWork
from common.events import (
    Direction,
    Frequency,
    IndicatorCreated,
    IndicatorSnapshot,
    IndicatorUpdated,
    Status,
)
from common.logging import get_logger
from common.pagination import Page, PageParams
from common.problems import NotFound, Unprocessable
from common.security import Principal
from indicators.catalogue.models import Indicator, IndicatorTarget
from indicators.catalogue.schemas import (
    BaselineIn,
    CurrentStatus,
    GroupBy,
    IndicatorCreate,
    IndicatorPublic,
    IndicatorUpdate,
    StatusCounts,
    StatusFilter,
    Summary,
    SummaryGroup,
    check_percent_targets,
)
from indicators.directory.models import DirectoryDepartment, DirectoryProject
from indicators.measurements.service import driver_connection, reevaluate
from indicators.overdue.service import record_history_announced

log = get_logger(__name__)

# The fields of an indicator that its definition (create/update body) controls.
DEFINITION_FIELDS = ("name", "unit", "direction", "frequency", "tolerance_percent")


def _plan_of(indicator: Indicator, targets: dict[int, Decimal]) -> tuple:
    """What judges the indicator's values: a change to it re-evaluates every reported period."""
    return (
        indicator.direction,
        indicator.tolerance_percent,
        indicator.baseline_value,
        indicator.baseline_year,
        targets,
    )


async def _rejudge_if_replanned(
    uow: UnitOfWork,
    indicator: Indicator,
    plan_before: tuple,
    targets: dict[int, Decimal],
    now: datetime,
) -> None:
    if plan_before == _plan_of(indicator, targets):
        return
    # The change's own event first: consumers describe what follows with the new definition.
    await uow.session.flush()
    await reevaluate(
        await driver_connection(uow.session),
        indicator.id,
        now=now,
        source=uow.source,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
    )
    await uow.session.refresh(indicator)  # its current status, as the re-evaluation set it


async def get_indicator(
    session: AsyncSession, indicator_id: UUID, *, lock: bool = False
) -> Indicator:
    """An indicator that is not archived, or NotFound."""
    query = select(Indicator).where(Indicator.id == indicator_id, Indicator.archived_at.is_(None))
    if lock:
        query = query.with_for_update()
    indicator = (await session.exec(query)).scalars().first()
    if indicator is None:
        raise NotFound(f"indicator {indicator_id} does not exist", field="indicator_id")
    return indicator


async def targets_of(
    session: AsyncSession, indicator_ids: list[UUID]
) -> dict[UUID, dict[int, Decimal]]:
    """Year → target of each indicator."""
    rows = await session.exec(
        select(IndicatorTarget).where(IndicatorTarget.indicator_id.in_(indicator_ids))
    )
    targets: dict[UUID, dict[int, Decimal]] = defaultdict(dict)
    for target in rows.scalars():
        targets[target.indicator_id][target.year] = target.value
    return targets


def snapshot(indicator: Indicator, targets: dict[int, Decimal]) -> dict[str, Any]:
    """The IndicatorSnapshot fields of an indicator."""
    return IndicatorSnapshot(
        indicator_id=indicator.id,
        project_id=indicator.project_id,
        region=indicator.region,
        sector_number=indicator.sector_number,
        responsible_department_id=indicator.responsible_department_id,
        name=indicator.name,
        unit=indicator.unit,
        direction=Direction(indicator.direction),
        targets=targets,
        frequency=Frequency(indicator.frequency),
        active=indicator.archived_at is None,
    ).model_dump()


def to_public(
    indicator: Indicator, targets: dict[int, Decimal], project_known: bool
) -> IndicatorPublic:
    """The API view of an indicator."""
    current = None
    if indicator.current_status is not None and indicator.current_period is not None:
        current = CurrentStatus(
            period=indicator.current_period,
            status=Status(indicator.current_status),
            expected=indicator.current_expected,
            actual=indicator.current_actual,
            gap=indicator.current_gap,
            gap_percent=indicator.current_gap_percent,
        )
    baseline = (
        BaselineIn(value=indicator.baseline_value, year=indicator.baseline_year)
        if indicator.baseline_value is not None and indicator.baseline_year is not None
        else None
    )
    return IndicatorPublic(
        id=indicator.id,
        project_id=indicator.project_id,
        name=indicator.name,
        unit=indicator.unit,
        direction=Direction(indicator.direction),
        frequency=Frequency(indicator.frequency),
        targets=dict(sorted(targets.items())),
        baseline=baseline,
        tolerance_percent=indicator.tolerance_percent,
        region=indicator.region,
        sector_number=indicator.sector_number,
        responsible_department_id=indicator.responsible_department_id,
        project_known=project_known,
        current=current,
        archived=indicator.archived_at is not None,
        created_at=indicator.created_at,
        updated_at=indicator.updated_at,
    )


async def _project(session: AsyncSession, project_id: UUID) -> DirectoryProject | None:
    return await session.get(DirectoryProject, project_id)


def _apply_project(indicator: Indicator, project: DirectoryProject) -> None:
    indicator.region = project.region
    indicator.sector_number = project.sector_number
    indicator.responsible_department_id = project.responsible_department_id


async def _replace_targets(
    session: AsyncSession, indicator_id: UUID, targets: dict[int, Decimal]
) -> None:
    existing = (await targets_of(session, [indicator_id])).get(indicator_id, {})
    for year in existing.keys() - targets.keys():
        await session.delete(await session.get(IndicatorTarget, (indicator_id, year)))
    for year, value in targets.items():
        if year not in existing:
            session.add(IndicatorTarget(indicator_id=indicator_id, year=year, value=value))
        elif existing[year] != value:
            row = await session.get(IndicatorTarget, (indicator_id, year))
            row.value = value


async def upsert_indicator(
    uow: UnitOfWork, data: IndicatorCreate, now: datetime, deadline_days: int
) -> tuple[IndicatorPublic, bool]:
    """Create the indicator of (project_id, name) or bring it up to date; (view, created).

    An event is published only when something changed, so loading the same definition twice
    is a no-op. Region, sector and department come from the directory when it knows the
    project; otherwise the given region stands in until the project's events arrive. With
    `data.announce_overdue` false, reports already overdue today are never announced. A changed
    plan re-evaluates the values already reported.
    """
    session = uow.session
    today = now.date()
    project = await _project(session, data.project_id)
    if project is None and data.region is None:
        existing_region = await session.scalar(
            select(Indicator.region).where(
                Indicator.project_id == data.project_id, Indicator.name == data.name
            )
        )
        if existing_region is None:
            raise Unprocessable(
                "the project is not known yet, so the region must be given",
                errors=[
                    {"field": "region", "message": "required until the project's events arrive"}
                ],
            )
    indicator = (
        (
            await session.exec(
                select(Indicator)
                .where(Indicator.project_id == data.project_id, Indicator.name == data.name)
                .with_for_update()
            )
        )
        .scalars()
        .first()
    )
    created = indicator is None
    if indicator is None:
        indicator = Indicator(
            project_id=data.project_id,
            name=data.name,
            unit=data.unit,
            direction=data.direction.value,
            frequency=data.frequency.value,
            tolerance_percent=data.tolerance_percent,
            region=data.region or "",
        )
        session.add(indicator)
        changed = True
        old_targets: dict[int, Decimal] = {}
        plan_before: tuple = ()
    else:
        old_targets = (await targets_of(session, [indicator.id])).get(indicator.id, {})
        plan_before = _plan_of(indicator, old_targets)
        before = (
            indicator.unit,
            indicator.direction,
            indicator.frequency,
            indicator.tolerance_percent,
            indicator.baseline_value,
            indicator.baseline_year,
            indicator.region,
            indicator.archived_at,
        )
        indicator.unit = data.unit
        indicator.direction = data.direction.value
        indicator.frequency = data.frequency.value
        indicator.tolerance_percent = data.tolerance_percent
        if data.region is not None and project is None:
            indicator.region = data.region
        indicator.archived_at = None
        changed = (
            before
            != (
                indicator.unit,
                indicator.direction,
                indicator.frequency,
                indicator.tolerance_percent,
                data.baseline.value if data.baseline else None,
                data.baseline.year if data.baseline else None,
                indicator.region,
                None,
            )
            or old_targets != data.targets
        )
    indicator.baseline_value = data.baseline.value if data.baseline else None
    indicator.baseline_year = data.baseline.year if data.baseline else None
    if project is not None:
        before_directory = (
            indicator.region,
            indicator.sector_number,
            indicator.responsible_department_id,
        )
        _apply_project(indicator, project)
        changed = changed or before_directory != (
            indicator.region,
            indicator.sector_number,
            indicator.responsible_department_id,
        )
    await session.flush()
    if created or old_targets != data.targets:
        await _replace_targets(session, indicator.id, data.targets)
        await session.flush()
    if not data.announce_overdue:
        # Also when nothing else changed: deadlines pass between loads, and reloading the
        # same plan settles the periods that have become history since.
        await record_history_announced(
            await driver_connection(session),
            indicator.id,
            data.targets,
            data.frequency,
            today,
            deadline_days,
        )
    await session.refresh(indicator)
    if changed:
        event_class = IndicatorCreated if created else IndicatorUpdated
        uow.publish(event_class(**snapshot(indicator, data.targets)))
        log.info("indicator saved", indicator_id=str(indicator.id), created=created)
    if not created:
        await _rejudge_if_replanned(uow, indicator, plan_before, data.targets, now)
    return to_public(indicator, data.targets, project is not None), created


async def update_indicator(
    uow: UnitOfWork, indicator_id: UUID, data: IndicatorUpdate, now: datetime
) -> IndicatorPublic:
    """Apply a partial change and announce it when something changed; a changed plan
    re-evaluates the values already reported."""
    session = uow.session
    indicator = await get_indicator(session, indicator_id, lock=True)
    targets = (await targets_of(session, [indicator_id])).get(indicator_id, {})
    changes = data.model_dump(exclude_unset=True)
    new_targets = data.targets if data.targets is not None else targets
    try:
        check_percent_targets(data.unit or indicator.unit, new_targets)
    except ValueError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "targets", "message": str(exc)}]) from exc
    if data.name is not None and data.name != indicator.name:
        clash = await session.scalar(
            select(Indicator.id).where(
                Indicator.project_id == indicator.project_id,
                Indicator.name == data.name,
                Indicator.id != indicator_id,
            )
        )
        if clash is not None:
            raise Unprocessable(
                "the project already has an indicator of this name",
                errors=[{"field": "name", "message": f"taken by indicator {clash}"}],
            )
    before = {field: getattr(indicator, field) for field in DEFINITION_FIELDS}
    before_baseline = (indicator.baseline_value, indicator.baseline_year)
    plan_before = _plan_of(indicator, targets)
    for field in DEFINITION_FIELDS:
        if field in changes and changes[field] is not None:
            value = getattr(data, field)
            setattr(indicator, field, value.value if hasattr(value, "value") else value)
    if "baseline" in changes:
        indicator.baseline_value = data.baseline.value if data.baseline else None
        indicator.baseline_year = data.baseline.year if data.baseline else None
    changed = (
        before != {field: getattr(indicator, field) for field in DEFINITION_FIELDS}
        or before_baseline != (indicator.baseline_value, indicator.baseline_year)
        or new_targets != targets
    )
    if new_targets != targets:
        await _replace_targets(session, indicator_id, new_targets)
    await session.flush()
    await session.refresh(indicator)
    if changed:
        uow.publish(IndicatorUpdated(**snapshot(indicator, new_targets)))
        log.info("indicator updated", indicator_id=str(indicator_id))
    await _rejudge_if_replanned(uow, indicator, plan_before, new_targets, now)
    project_known = await _project(session, indicator.project_id) is not None
    return to_public(indicator, new_targets, project_known)


async def archive_indicator(uow: UnitOfWork, indicator_id: UUID, now: datetime) -> None:
    """Archive an indicator: it leaves lists, scans and summaries; its history stays."""
    indicator = await get_indicator(uow.session, indicator_id, lock=True)
    indicator.archived_at = now
    await uow.session.flush()
    targets = (await targets_of(uow.session, [indicator_id])).get(indicator_id, {})
    uow.publish(IndicatorUpdated(**snapshot(indicator, targets)))
    log.info("indicator archived", indicator_id=str(indicator_id))


async def read_indicator(
    session: AsyncSession, indicator_id: UUID, principal: Principal
) -> IndicatorPublic:
    """One indicator with its targets and current status, if the principal may see it."""
    indicator = await get_indicator(session, indicator_id)
    ensure_visible(
        principal, indicator.region, indicator.sector_number, what=f"indicator {indicator_id}"
    )
    targets = (await targets_of(session, [indicator_id])).get(indicator_id, {})
    return to_public(indicator, targets, await _project(session, indicator.project_id) is not None)


def _filtered(query, *, region, project_id, department_id, sectors, status):
    query = query.where(Indicator.archived_at.is_(None))
    if region is not None:
        query = query.where(Indicator.region == region)
    if project_id is not None:
        query = query.where(Indicator.project_id == project_id)
    if department_id is not None:
        query = query.where(Indicator.responsible_department_id == department_id)
    if sectors is not None:
        query = query.where(Indicator.sector_number.in_(sectors))
    if status == "no_data":
        query = query.where(Indicator.current_status.is_(None))
    elif status is not None:
        query = query.where(Indicator.current_status == status)
    return query


async def list_indicators(
    session: AsyncSession,
    page: PageParams,
    *,
    region: str | None = None,
    project_id: UUID | None = None,
    department_id: UUID | None = None,
    sectors: list[int] | None = None,
    status: StatusFilter | None = None,
) -> Page[IndicatorPublic]:
    """Indicators matching every given filter, by region, sector and name."""
    filters = dict(
        region=region,
        project_id=project_id,
        department_id=department_id,
        sectors=sectors,
        status=status,
    )
    total = await session.scalar(_filtered(select(func.count()).select_from(Indicator), **filters))
    rows = (
        (
            await session.exec(
                _filtered(select(Indicator), **filters)
                .order_by(
                    Indicator.region,
                    nulls_last(Indicator.sector_number),
                    Indicator.name,
                    Indicator.id,
                )
                .limit(page.limit)
                .offset(page.offset)
            )
        )
        .scalars()
        .all()
    )
    return await _page(session, rows, total, page)


async def _page(session: AsyncSession, rows, total: int, page: PageParams) -> Page[IndicatorPublic]:
    ids = [row.id for row in rows]
    targets = await targets_of(session, ids)
    known = set(
        (
            await session.exec(
                select(DirectoryProject.project_id).where(
                    DirectoryProject.project_id.in_({row.project_id for row in rows})
                )
            )
        ).scalars()
    )
    items = [to_public(row, targets.get(row.id, {}), row.project_id in known) for row in rows]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


async def behind_list(
    session: AsyncSession,
    page: PageParams,
    *,
    region: str | None = None,
    department_id: UUID | None = None,
    sectors: list[int] | None = None,
    include_at_risk: bool = False,
) -> Page[IndicatorPublic]:
    """The coordinator's list: indicators behind (optionally at risk too), worst gap first."""
    statuses = [Status.behind.value] + ([Status.at_risk.value] if include_at_risk else [])
    filters = dict(
        region=region, project_id=None, department_id=department_id, sectors=sectors, status=None
    )
    condition = Indicator.current_status.in_(statuses)
    total = await session.scalar(
        _filtered(select(func.count()).select_from(Indicator), **filters).where(condition)
    )
    rows = (
        (
            await session.exec(
                _filtered(select(Indicator), **filters)
                .where(condition)
                .order_by(
                    nulls_last(Indicator.current_gap_percent.asc()),
                    Indicator.current_gap.asc(),
                    Indicator.id,
                )
                .limit(page.limit)
                .offset(page.offset)
            )
        )
        .scalars()
        .all()
    )
    return await _page(session, rows, total, page)


async def summary(
    session: AsyncSession,
    group_by: GroupBy,
    region: str | None = None,
    sectors: list[int] | None = None,
) -> Summary:
    """Counts of indicators by current status per region, sector, department or project."""
    key_column = {
        "region": None,
        "sector": Indicator.sector_number,
        "department": Indicator.responsible_department_id,
        "project": Indicator.project_id,
    }[group_by]
    columns = [Indicator.region] + ([key_column] if key_column is not None else [])
    query = select(*columns, Indicator.current_status, func.count()).where(
        Indicator.archived_at.is_(None)
    )
    if region is not None:
        query = query.where(Indicator.region == region)
    if sectors is not None:
        query = query.where(Indicator.sector_number.in_(sectors))
    rows = (await session.exec(query.group_by(*columns, Indicator.current_status))).all()
    groups: dict[tuple[str, str | None], StatusCounts] = defaultdict(StatusCounts)
    totals = StatusCounts()
    for row in rows:
        group_region = row[0]
        key = str(row[1]) if key_column is not None and row[1] is not None else None
        status, count = row[-2], row[-1]
        counts = groups[(group_region, key)]
        for target in (counts, totals):
            name = status or "no_data"
            setattr(target, name, getattr(target, name) + count)
            target.total += count
    names = await _group_names(session, group_by, [key for _, key in groups if key is not None])
    return Summary(
        group_by=group_by,
        groups=[
            SummaryGroup(region=r, key=k, name=names.get((r, k)), counts=c)
            for (r, k), c in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or ""))
        ],
        totals=totals,
    )


async def _group_names(session: AsyncSession, group_by: GroupBy, keys: list[str]) -> dict:
    """Display names of summary groups from the directory read model."""
    if group_by == "department" and keys:
        rows = await session.exec(
            select(DirectoryDepartment).where(
                DirectoryDepartment.department_id.in_([UUID(k) for k in keys])
            )
        )
        return {(d.region, str(d.department_id)): d.short_name for d in rows.scalars()}
    if group_by == "project" and keys:
        rows = await session.exec(
            select(DirectoryProject).where(DirectoryProject.project_id.in_([UUID(k) for k in keys]))
        )
        return {(p.region, str(p.project_id)): p.name for p in rows.scalars()}
    if group_by == "sector":
        rows = await session.exec(
            select(
                DirectoryProject.region,
                DirectoryProject.sector_number,
                DirectoryProject.sector_name,
            ).distinct()
        )
        return {(r, str(n)): name for r, n, name in rows.all()}
    return {}


async def refresh_from_project(uow: UnitOfWork, project: DirectoryProject) -> int:
    """Copy a project's region, sector and department onto its indicators; announce changes."""
    session = uow.session
    indicators = (
        (
            await session.exec(
                select(Indicator)
                .where(Indicator.project_id == project.project_id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    changed = [
        indicator
        for indicator in indicators
        if (indicator.region, indicator.sector_number, indicator.responsible_department_id)
        != (project.region, project.sector_number, project.responsible_department_id)
    ]
    if not changed:
        return 0
    for indicator in changed:
        _apply_project(indicator, project)
    await session.flush()
    targets = await targets_of(session, [i.id for i in changed])
    for indicator in changed:
        await session.refresh(indicator)
        uow.publish(IndicatorUpdated(**snapshot(indicator, targets.get(indicator.id, {}))))
    log.info(
        "indicators follow their project", project_id=str(project.project_id), count=len(changed)
    )
    return len(changed)
