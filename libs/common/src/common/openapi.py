"""The OpenAPI document tells the truth about errors: every one is problem+json, documented.

FastAPI documents only the 422 of its own validation, with a schema we never send. Clients and
contract tests (schemathesis in `make test`) need every status a route can answer listed, with
the shape it really has, so the document is completed once here for every service.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from common.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per invalid field or row",
            "items": {"type": "object", "additionalProperties": True},
        },
    },
    "additionalProperties": True,
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# Statuses any /api route may answer, whatever it does: authentication, authorization, limits.
EVERY_API_ROUTE = {
    401: "No valid bearer token",
    403: "The caller's role or scope does not allow this",
    422: "The input is invalid; `errors` names each field",
    429: "Too many requests from this caller; `Retry-After` says when to come back",
}
WITH_BODY = {
    400: "The body is not well-formed (e.g. broken JSON)",
    413: "The body (or its number of rows) is larger than allowed",
    415: "The body's content type is not accepted",
}
WITH_PATH_PARAMETERS = {404: "The object does not exist or is not visible to the caller"}
RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying",
        "schema": {"type": "integer"},
    }
}


def install_problem_documentation(app: FastAPI) -> None:
    """Make `app.openapi()` list every error status of each route as problem+json."""
    app.openapi = _documenting(app)  # type: ignore[method-assign]


def _documenting(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_error_responses(FastAPI.openapi(app))
        return app.openapi_schema

    return openapi


def complete_error_responses(document: dict[str, Any]) -> dict[str, Any]:
    """Every error response of every /api operation becomes problem+json, standard ones added."""
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            _complete_operation(path, method, operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    # FastAPI's validation-error shapes are never sent: our handler answers problem+json.
    _drop_unreferenced(document, ("HTTPValidationError", "ValidationError"))
    return document


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    expected = dict(EVERY_API_ROUTE)
    if "security" not in operation:
        # An anonymous route (the token endpoint) checks no bearer token and no role; a 401 it
        # answers for other reasons is declared by the route itself.
        expected.pop(401)
        expected.pop(403)
    if method in {"post", "put", "patch"}:
        expected.update(WITH_BODY)
    if "{" in path:
        expected.update(WITH_PATH_PARAMETERS)
    for status, description in expected.items():
        responses.setdefault(str(status), {"description": description})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            _as_problem(response)
            if status == "429":
                response.setdefault("headers", {}).update(RETRY_AFTER_HEADER)


def _as_problem(response: dict[str, Any]) -> None:
    examples = [
        media["example"]
        for media in response.get("content", {}).values()
        if isinstance(media, dict) and "example" in media
    ]
    media: dict[str, Any] = {"schema": PROBLEM_REF}
    if examples:
        media["example"] = examples[0]
    # A page for people (an emailed link's) answers its own errors as HTML; the guards in front
    # of every route (rate limit, body size) still answer problem+json.
    pages = {k: v for k, v in response.get("content", {}).items() if k == "text/html"}
    response["content"] = {PROBLEM_JSON: media, **pages}


def _drop_unreferenced(document: dict[str, Any], names: tuple[str, ...]) -> None:
    schemas = document["components"]["schemas"]
    text = repr(document.get("paths", {}))
    for name in names:
        if f"#/components/schemas/{name}'" not in text:
            schemas.pop(name, None)
