"""Running a service in-process under uvicorn, against real infrastructure, restartably."""

import asyncio
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from common.security import Principal
from tests.support.auth import ADMIN, auth_headers

# Long enough for the slowest test to keep using one client; verification still checks it.
CLIENT_TOKEN_LIFETIME = timedelta(hours=2)


def free_port() -> int:
    """An unused TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening_socket(port: int = 0) -> socket.socket:
    """A loopback socket bound now, so no other process can take the port before the server."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


class RunningService:
    """A real uvicorn server for one app; start/stop run the app's full lifespan."""

    def __init__(self, app_factory: Callable[[], FastAPI]) -> None:
        self._app_factory = app_factory
        self._socket = listening_socket()
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.app: FastAPI | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> "RunningService":
        """Start serving and wait until the lifespan finished starting."""
        self.app = self._app_factory()
        config = uvicorn.Config(self.app, log_config=None, lifespan="on")
        self._server = uvicorn.Server(config)
        if self._socket is None:  # a restart binds the same port again
            self._socket = listening_socket(self.port)
        sockets, self._socket = [self._socket], None
        self._task = asyncio.create_task(self._server.serve(sockets=sockets))
        for _ in range(300):
            if self._server.started:
                return self
            if self._task.done():
                self._task.result()
                raise RuntimeError("server exited during start-up")
            await asyncio.sleep(0.05)
        raise TimeoutError(f"service on {self.url} did not start")

    async def stop(self) -> None:
        """Graceful shutdown, as on SIGTERM."""
        if self._server and self._task:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    def client(self, principal: Principal | None = ADMIN, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTP client bound to this service, acting as `principal` (None: no token)."""
        headers = dict(kwargs.pop("headers", None) or {})
        if principal is not None:
            headers = {**auth_headers(principal, expires_in=CLIENT_TOKEN_LIFETIME), **headers}
        return httpx.AsyncClient(base_url=self.url, timeout=30, headers=headers, **kwargs)
