"""User and API key tables."""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field

from projects.persistence import created_at_field, updated_at_field
from projects.tables import TableBase


def region_field() -> Any:
    """The region of a coordinator's or department's scope (none for admins)."""
    return Field(default=None, sa_column=Column(String, ForeignKey("regions.slug"), nullable=True))


def department_field() -> Any:
    """The department a department principal acts for."""
    return Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("responsible_departments.id"), nullable=True),
    )


class User(TableBase, table=True):
    """A person who signs in with email and password; role and scope decide what they may do."""

    __tablename__ = "users"
    __mapper_args__ = {"eager_defaults": True}

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    email: str = Field(sa_column=Column(String, nullable=False, unique=True))
    name: str = Field(sa_column=Column(String, nullable=False))
    password_hash: str = Field(sa_column=Column(String, nullable=False))
    role: str = Field(sa_column=Column(String, nullable=False))
    region: str | None = region_field()
    department_id: UUID | None = department_field()
    sector_numbers: list[int] = Field(sa_column=Column(JSONB, nullable=False))
    # The coordinator record a coordinator's login is; its tokens then carry the claim.
    coordinator_id: UUID | None = Field(
        default=None,
        sa_column=Column(Uuid, ForeignKey("region_coordinators.id"), nullable=True),
    )
    active: bool = Field(sa_column=Column(Boolean, nullable=False))
    created_at: datetime | None = created_at_field()
    updated_at: datetime | None = updated_at_field()


class ApiKey(TableBase, table=True):
    """A machine client's credential: only a hash of the secret is kept; revoked keys stay listed."""

    __tablename__ = "api_keys"
    __mapper_args__ = {"eager_defaults": True}

    id: UUID = Field(default_factory=uuid4, sa_column=Column(Uuid, primary_key=True))
    name: str = Field(sa_column=Column(String, nullable=False))
    prefix: str = Field(sa_column=Column(String, nullable=False))
    secret_hash: str = Field(sa_column=Column(String, nullable=False, unique=True))
    role: str = Field(sa_column=Column(String, nullable=False))
    region: str | None = region_field()
    department_id: UUID | None = department_field()
    sector_numbers: list[int] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime | None = created_at_field()
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )
