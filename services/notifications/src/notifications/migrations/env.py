"""Alembic environment of the notifications service."""

from common.migrations import run_env
from notifications.tables import TableBase

run_env(TableBase.metadata)
