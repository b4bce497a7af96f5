"""RFC 9457 problem details: every error a client sees has the same JSON shape."""

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
log = structlog.get_logger(__name__)


class Problem(Exception):
    """A domain error that maps to one problem+json response."""

    status: int = 400
    title: str | None = None

    def __init__(
        self, detail: str, *, status: int | None = None, title: str | None = None, **extensions: Any
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.extensions = extensions


class NotFound(Problem):
    """The named object does not exist (or is not visible to the caller)."""

    status = 404


class Forbidden(Problem):
    """The caller is known but may not do this (role or scope)."""

    status = 403


class Conflict(Problem):
    """The request clashes with the current state (duplicate key, forbidden transition)."""

    status = 409


class Unprocessable(Problem):
    """Well-formed input that breaks a domain rule; `errors` names the fields."""

    status = 422


def problem_response(
    status: int,
    detail: str | None,
    *,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as {field, message} pairs naming the field by its dotted path."""
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        errors.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    return errors


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as problem+json; unexpected ones without internals."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            title=exc.title,
            headers=getattr(exc, "headers", None),
            instance=request.url.path,
            **exc.extensions,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            exc.status_code,
            str(exc.detail) if exc.detail else None,
            headers=getattr(exc, "headers", None),
            instance=request.url.path,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return problem_response(
            422, detail, title="Invalid request", errors=errors, instance=request.url.path
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        sqlstate = database_error_code(exc)
        # Class 22 ("data exception"): a value from the request the column cannot hold, such as
        # a number beyond its range or a NUL character in text. The client's error, not ours.
        if sqlstate.startswith("22"):
            log.warning("value refused by the database", path=request.url.path, sqlstate=sqlstate)
            return problem_response(
                422,
                "A value cannot be stored: a number is out of range or a text contains a "
                "character that is not allowed (such as NUL).",
                title="Invalid request",
                instance=request.url.path,
            )
        return _internal_error(request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request)


def _internal_error(request: Request) -> JSONResponse:
    log.exception("unhandled error", path=request.url.path)
    return problem_response(500, "Internal error; it has been logged.", instance=request.url.path)


def database_error_code(exc: DBAPIError) -> str:
    """The SQLSTATE behind a driver error ('' when the driver gave none)."""
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None)
        if code:
            return str(code)
    return ""
