"""Read-model lookups shared by the handlers of one consumed batch, against real PostgreSQL."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from sqlalchemy import event

from common.db import UnitOfWork, create_engine, session_factory
from common.events import DepartmentUpserted, Direction, IndicatorCreated, MeasurementRecorded
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
            # A new transaction reads afresh.
            assert (await read_model(uow.session, Department, department_id)).short_name == "КИО"
    finally:
        await engine.dispose()


async def test_keeping_a_value_reads_its_indicator_and_a_late_older_revision_loses(
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
            await upsert_indicator(uow.session, indicator(indicator_id), now)
            await uow.commit()
        async with UnitOfWork(sessions, source="test") as uow:
            await record_value(uow.session, measured("41", 2), now)
            await record_value(uow.session, measured("30", 1), now)
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
