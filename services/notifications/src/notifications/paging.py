"""Reading one page of a query together with the size of the whole result."""

from typing import Any

from sqlalchemy import Result, Select, func, select
from sqlmodel.ext.asyncio.session import AsyncSession


async def fetch_page(
    session: AsyncSession, query: Select, *order_by: Any, limit: int, offset: int
) -> tuple[Result, int]:
    """The rows of one page (in `order_by` order) and how many rows the query has in all."""
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.exec(query.order_by(*order_by).limit(limit).offset(offset))
    return rows, total or 0
