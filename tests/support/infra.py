"""Where the real infrastructure is, and throwaway databases on it."""

import asyncio
import os
from pathlib import Path
from uuid import uuid4

import asyncpg

from common.migrations import upgrade_to_head

REPO = Path(__file__).resolve().parents[2]
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://strategy:strategy@127.0.0.1:5432/postgres"
)
KAFKA_BOOTSTRAP_SERVERS = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("SMTP_PORT", "1025"))
MAIL_API_URL = os.environ.get("MAIL_API_URL", "http://127.0.0.1:8025")


def migrations_of(service: str) -> Path:
    """The Alembic script location of a service."""
    return REPO / "services" / service / "src" / service / "migrations"


async def create_database(service: str) -> tuple[str, str]:
    """A new empty database migrated to the service's head; returns (name, SQLAlchemy URL)."""
    name = f"test_{service}_{uuid4().hex[:12]}"
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    # Alembic's env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(upgrade_to_head, migrations_of(service), url)
    return name, url


async def drop_database(name: str) -> None:
    """Drop a test database, disconnecting whoever still uses it."""
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        # An autovacuum worker that starts between FORCE's disconnect and the drop makes it fail
        # with "being accessed by other users", or, when FORCE tries to signal that worker,
        # with "must be a member of the role whose process is being terminated" (the role is
        # not a superuser); either way the worker is gone a moment later.
        for attempt in range(10):
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            except (asyncpg.ObjectInUseError, asyncpg.InsufficientPrivilegeError):
                if attempt == 9:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await conn.close()
