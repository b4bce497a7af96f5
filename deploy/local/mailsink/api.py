"""The HTTP side of the sink: the subset of Mailpit's REST API (v1) that tests use."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from .smtp import Chaos
from .store import JSON, MailStore, StoredMessage

VERSION = "mailsink-1"


def _int_param(request: Request, name: str, default: int) -> int:
    # Mailpit ignores values it cannot parse instead of rejecting the request.
    try:
        value = int(request.query_params.get(name, ""))
    except ValueError:
        return default
    return value if value >= 0 else default


def _not_found() -> PlainTextResponse:
    return PlainTextResponse("404 page not found", status_code=404)


def _bad_request(message: str) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=400)


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    return json.loads(raw) if raw.strip() else None


def create_app(store: MailStore, chaos: Chaos) -> FastAPI:
    """Build the HTTP app; every handler is async so it runs on the loop that serves SMTP."""
    app = FastAPI(title="mailsink", version=VERSION, docs_url=None, redoc_url=None)
    started = time.monotonic()

    def page(request: Request, matching: list[StoredMessage]) -> JSON:
        start = _int_param(request, "start", 0)
        limit = _int_param(request, "limit", 50)
        messages = [message.summary() for message in matching[start : start + limit]]
        return {
            "total": len(store),
            "unread": store.unread(),
            "count": len(messages),
            "messages_count": len(matching),
            "messages_unread": sum(1 for message in matching if not message.read),
            "start": start,
            "tags": [],
            "messages": messages,
        }

    def with_message(message_id: str, render: Callable[[StoredMessage], Response]) -> Response:
        message = store.get(message_id)
        return _not_found() if message is None else render(message)

    @app.get("/api/v1/messages")
    async def list_messages(request: Request) -> JSON:
        """List messages, newest first, paginated with start and limit."""
        return page(request, store.newest_first())

    @app.delete("/api/v1/messages")
    async def delete_messages(request: Request) -> PlainTextResponse:
        """Delete the messages whose IDs are given, or all of them."""
        try:
            body = await _json_body(request)
        except ValueError:
            body = None  # Mailpit deletes everything when the body does not decode.
        ids = body.get("IDs") if isinstance(body, dict) else None
        store.delete([str(i) for i in ids] if isinstance(ids, list) and ids else None)
        return PlainTextResponse("ok")

    @app.get("/api/v1/search")
    async def search(request: Request) -> Response:
        """List the messages matching a query (to:, from:, cc:, bcc:, subject:, is:, words)."""
        query = request.query_params.get("query", "").strip()
        if not query:
            return _bad_request("no search query")
        return JSONResponse(page(request, [m for m in store.newest_first() if m.matches(query)]))

    @app.delete("/api/v1/search")
    async def delete_search(request: Request) -> PlainTextResponse:
        """Delete the messages matching a query."""
        query = request.query_params.get("query", "").strip()
        if not query:
            return _bad_request("no search query")
        store.delete([m.id for m in store.newest_first() if m.matches(query)])
        return PlainTextResponse("ok")

    @app.get("/api/v1/message/{message_id}")
    async def get_message(message_id: str) -> Response:
        """One message with bodies and addresses; marks it read, as Mailpit does."""

        def render(message: StoredMessage) -> Response:
            store.mark_read(message)
            return JSONResponse(message.detail())

        return with_message(message_id, render)

    @app.get("/api/v1/message/{message_id}/headers")
    async def get_headers(message_id: str) -> Response:
        """The message headers as lists of raw values by canonical name."""
        return with_message(message_id, lambda m: JSONResponse(m.headers()))

    @app.get("/api/v1/message/{message_id}/raw")
    async def get_raw(message_id: str) -> Response:
        """The message source as stored."""
        return with_message(message_id, lambda m: Response(m.raw, media_type="text/plain"))

    @app.get("/api/v1/message/{message_id}/part/{part_id}")
    async def get_part(message_id: str, part_id: str) -> Response:
        """One attachment or inline part, decoded, with its own content type."""

        def render(message: StoredMessage) -> Response:
            part = message.part(part_id)
            if part is None:
                return _not_found()
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            return Response(data, media_type=part.get_content_type())

        return with_message(message_id, render)

    @app.get("/api/v1/chaos")
    async def get_chaos() -> JSON:
        """The current chaos triggers."""
        return chaos.as_json()

    @app.put("/api/v1/chaos")
    async def set_chaos(request: Request) -> Response:
        """Replace the chaos triggers; omitted triggers are disabled, {} disables all."""
        try:
            body = await _json_body(request)
            chaos.configure(body if isinstance(body, dict) else {})
        except (ValueError, TypeError) as error:
            return _bad_request(str(error))
        return JSONResponse(chaos.as_json())

    @app.get("/api/v1/info")
    async def info() -> JSON:
        """Totals and runtime facts, in the shape of Mailpit's info endpoint."""
        return {
            "Version": VERSION,
            "LatestVersion": "",
            "Database": "",
            "DatabaseSize": 0,
            "Messages": len(store),
            "Unread": store.unread(),
            "Tags": {},
            "RuntimeStats": {"Uptime": int(time.monotonic() - started)},
        }

    @app.get("/livez")
    async def livez() -> PlainTextResponse:
        """Liveness, as Mailpit's /livez."""
        return PlainTextResponse("ok")

    @app.get("/readyz")
    async def readyz() -> PlainTextResponse:
        """Readiness: SMTP listens before HTTP starts, so answering means both are up."""
        return PlainTextResponse("ok")

    return app
