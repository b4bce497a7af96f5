"""Fixtures for every test layer; integration and e2e fixtures use the real infrastructure."""

import os
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.integration.local_infra_helpers import PrivateMailSink
from tests.support.auth import TEST_ENVIRONMENT
from tests.support.infra import create_database, drop_database

# Before any settings object exists: every service built in a test verifies the test tokens,
# and the projects service signs with the test key.
os.environ.update(TEST_ENVIRONMENT)

DatabaseFactory = Callable[[str], Awaitable[str]]


@pytest.fixture
async def database_factory() -> AsyncIterator[DatabaseFactory]:
    """Creates throwaway databases migrated to a service's head; drops them afterwards."""
    created: list[str] = []

    async def create(service: str) -> str:
        name, url = await create_database(service)
        created.append(name)
        return url

    yield create
    for name in created:
        await drop_database(name)


@pytest.fixture
async def sink(tmp_path) -> AsyncIterator[PrivateMailSink]:
    """A mail sink of the test's own (free ports, chaos triggers), not started yet."""
    private = PrivateMailSink(tmp_path / "mail")
    yield private
    await private.stop()
