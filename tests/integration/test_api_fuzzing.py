"""Property-based fuzzing of each service's OpenAPI (schemathesis): no 5xx, no off-schema answer.

Each service runs as its own uvicorn process on a fresh database against the real Kafka and
SMTP server, so the generated requests hit exactly what production runs. The number of
examples per operation is `FUZZ_EXAMPLES` (default 25).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from uuid import uuid4

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.auth import ADMIN, auth_headers
from tests.support.infra import (
    KAFKA_BOOTSTRAP_SERVERS,
    SMTP_HOST,
    SMTP_PORT,
    create_database,
    drop_database,
)
from tests.support.services import free_port

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize=True,
    database=None,
)
# What the issue asks of the APIs: no 5xx, nothing off the documented schema, no request with a
# broken token served. (Rejecting schema-valid input, e.g. an unknown id, is the API's right.)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,
]


def _serve(service: str) -> Iterator[str]:
    """Run one service as a uvicorn process on a fresh database; yield its URL."""
    name, url = asyncio.run(create_database(service))
    port = free_port()
    env = {
        **os.environ,
        "SERVICE_NAME": service,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA_BOOTSTRAP_SERVERS,
        "KAFKA_CONSUMER_GROUP": f"fuzz-{service}-{uuid4().hex[:8]}",
        "KAFKA_AUTO_OFFSET_RESET": "latest",
        "SMTP_HOST": SMTP_HOST,
        "SMTP_PORT": str(SMTP_PORT),
        "LOG_LEVEL": "WARNING",
        # Thousands of requests in a minute, many with broken tokens: the rate limits (tested on
        # their own) would answer 429 where the checks expect the route's own answer.
        "RATE_LIMIT_PER_SECOND": "100000",
        "RATE_LIMIT_BURST": "100000",
        "ANONYMOUS_RATE_LIMIT_PER_SECOND": "100000",
        "ANONYMOUS_RATE_LIMIT_BURST": "100000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", f"{service}.main:app", "--port", str(port)],
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _await_ready(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        asyncio.run(drop_database(name))


def _await_ready(base_url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode} during start-up")
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{base_url} did not become ready")


@pytest.fixture(scope="module")
def projects_url() -> Iterator[str]:
    yield from _serve("projects")


@pytest.fixture(scope="module")
def indicators_url() -> Iterator[str]:
    yield from _serve("indicators")


@pytest.fixture(scope="module")
def notifications_url() -> Iterator[str]:
    yield from _serve("notifications")


def _schema_of(service: str):
    """The service's OpenAPI document, taken from its app without starting it."""
    module = importlib.import_module(f"{service}.main")
    return schemathesis.openapi.from_dict(module.build_app().openapi())


projects_schema = _schema_of("projects")
indicators_schema = _schema_of("indicators")
notifications_schema = _schema_of("notifications")


@projects_schema.parametrize()
@FUZZ_SETTINGS
def test_projects_api_holds_its_schema(case, projects_url: str) -> None:
    case.call_and_validate(base_url=projects_url, headers=auth_headers(ADMIN), checks=CHECKS)


@indicators_schema.parametrize()
@FUZZ_SETTINGS
def test_indicators_api_holds_its_schema(case, indicators_url: str) -> None:
    case.call_and_validate(base_url=indicators_url, headers=auth_headers(ADMIN), checks=CHECKS)


@notifications_schema.parametrize()
@FUZZ_SETTINGS
def test_notifications_api_holds_its_schema(case, notifications_url: str) -> None:
    case.call_and_validate(base_url=notifications_url, headers=auth_headers(ADMIN), checks=CHECKS)
