"""Helpers for the tests of the local infrastructure (deploy/local): the stack script, a private
mail sink, and waiting for conditions."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from tests.support.infra import REPO
from tests.support.services import free_port

STACK = REPO / "deploy" / "local" / "stack.sh"
# stack.sh puts cluster node N on BASE+2(N-1); the base is overridable there and here alike.
_CLUSTER_BASE = int(os.environ.get("STACK_KAFKA_CLUSTER_BASE_PORT", "19092"))
CLUSTER_BOOTSTRAP = ",".join(f"127.0.0.1:{_CLUSTER_BASE + 2 * n}" for n in range(3))
T = TypeVar("T")


async def stack(*args: str, timeout: float = 300) -> str:
    """Run deploy/local/stack.sh with arguments; fail the test with its output if it fails."""
    process = await asyncio.create_subprocess_exec(
        str(STACK),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout)
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise AssertionError(f"stack.sh {' '.join(args)} exited {process.returncode}:\n{text}")
    return text


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 30) -> T:
    """Poll until probe returns something truthy and return it; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.2)


class PrivateMailSink:
    """A mailsink process of its own (free ports, own folder) for tests that change its state:
    chaos triggers and deleting everything must not disturb the shared sink of `make up`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.log_path = data_dir.parent / "mailsink.log"
        self.smtp_port = free_port()
        self.api_url = f"http://127.0.0.1:{free_port()}"
        self._process: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        with open(self.log_path, "ab") as log:
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mailsink",
                    "--smtp-port",
                    str(self.smtp_port),
                    "--http-port",
                    self.api_url.rsplit(":", 1)[1],
                    "--data-dir",
                    str(self.data_dir),
                ],
                env={**os.environ, "PYTHONPATH": str(REPO / "deploy" / "local")},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self) -> None:
        """Start the sink and wait until its API answers."""
        self._process = self._spawn()

        async def ready() -> bool:
            if self._process is not None and self._process.poll() is not None:
                raise AssertionError(f"private mailsink exited; see {self.log_path}")
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{self.api_url}/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(ready, "the private mailsink to answer", timeout=30)

    async def set_chaos(self, triggers: dict[str, Any]) -> None:
        """Replace its chaos triggers (Mailpit's format); {} makes it accept everything again."""
        async with httpx.AsyncClient(base_url=self.api_url) as client:
            (await client.put("/api/v1/chaos", json=triggers)).raise_for_status()

    async def stop(self) -> None:
        """Stop the sink gracefully and wait for it."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(self._process.wait, 30)
        self._process = None
