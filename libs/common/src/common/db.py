"""Database access: one async engine per service and a unit of work owning each transaction."""

import time
from types import TracebackType
from typing import Any, Self

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from common.events import IntegrationEvent
from common.messaging.outbox import add_to_outbox

# A pooled connection idle longer than this is pinged before use; one in steady use is not.
# SQLAlchemy's pre-ping costs three round trips (BEGIN, ping, ROLLBACK with asyncpg) on every
# checkout, which under a stream of requests doubled the database round trips of a write.
PING_AFTER_IDLE_SECONDS = 5.0


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg-backed engine that survives database restarts.

    Connections idle for a while are pinged before use and replaced if dead. A connection that
    dies while in steady use fails its statement; SQLAlchemy then recognises the disconnect and
    replaces every connection the pool held before it. The pool hands out the most recently
    used connection first, so a light load keeps a few connections hot instead of cycling
    through (and pinging) all of them.
    """
    engine = create_async_engine(
        database_url, pool_size=pool_size, max_overflow=pool_size, pool_use_lifo=True
    )
    event.listen(engine.sync_engine.pool, "checkin", _remember_checkin)
    event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


def _remember_checkin(dbapi_connection: Any, record: Any) -> None:
    # `record.info` lives as long as the database connection: a replacement starts empty.
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    checked_in_at = record.info.get("checked_in_at")
    if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as exc:
        # The pool discards this connection and checks out a freshly opened one instead.
        raise DisconnectionError(f"pooled connection died while idle: {exc!r}") from exc


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


class UnitOfWork:
    """One transaction: everything added, outbox rows included, commits together or not at all."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, source: str) -> None:
        self._sessions = sessions
        self._source = source
        self._committed = False

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self._committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    @property
    def source(self) -> str:
        """The service this unit of work publishes events as (their CloudEvents source)."""
        return self._source

    def publish(self, event: IntegrationEvent) -> None:
        """Queue an integration event; it reaches Kafka only if this unit of work commits."""
        add_to_outbox(self.session, event, source=self._source)

    async def commit(self) -> None:
        """Commit the transaction."""
        await self.session.commit()
        self._committed = True


def table_base() -> type[SQLModel]:
    """A SQLModel base with a registry of its own.

    Each service derives its tables from one, so its metadata holds only its own tables even when
    several services are imported into one process (tests, tools) and name tables alike.
    """

    class TableBase(SQLModel, registry=registry()):
        pass

    return TableBase
