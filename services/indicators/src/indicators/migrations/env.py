"""Alembic environment of the indicators service."""

from common.migrations import run_env
from indicators.tables import TableBase

run_env(TableBase.metadata)
