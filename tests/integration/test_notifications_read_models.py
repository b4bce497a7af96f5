"""Read-model lookups shared by the handlers of one consumed batch, against real PostgreSQL."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy import event

from common.db import UnitOfWork, create_engine, session_factory
from common.events import DepartmentUpserted, Direction, IndicatorCreated, MeasurementRecorded
from notifications.alerts.models import Alert
from notifications.directory.models import Department, Indicator
from notifications.directory.service import (
    read_model,
    recent_values,
    record_value,
    upsert_department,
    upsert_indicator,
)

pytestmark = pytest.mark.integration


def department(department_id, short_name: str) -> DepartmentUpserted:
    return DepartmentUpserted(
        department_id=department_id,
        region="leningrad-oblast",
        full_name=f"Комитет {short_name}",
        short_name=short_name,
        emails=[f"{short_name.lower()}@lenreg.example.ru"],
    )


def indicator(indicator_id) -> IndicatorCreated:
    return IndicatorCreated(
        indicator_id=indicator_id,
        project_id=uuid4(),
        region="leningrad-oblast",
        responsible_department_id=None,
        name="Доля учащихся",
        unit="%",
        direction=Direction.higher_is_better,
        targets={2023: Decimal("50")},
    )


async def test_a_department_is_read_once_per_transaction_until_its_own_upsert(database_factory):
    engine = create_engine(await database_factory("notifications"), pool_size=1)
    sessions = session_factory(engine)
    department_id, now = uuid4(), datetime.now(UTC)
    try:
        async with UnitOfWork(sessions, source="test") as uow:
            assert await read_model(uow.session, Department, department_id) is None
            await upsert_department(uow.session, department(department_id, "КЦР"), now)
            first = await read_model(uow.session, Department, department_id)
            assert first is not None and first.short_name == "КЦР"
            assert await read_model(uow.session, Department, department_id) is first

            await upsert_department(uow.session, department(department_id, "КИО"), now)
            renamed = await read_model(uow.session, Department, department_id)
            assert renamed is not None and renamed.short_name == "КИО"
            assert renamed.emails == ["кио@lenreg.example.ru"]
            await uow.commit()

        async with UnitOfWork(sessions, source="test") as uow:
            # A change not flushed yet is neither detached nor lost.
            changed = await uow.session.get(Department, department_id)
            assert changed.short_name == "КИО"  # a new transaction reads afresh
            changed.short_name = "КЦТ"
            assert await read_model(uow.session, Department, department_id) is changed
            await uow.commit()

        async with UnitOfWork(sessions, source="test") as uow:
            assert (await read_model(uow.session, Department, department_id)).short_name == "КЦТ"
    finally:
        await engine.dispose()


def overdue_report(indicator_id, period: str, now: datetime) -> Alert:
    return Alert(
        subject_type="indicator",
        subject_id=indicator_id,
        period=period,
        family="report",
        kind="report_overdue",
        state="open",
        region="leningrad-oblast",
        region_name="Ленинградская область",
        title="Доля учащихся",
        opened_at=now,
        updated_at=now,
    )


async def test_keeping_a_value_reads_its_indicator_and_says_whether_a_report_is_overdue(
    database_factory,
):
    engine = create_engine(await database_factory("notifications"), pool_size=1)
    sessions = session_factory(engine)
    indicator_id, now = uuid4(), datetime.now(UTC)

    def measured(value: str, revision: int) -> MeasurementRecorded:
        return MeasurementRecorded(
            measurement_id=uuid4(),
            indicator_id=indicator_id,
            region="leningrad-oblast",
            period="2023",
            value=Decimal(value),
            revision=revision,
            as_of=date(2024, 1, 10),
            reported_by="department:kcr",
        )

    try:
        async with UnitOfWork(sessions, source="test") as uow:
            # An indicator not known yet: whether an overdue report stands is not known either.
            assert await record_value(uow.session, measured("20", 0), now) is True
            await upsert_indicator(uow.session, indicator(indicator_id), now)
            # Known, and no overdue report of the period: nothing for the value to settle.
            assert await record_value(uow.session, measured("41", 2), now) is False
            uow.session.add(overdue_report(indicator_id, "2023", now))
            await uow.session.flush()
            assert await record_value(uow.session, measured("30", 1), now) is True
            # The indicator came with the value: no read of its own.
            reads = []
            event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: reads.append(a))
            remembered = await read_model(uow.session, Indicator, indicator_id)
            assert remembered is not None and remembered.name == "Доля учащихся"
            assert reads == []
            await uow.commit()
        async with UnitOfWork(sessions, source="test") as uow:
            [kept] = await recent_values(uow.session, indicator_id)
            assert (kept.value, kept.revision) == (Decimal("41"), 2)
    finally:
        await engine.dispose()
