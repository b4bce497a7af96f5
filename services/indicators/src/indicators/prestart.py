"""Bring the indicators database to the latest schema before the service starts."""

from pathlib import Path

from common.migrations import upgrade_to_head
from indicators.config import Settings

if __name__ == "__main__":
    upgrade_to_head(Path(__file__).parent / "migrations", Settings().database_url)
