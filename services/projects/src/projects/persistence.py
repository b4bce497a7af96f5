"""Rows: change detection for idempotent upserts, unique keys answered as 409, paging, stamps."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, DateTime, Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from common.pagination import PageParams
from common.problems import Conflict

T = TypeVar("T")


@dataclass(frozen=True)
class Upserted(Generic[T]):
    """The row an upsert left, whether it is new, changed, and (for named rows) renamed."""

    row: T
    created: bool
    changed: bool
    renamed: bool = False


def apply_changes(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; True when anything changed (re-loads stay no-ops)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


async def flush_or_conflict(session: AsyncSession, detail: str, field: str) -> None:
    """Flush now, so a natural key taken meanwhile by a concurrent writer answers 409, not 500."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if getattr(exc.orig, "sqlstate", None) != "23505":
            raise
        raise Conflict(detail, errors=[{"field": field, "message": "already exists"}]) from exc


async def paginate(
    session: AsyncSession, query: Select, page: PageParams, *order: Any
) -> tuple[list[Any], int]:
    """One page of a query's rows in the given order, and how many rows the whole query has."""
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.exec(query.order_by(*order).limit(page.limit).offset(page.offset))
    return list(rows.scalars()), total


def created_at_field() -> Any:
    """A created_at column the database fills."""
    return Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def updated_at_field() -> Any:
    """An updated_at column the database fills and every UPDATE refreshes."""
    return Field(
        default=None,
        sa_column=Column(
            DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()
        ),
    )


async def find_by(
    session: AsyncSession, model: type[T], *, lock: bool = False, **key: Any
) -> T | None:
    """The row whose columns equal `key` (a natural key), locked for update when asked."""
    query = select(model).filter_by(**key)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).scalars().one_or_none()
