"""PostgreSQL of the local stack: the strategy role, its databases, and throwaway databases."""

from __future__ import annotations

from uuid import uuid4

import asyncpg
import pytest

from tests.support.infra import POSTGRES_ADMIN_URL, drop_database

pytestmark = pytest.mark.integration

SERVER = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]


@pytest.mark.parametrize("database", ["projects", "indicators", "notifications"])
async def test_each_service_database_exists_and_belongs_to_strategy(database: str) -> None:
    connection = await asyncpg.connect(f"{SERVER}/{database}")
    try:
        owner = await connection.fetchval(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
        )
        assert owner == "strategy"
    finally:
        await connection.close()


async def test_strategy_role_can_create_and_drop_throwaway_databases() -> None:
    name = f"local_infra_{uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        scratch = await asyncpg.connect(f"{SERVER}/{name}")
        try:
            await scratch.execute("CREATE TABLE t (id int PRIMARY KEY)")
            await scratch.execute("INSERT INTO t VALUES (1)")
            assert await scratch.fetchval("SELECT count(*) FROM t") == 1
        finally:
            await scratch.close()
    finally:
        await admin.close()
        await drop_database(name)
