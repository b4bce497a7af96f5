"""Alembic, shared: each service keeps its own revisions; the mechanics live here once."""

import asyncio
import os
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import pool
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from common.messaging.outbox import NOTIFY_CHANNEL

# Serialises concurrent prestarts of several replicas against one database.
MIGRATION_LOCK_ID = 0x6D696772


SHARED_VERSIONS = Path(__file__).parent / "migration_versions"


def alembic_config(script_location: Path, database_url: str) -> Config:
    """An in-memory Alembic config: the shared messaging revision plus the service's own."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    locations = [SHARED_VERSIONS, script_location / "versions"]
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join(str(p) for p in locations if p.is_dir())
    )
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(script_location: Path, database_url: str) -> None:
    """Apply every pending revision (the prestart step)."""
    command.upgrade(alembic_config(script_location, database_url), "head")


def run_env(target_metadata: sa.MetaData | None = None) -> None:
    """The body of every service's migrations/env.py (online mode, asyncpg)."""

    def migrate(connection: Connection) -> None:
        connection.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK_ID)))
        try:
            context.configure(connection=connection, target_metadata=target_metadata)
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK_ID)))

    async def run() -> None:
        url = context.config.get_main_option("sqlalchemy.url")
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
            await connection.commit()
        await engine.dispose()

    asyncio.run(run())


def create_messaging_tables() -> None:
    """Create the outbox (with its NOTIFY trigger) and the inbox; call from a service revision."""
    op.create_table(
        "outbox_messages",
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("topic", sa.String, nullable=False),
        sa.Column("key", sa.String, nullable=False),
        sa.Column("event_type", sa.String, nullable=False),
        sa.Column("headers", JSONB, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String, nullable=True),
    )
    op.create_index(
        "ix_outbox_messages_pending",
        "outbox_messages",
        ["seq"],
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.execute(f"""
        CREATE FUNCTION notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('{NOTIFY_CHANNEL}', ''); RETURN NULL; END $$;
    """)
    # Per statement, so a bulk insert wakes the relay once, not once per row.
    op.execute("""
        CREATE TRIGGER outbox_messages_notify AFTER INSERT ON outbox_messages
        FOR EACH STATEMENT EXECUTE FUNCTION notify_outbox();
    """)
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def drop_messaging_tables() -> None:
    """Undo create_messaging_tables."""
    op.drop_table("processed_events")
    op.execute("DROP TRIGGER IF EXISTS outbox_messages_notify ON outbox_messages")
    op.execute("DROP FUNCTION IF EXISTS notify_outbox()")
    op.drop_table("outbox_messages")
