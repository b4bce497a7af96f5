"""The request log line: the path as requested, but a token in the path stays out of the logs."""

import logging

import httpx
import pytest
from fastapi import FastAPI

from common.logging import configure_logging
from common.web import RequestContextMiddleware


def app_with(*paths: str) -> FastAPI:
    app = FastAPI()
    for path in paths:
        app.add_api_route(path, lambda: {"ok": True}, methods=["GET"])
    app.add_middleware(RequestContextMiddleware)
    return app


async def logged_paths(app: FastAPI, caplog: pytest.LogCaptureFixture, *requested: str) -> list:
    # As every service logs: structlog through the standard library, whose records caplog sees.
    configure_logging("tests", "INFO", json=True)
    logging.getLogger().addHandler(caplog.handler)  # configuring replaced the root's handlers
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for path in requested:
            assert (await client.get(path)).status_code == 200
    return [
        record.msg["path"]
        for record in caplog.records
        if isinstance(record.msg, dict) and record.msg.get("event") == "http request"
    ]


async def test_a_token_in_the_path_is_logged_as_its_route(caplog):
    app = app_with("/api/v1/ack/{token}", "/api/v1/alerts/{alert_id}")
    secret = "eyJhbGciOiJIUzI1NiJ9.eyJhbGVydCI6IjEifQ.c2lnbmF0dXJl"
    assert await logged_paths(app, caplog, f"/api/v1/ack/{secret}", "/api/v1/alerts/42") == [
        "/api/v1/ack/{token}",
        "/api/v1/alerts/42",
    ]
