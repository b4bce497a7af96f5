"""Bring the notifications database to the latest schema before the service starts."""

from pathlib import Path

from common.migrations import upgrade_to_head
from notifications.config import Settings

if __name__ == "__main__":
    upgrade_to_head(Path(__file__).parent / "migrations", Settings().database_url)
