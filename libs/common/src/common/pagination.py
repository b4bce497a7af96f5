"""Paging for list endpoints: limit/offset with a cap, answered with the total."""

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

MAX_PAGE_SIZE = 200
# Far beyond any list here, and inside PostgreSQL's bigint so a huge offset is a 422, not a 500.
MAX_OFFSET = 1_000_000_000
T = TypeVar("T")


class PageParams(BaseModel):
    """Which slice of a list the caller wants."""

    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    """Read limit and offset from the query string."""
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list with the size of the whole list."""

    items: list[T]
    total: int
    limit: int
    offset: int
