"""Each service's migrations build exactly the schema its models describe."""

import importlib
import pkgutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

pytestmark = pytest.mark.integration

SERVICES = ["projects", "indicators", "notifications"]
MODELS_SCHEMA = "from_models"


def service_metadata(service: str) -> MetaData:
    """Every table the service's models declare."""
    package = importlib.import_module(service)
    # Every domain's models module registers its tables (some are used through SQL only).
    for module in pkgutil.walk_packages(package.__path__, f"{service}."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)
    metadata = importlib.import_module(f"{service}.tables").TableBase.metadata
    assert metadata.tables, "the service's tables are registered"
    return metadata


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_and_models_agree(database_factory, service):
    metadata = service_metadata(service)
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


_INDEXES = text(
    "SELECT tablename, indexname, replace(indexdef, schemaname || '.', '') AS definition "
    "FROM pg_indexes WHERE schemaname = :schema AND tablename = ANY(:tables)"
)


@pytest.mark.parametrize("service", SERVICES)
async def test_indexes_of_migrations_and_models_agree_to_the_predicate(database_factory, service):
    """Alembic's comparison ignores a partial index's WHERE; PostgreSQL's own rendering does not.

    The models' tables are created beside the migrated ones, in a schema of their own, and the
    two sets of index definitions, as PostgreSQL prints them, must be the same.
    """
    metadata = service_metadata(service)
    url = await database_factory(service)
    tables = list(metadata.tables)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {MODELS_SCHEMA}"))
            translated = await conn.execution_options(schema_translate_map={None: MODELS_SCHEMA})
            await translated.run_sync(metadata.create_all)
            migrated, modelled = [
                {
                    tuple(row)
                    for row in await conn.execute(_INDEXES, {"schema": schema, "tables": tables})
                }
                for schema in ("public", MODELS_SCHEMA)
            ]
    finally:
        await engine.dispose()
    assert migrated, "the migrated tables have indexes"
    assert migrated == modelled
