"""Alembic environment of the notifications service."""

from sqlmodel import SQLModel

from common.migrations import run_env

run_env(SQLModel.metadata)
