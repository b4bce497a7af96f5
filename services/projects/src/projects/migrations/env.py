"""Alembic environment of the projects service."""

from common.migrations import run_env
from projects.tables import TableBase

run_env(TableBase.metadata)
