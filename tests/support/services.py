"""Running a service under uvicorn against real infrastructure, restartably: in-process, or as
a process of its own that a test may kill."""

import asyncio
import os
import signal
import socket
import sys
import time
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
        return api_client(self.url, principal, **kwargs)


def api_client(url: str, principal: Principal | None = ADMIN, **kwargs: Any) -> httpx.AsyncClient:
    """An HTTP client of the service at `url`, acting as `principal` (None: no token)."""
    headers = dict(kwargs.pop("headers", None) or {})
    if principal is not None:
        headers = {**auth_headers(principal, expires_in=CLIENT_TOKEN_LIFETIME), **headers}
    return httpx.AsyncClient(base_url=url, timeout=30, headers=headers, **kwargs)


class ServiceProcess:
    """A service as production runs it, a uvicorn process of its own: `kill()` ends it the way
    a crash does, with no shutdown; `start()` again brings it back on the same port."""

    def __init__(self, app: str, env: dict[str, str]) -> None:
        self._app = app
        self._env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 120.0) -> "ServiceProcess":
        """Start the process and wait until its readiness probe answers 200."""
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "uvicorn", self._app, "--host", "127.0.0.1", "--port", str(self.port)),
            *("--log-level", "warning"),
            env={**os.environ, **self._env},
        )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self._process.returncode is not None:
                    raise RuntimeError(f"{self._app} exited with {self._process.returncode}")
                try:
                    if (await client.get("/health/ready")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        await self.kill()
        raise TimeoutError(f"{self._app} on {self.url} did not become ready")

    async def kill(self) -> None:
        """SIGKILL: whatever was in flight stays as it was, as after a crash or power loss."""
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self._process.wait(), 30)
        self._process = None

    def client(self, principal: Principal | None = ADMIN, **kwargs: Any) -> httpx.AsyncClient:
        """An HTTP client bound to this service, acting as `principal` (None: no token)."""
        return api_client(self.url, principal, **kwargs)
