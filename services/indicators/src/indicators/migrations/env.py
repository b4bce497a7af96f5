"""Alembic environment of the indicators service."""

from sqlmodel import SQLModel

from common.migrations import run_env

run_env(SQLModel.metadata)
