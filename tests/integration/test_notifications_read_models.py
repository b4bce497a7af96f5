"""Read-model lookups shared by the handlers of one consumed batch, against real PostgreSQL."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from common.db import UnitOfWork, create_engine, session_factory
from common.events import DepartmentUpserted
from notifications.directory.models import Department
from notifications.directory.service import read_model, upsert_department

pytestmark = pytest.mark.integration


def department(department_id, short_name: str) -> DepartmentUpserted:
    return DepartmentUpserted(
        department_id=department_id,
        region="leningrad-oblast",
        full_name=f"Комитет {short_name}",
        short_name=short_name,
        emails=[f"{short_name.lower()}@lenreg.example.ru"],
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
