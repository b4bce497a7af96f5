"""Who may do what: the role and scope checks every service applies to the objects it names.

Scope rules shared by the services:
- an admin acts everywhere;
- a coordinator and a department act inside the region of their principal; a coordinator with
  sector numbers sees only those sectors of the region where an object belongs to a sector;
- a principal that should have a region but has none sees nothing (its token is incomplete).
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Depends

from common.problems import Forbidden, NotFound, Unprocessable
from common.security import Principal, PrincipalDep, Role


def require_role(principal: Principal, *roles: Role) -> None:
    """Refuse with 403 unless the principal has one of `roles` (admins always pass)."""
    if principal.role is Role.admin or principal.role in roles:
        return
    allowed = ", ".join(r.value for r in (Role.admin, *roles))
    raise Forbidden(f"this action needs the role {allowed}; you are {principal.role.value}")


def require_admin(principal: Principal) -> None:
    """Refuse with 403 unless the principal is an admin."""
    require_role(principal)


def role_required(*roles: Role) -> Any:
    """A route dependency refusing with 403 callers without one of `roles` (admins always pass).

    Declared in a route's `dependencies`, it runs before FastAPI validates the route's parameters
    and body: a caller without the role gets 403 whatever it sent, never a 422 that describes
    the input the route expects.
    """

    async def check_role(principal: PrincipalDep) -> None:
        require_role(principal, *roles)

    return Depends(check_role)


ADMIN_ONLY = role_required()
"""The route dependency of admin-only routes."""


@dataclass(frozen=True)
class RegionScope:
    """The part of the data a principal may read: everything (`region` None) or one region."""

    region: str | None
    sector_numbers: frozenset[int] = frozenset()

    @property
    def unrestricted(self) -> bool:
        """Whether the principal sees every region."""
        return self.region is None

    def covers(self, region: str | None, sector_number: int | None = None) -> bool:
        """Whether an object of `region` (and, when it has one, `sector_number`) is visible."""
        if self.region is None:
            return True
        if region != self.region:
            return False
        if not self.sector_numbers or sector_number is None:
            return True
        return sector_number in self.sector_numbers

    @property
    def sectors(self) -> list[int] | None:
        """The sector numbers a list must be narrowed to, or None for all sectors."""
        return sorted(self.sector_numbers) if self.sector_numbers else None


NOWHERE = "\x00no-region"
"""A region no object has: the scope of a principal whose token lacks the region it needs."""


def region_scope(principal: Principal) -> RegionScope:
    """What a principal may read: admins everything, others their region (and sectors)."""
    if principal.role is Role.admin:
        return RegionScope(region=None)
    sectors = frozenset(principal.sector_numbers) if principal.role is Role.coordinator else None
    return RegionScope(region=principal.region or NOWHERE, sector_numbers=sectors or frozenset())


def scoped_region(principal: Principal, requested: str | None) -> str | None:
    """The region filter a list must apply: the caller's own, or 403 for another one asked for.

    Admins get what they asked for (None = every region).
    """
    scope = region_scope(principal)
    if scope.unrestricted:
        return requested
    if requested is not None and requested != scope.region:
        raise Forbidden(
            f"you may read region {principal.region or '(none)'} only, not {requested}",
            field="region",
        )
    return scope.region


def scoped_sector(principal: Principal, requested: int | None) -> list[int] | None:
    """The sector numbers a list must be narrowed to, honouring a sector the caller asked for.

    None means every sector; asking for a sector outside a coordinator's sectors is 403.
    """
    allowed = region_scope(principal).sectors
    if requested is None:
        return allowed
    if allowed is not None and requested not in allowed:
        raise Forbidden(f"you may read sectors {allowed} only, not {requested}", field="sector")
    return [requested]


def ensure_visible(
    principal: Principal,
    region: str | None,
    sector_number: int | None = None,
    *,
    what: str,
) -> None:
    """404 for an object outside the principal's scope: its existence is not the caller's business."""
    if not region_scope(principal).covers(region, sector_number):
        raise NotFound(f"{what} does not exist")


def may_write_for_department(principal: Principal, department_id: UUID | None) -> bool:
    """Whether the principal may write data owned by `department_id` (measurements)."""
    if principal.role is Role.admin:
        return True
    return (
        principal.role is Role.department
        and principal.department_id is not None
        and principal.department_id == department_id
    )


def refuse_server_owned_fields(
    principal: Principal, sent: Collection[str], server_owned: Collection[str]
) -> None:
    """422 naming each field a non-admin sent that only the token or the catalogue may set."""
    if principal.role is Role.admin:
        return
    offending = sorted(set(sent) & set(server_owned))
    if offending:
        raise Unprocessable(
            "; ".join(f"{f}: set from your credentials, not the request" for f in offending),
            errors=[
                {"field": f, "message": "set from your credentials, not the request"}
                for f in offending
            ],
        )
