"""What the routers answer: pages, upsert statuses, and the documented problem+json answers."""

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Response, status

from common.pagination import Page, PageParams

T = TypeVar("T")


def _problem(description: str, example: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"example": example}},
    }


NOT_FOUND = {
    404: _problem(
        "The object does not exist",
        {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "… does not exist"},
    )
}
UNAUTHORIZED = {
    401: _problem(
        "The credentials do not identify an active user or a live API key",
        {
            "type": "about:blank",
            "title": "Unauthorized",
            "status": 401,
            "detail": "Wrong credentials.",
        },
    )
}
FORBIDDEN = {
    403: _problem(
        "The caller's role does not allow this",
        {"type": "about:blank", "title": "Forbidden", "status": 403, "detail": "Admins only."},
    )
}
CONFLICT = {
    409: _problem(
        "A natural key is taken or the change is not allowed in the current state",
        {
            "type": "about:blank",
            "title": "Conflict",
            "status": 409,
            "detail": "Region 'leningrad-oblast' already exists",
            "errors": [{"field": "slug", "message": "already exists"}],
        },
    )
}
INVALID = {
    422: _problem(
        "The input is invalid; `errors` names each field",
        {
            "type": "about:blank",
            "title": "Invalid request",
            "status": 422,
            "detail": "region: unknown region 'atlantis'",
            "errors": [{"field": "region", "message": "unknown region 'atlantis'"}],
        },
    )
}


def page_of(rows: Sequence[Any], total: int, page: PageParams, view: Callable[[Any], T]) -> Page[T]:
    """A response page: each row through its public view, with the total and the slice asked."""
    return Page(
        items=[view(row) for row in rows], total=total, limit=page.limit, offset=page.offset
    )


def upsert_status(response: Response, created: bool) -> None:
    """PUT answers 201 when it created the object, 200 when it was there (changed or not)."""
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
