"""The notifications migrations build exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

import notifications.main  # noqa: F401 - registers every table of the service
from notifications.alerts.models import Alert

pytestmark = pytest.mark.integration


async def test_migrations_and_models_agree(database_factory):
    url = await database_factory("notifications")
    metadata = Alert.metadata

    def ours(name, type_, parent_names) -> bool:
        # The shared outbox and inbox come from the common revision and are checked there.
        return type_ != "table" or name in metadata.tables

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync, opts={"compare_type": True, "include_name": ours}
                    ),
                    metadata,
                )
            )
    finally:
        await engine.dispose()
    assert diff == []
