"""A private single-node Kafka broker for tests that must stop and restart a broker.

It uses the jars and the server.properties template of the local stack (`make up` resolves
them), with its own ports and data folder, so the shared broker is never disturbed.
"""

import asyncio
import base64
import os
import signal
import subprocess
from pathlib import Path
from uuid import uuid4

from common.messaging.kafka import kafka_reachable
from tests.support.infra import REPO
from tests.support.services import free_port

KAFKA_LIBS = Path(os.environ.get("KAFKA_LIBS", REPO / ".local" / "kafka" / "libs"))
TEMPLATE = REPO / "deploy" / "local" / "kafka" / "server.properties.template"
LOG4J = REPO / "deploy" / "local" / "kafka" / "log4j2.properties"


def _cluster_id() -> str:
    while True:
        cid = base64.urlsafe_b64encode(uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


class ThrowawayBroker:
    """A KRaft broker+controller in a folder of its own; start/stop keep its data."""

    def __init__(self, workdir: Path) -> None:
        if not any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
            raise RuntimeError(f"no Kafka jars in {KAFKA_LIBS}: run `make up` first")
        self.port = free_port()
        self.bootstrap = f"127.0.0.1:{self.port}"
        self._workdir = workdir
        self._config = workdir / "server.properties"
        self._process: subprocess.Popen | None = None
        controller = free_port()
        values = {
            "NODE_ID": "1",
            "QUORUM": f"controller.quorum.bootstrap.servers=127.0.0.1:{controller}",
            "BROKER_PORT": str(self.port),
            "CONTROLLER_PORT": str(controller),
            "LOG_DIR": str(workdir / "data"),
            "REPLICATION": "1",
            "MIN_ISR": "1",
        }
        text = TEMPLATE.read_text()
        for name, value in values.items():
            text = text.replace(f"@{name}@", value)
        self._config.write_text(text)
        self._java(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            _cluster_id(),
            "-c",
            str(self._config),
            "--standalone",
            wait=True,
        )

    def _java(self, main: str, *args: str, wait: bool = False) -> subprocess.Popen:
        log = open(self._workdir / "broker.log", "ab")  # noqa: SIM115 - owned by the process
        process = subprocess.Popen(
            [
                "java",
                "-Xms128m",
                "-Xmx384m",
                "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={LOG4J}",
                "-cp",
                f"{KAFKA_LIBS}/*",
                main,
                *args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait and process.wait(timeout=120) != 0:
            raise RuntimeError(f"{main} failed; see {self._workdir / 'broker.log'}")
        return process

    async def start(self, timeout: float = 90) -> None:
        """Start the broker and wait until it answers metadata requests."""
        self._process = self._java("kafka.Kafka", str(self._config))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await kafka_reachable([self.bootstrap], timeout_seconds=2):
            if self._process.poll() is not None or loop.time() > deadline:
                raise RuntimeError(f"test broker did not start; see {self._workdir / 'broker.log'}")
            await asyncio.sleep(0.5)

    async def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL) and wait for it to exit."""
        if self._process and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self._process.wait, 60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                await asyncio.to_thread(self._process.wait)
        self._process = None
