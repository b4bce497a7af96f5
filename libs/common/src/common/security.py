"""The caller's identity, taken by every endpoint so authorization can be enforced uniformly."""

from enum import StrEnum
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Request
from pydantic import BaseModel


class Role(StrEnum):
    """What kind of principal is calling."""

    admin = "admin"
    coordinator = "coordinator"
    department = "department"


class Principal(BaseModel):
    """Who is calling and the scope they act in."""

    subject: str
    role: Role
    region: str | None = None
    department_id: UUID | None = None
    sector_numbers: list[int] = []


OPEN_MODE_PRINCIPAL = Principal(subject="open-mode", role=Role.admin)


async def current_principal(request: Request) -> Principal:
    """The caller; in the `open` auth mode (the only one until tokens land) everyone is admin."""
    del request  # token verification will read the Authorization header here
    return OPEN_MODE_PRINCIPAL


PrincipalDep = Annotated[Principal, Depends(current_principal)]
