"""Database access: one async engine per service and a unit of work owning each transaction."""

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import registry
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from common.events import IntegrationEvent
from common.messaging.outbox import add_to_outbox


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An asyncpg-backed engine that survives database restarts (pre-ping)."""
    return create_async_engine(
        database_url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


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
