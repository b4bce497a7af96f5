"""HTTP hygiene every service gets: bounded request bodies and defensive response headers."""

import json
from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.logging import get_logger
from common.problems import PROBLEM_JSON, problem_response

log = get_logger(__name__)

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# The API answers JSON only; the interactive docs need scripts and styles, so they are spared.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")


class BodyTooLarge(HTTPException):
    """The request body passed the limit while it was being read (a chunked upload).

    An HTTPException, because FastAPI turns any other error raised while it reads a body into 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is limited to {limit} bytes.")


class HttpGuardsMiddleware:
    """Refuses bodies over their limit with 413 and adds security headers to every response.

    A body may have `max_body_bytes`, or on a path of `path_limits` that path's own limit
    (a bulk import carries more than any other request).
    """

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.max_body_bytes)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = message.setdefault("headers", [])
                headers.extend(SECURITY_HEADERS)
                # A page for people (an emailed link's) brings a policy of its own.
                own_policy = any(name.lower() == API_CSP[0] for name, _ in headers)
                if not own_policy and not scope["path"].startswith(DOCS_PATHS):
                    headers.append(API_CSP)
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            # Unexpected errors are answered here, not by Starlette's outermost error handler,
            # so the 500 carries the security headers (and the request id) like every answer.
            if started:
                raise
            log.exception("unhandled error", path=scope["path"])
            response = problem_response(
                500, "Internal error; it has been logged.", instance=scope["path"]
            )
            await response(scope, receive, guarded_send)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Content Too Large",
                "status": 413,
                "detail": f"The request body is limited to {limit} bytes.",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
