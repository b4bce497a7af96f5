"""Each service's migrations build exactly the schema its models describe."""

import importlib
import pkgutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", ["projects", "indicators", "notifications"])
async def test_migrations_and_models_agree(database_factory, service):
    package = importlib.import_module(service)
    # Every domain's models module registers its tables (some are used through SQL only).
    for module in pkgutil.walk_packages(package.__path__, f"{service}."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)
    metadata = importlib.import_module(f"{service}.tables").TableBase.metadata
    assert metadata.tables, "the service's tables are registered"
    url = await database_factory(service)

    def ours(name, type_, parent_names) -> bool:
        # The shared outbox, inbox and audit tables come from common revisions, checked there.
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
