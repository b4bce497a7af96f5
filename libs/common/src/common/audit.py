"""The audit trail: every committed write through the API, recorded in the same transaction.

The unit of work a request gets knows who is calling and from where; when the route commits,
one row (who, what, when, from where, request id) is inserted before the commit, so a change
and its audit row exist together or not at all. Each service keeps its own trail in its own
database (table `audit_log`, created by `create_audit_table` from a service revision) and
serves it to admins at `GET /api/v1/audit`.
"""

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
import structlog
from alembic import op
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from common.authorization import ADMIN_ONLY
from common.db import UnitOfWork
from common.pagination import Page, PageDep
from common.security import Principal

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
AUDIT_TABLE = "audit_log"


def _audit_columns() -> list[sa.Column]:
    """The columns of the audit table, for the model below and for the migration alike."""
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column(
            "occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("method", sa.String, nullable=False),
        sa.Column("path", sa.String, nullable=False),
        sa.Column("object_id", sa.String, nullable=True),
        sa.Column("client_address", sa.String, nullable=True),
        sa.Column("request_id", sa.String, nullable=True),
    ]


audit_log = sa.Table(AUDIT_TABLE, sa.MetaData(), *_audit_columns())
# One statement for every request, its values bound as parameters: building and coercing
# `insert().values(...)` anew cost more than the rest of the commit.
INSERT_AUDIT_ROW = sa.insert(audit_log)


def create_audit_table() -> None:
    """Create the audit table and its indexes; call from a service revision."""
    op.create_table(AUDIT_TABLE, *_audit_columns())
    op.create_index("ix_audit_log_occurred_at", AUDIT_TABLE, ["occurred_at"])
    op.create_index("ix_audit_log_subject_occurred_at", AUDIT_TABLE, ["subject", "occurred_at"])


def drop_audit_table() -> None:
    """Undo create_audit_table."""
    op.drop_table(AUDIT_TABLE)


class AuditRecord(BaseModel):
    """Who is writing what, from where: known when the request starts, written on commit."""

    subject: str
    role: str
    method: str
    path: str
    object_id: str | None = None
    client_address: str | None = None
    request_id: str | None = None


AUDIT_FIELDS = tuple(AuditRecord.model_fields)


def audit_cte(first_parameter: int) -> str:
    """A CTE inserting the audit rows given as text arrays $first_parameter, ... (empty: none).

    A route that writes its effects in one statement adds it there (with `take_audit` and
    `audit_arrays`): the audit row then costs no round trip of its own at commit.
    """
    arrays = ", ".join(f"${first_parameter + n}::text[]" for n in range(len(AUDIT_FIELDS)))
    return (
        f"audited AS (INSERT INTO {AUDIT_TABLE} ({', '.join(AUDIT_FIELDS)}) "
        f"SELECT * FROM unnest({arrays}))"
    )


def audit_arrays(audits: list[AuditRecord]) -> list[list[str | None]]:
    """The parameters of `audit_cte`: one array per column, one element per audit row."""
    rows = [audit.model_dump() for audit in audits]
    return [[row[field] for row in rows] for field in AUDIT_FIELDS]


class AuditedUnitOfWork(UnitOfWork):
    """A unit of work that inserts its request's audit row into every transaction it commits."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        audit: AuditRecord | None,
    ) -> None:
        super().__init__(sessions, source=source)
        self.audit = audit

    def audit_object(self, object_id: object) -> None:
        """Name the object a write created, which a path to a collection does not name."""
        if self.audit is not None:
            self.audit.object_id = str(object_id)

    def take_audit(self) -> AuditRecord | None:
        """Hand the audit row to the caller, who writes it in this transaction; commit will not."""
        audit, self.audit = self.audit, None
        return audit

    async def commit(self) -> None:
        """Insert the audit row (for a write request) unless it was taken, then commit."""
        if self.audit is not None:
            await self.session.exec(INSERT_AUDIT_ROW, params=self.audit.model_dump())
        await super().commit()


def audit_record(
    principal: Principal,
    *,
    method: str,
    path: str,
    path_params: dict[str, str],
    client_address: str | None,
) -> AuditRecord | None:
    """The audit row of a write request (None for reads); the object is its last path parameter."""
    if method not in WRITE_METHODS:
        return None
    return AuditRecord(
        subject=principal.subject,
        role=principal.role.value,
        method=method,
        path=path,
        object_id=str(list(path_params.values())[-1]) if path_params else None,
        client_address=client_address,
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
    )


class AuditEntryPublic(BaseModel):
    """One audited write."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "occurred_at": "2026-03-02T09:15:00Z",
                    "subject": "dept-komitet-cifrovogo-razvitiya",
                    "role": "department",
                    "method": "POST",
                    "path": "/api/v1/indicators/0b6f3c52-4d3e-4c8e-9a51-6f1d2b7c9e10/measurements",
                    "object_id": "0b6f3c52-4d3e-4c8e-9a51-6f1d2b7c9e10",
                    "client_address": "10.0.4.21",
                    "request_id": "5d0c6f1e2b8a4f0e9c3d7a1b2c4e6f80",
                }
            ]
        }
    )

    id: int
    occurred_at: datetime
    subject: str = Field(description="The principal's subject")
    role: str
    method: str
    path: str
    object_id: str | None = Field(description="The object the path names, when it names one")
    client_address: str | None
    request_id: str | None


def audit_router() -> APIRouter:
    """`GET /audit`: the service's audit trail, for admins."""
    router = APIRouter(tags=["audit"])

    @router.get(
        "/audit",
        summary="Audited writes, newest first (admins only)",
        responses={403: {"description": "Not an admin"}},
        dependencies=[ADMIN_ONLY],
    )
    async def list_audit(
        request: Request,
        page: PageDep,
        subject: Annotated[str | None, Query(max_length=200)] = None,
        since: Annotated[datetime | None, Query(description="Inclusive lower bound")] = None,
        until: Annotated[datetime | None, Query(description="Exclusive upper bound")] = None,
    ) -> Page[AuditEntryPublic]:
        """Who wrote what, when and from where, filtered by subject and time."""
        conditions = []
        if subject is not None:
            conditions.append(audit_log.c.subject == subject)
        if since is not None:
            conditions.append(audit_log.c.occurred_at >= since)
        if until is not None:
            conditions.append(audit_log.c.occurred_at < until)
        async with request.app.state.sessions() as session:
            total = await session.scalar(
                sa.select(sa.func.count()).select_from(audit_log).where(*conditions)
            )
            rows = (
                await session.exec(
                    sa.select(audit_log)
                    .where(*conditions)
                    .order_by(audit_log.c.occurred_at.desc(), audit_log.c.id.desc())
                    .limit(page.limit)
                    .offset(page.offset)
                )
            ).mappings()
            items = [AuditEntryPublic.model_validate(dict(row)) for row in rows]
        return Page(
            items=items,
            total=total or 0,
            limit=page.limit,
            offset=page.offset,
        )

    return router
