"""Bring the projects database to the latest schema and ensure the bootstrap admin exists."""

import asyncio
from pathlib import Path

from common.db import UnitOfWork, create_engine, session_factory
from common.logging import configure_logging
from common.migrations import upgrade_to_head
from projects.config import Settings
from projects.identity.service import upsert_bootstrap_admin


async def ensure_bootstrap_admin(settings: Settings) -> None:
    """Create or restore the admin named by the settings (a no-op when none is configured)."""
    if settings.bootstrap_admin_email is None or settings.bootstrap_admin_password is None:
        return
    engine = create_engine(settings.database_url, pool_size=1)
    try:
        async with UnitOfWork(session_factory(engine), source=settings.service_name) as uow:
            await upsert_bootstrap_admin(
                uow,
                settings.bootstrap_admin_email,
                settings.bootstrap_admin_password.get_secret_value(),
            )
            await uow.commit()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    upgrade_to_head(Path(__file__).parent / "migrations", settings.database_url)
    asyncio.run(ensure_bootstrap_admin(settings))
