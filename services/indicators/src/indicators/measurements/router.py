"""HTTP API of measurements: record (idempotently), timeline, evaluation, bulk import."""

from typing import Annotated
from uuid import UUID

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import State

from common.authorization import refuse_server_owned_fields, role_required
from common.batching import GroupCommit
from common.db import UnitOfWork
from common.pagination import Page, PageDep
from common.problems import Problem, Unprocessable
from common.security import Principal, PrincipalDep, Role
from common.web import UnitOfWorkDep
from indicators.measurements import service
from indicators.measurements.rows import (
    REQUIRED,
    REQUIRED_OF_DEPARTMENTS,
    ImportFormatError,
    MeasurementRow,
    read_csv,
    read_json,
)
from indicators.measurements.schemas import (
    PERIOD_PATTERN,
    ImportResult,
    IndicatorEvaluation,
    MeasurementCreate,
    MeasurementImportRow,
    MeasurementPublic,
)
from indicators.measurements.service import PendingMeasurement
from indicators.periods import Period

router = APIRouter(tags=["measurements"])

# Its request body has its own limit (IMPORT_MAX_BODY_BYTES), set where the app is built.
IMPORT_PATH = "/measurements:import"
# Fields of a measurement that come from the credentials for anyone but an admin.
SERVER_OWNED = frozenset({"reported_by"})


def reporter_of(principal: Principal) -> str | None:
    """Who a department's measurements are reported by: its principal (None for admins)."""
    return None if principal.role is Role.admin else principal.subject


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Makes retries safe: the same key and body get the first answer again",
    ),
]

IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": (
                    "indicator_id;period;value;as_of;reported_by;comment;source\n"
                    "0b6f3c52-4d3e-4c8e-9a51-6f1d2b7c9e10;2023-Q2;57,5;2023-07-05;"
                    "Комитет цифрового развития;;ГИС «Мониторинг»\n"
                ),
            },
            "application/json": {
                "schema": {"type": "array", "items": MeasurementImportRow.model_json_schema()},
                "example": [
                    {
                        "indicator_id": "0b6f3c52-4d3e-4c8e-9a51-6f1d2b7c9e10",
                        "period": "2023-Q2",
                        "value": 57.5,
                    }
                ],
            },
        },
    }
}


@router.post(
    "/indicators/{indicator_id}/measurements",
    status_code=201,
    response_model=MeasurementPublic,
    summary="Report a value for a period (a second value for a period is a revision)",
    responses={
        403: {"description": "Not the indicator's responsible department"},
        404: {"description": "Unknown indicator (or outside the caller's region)"},
        409: {"description": "The same Idempotency-Key is in flight"},
        422: {
            "description": "A bad period or value, a reused Idempotency-Key, or reported_by "
            "sent by a department"
        },
    },
    dependencies=[role_required(Role.department)],
)
async def record_measurement(
    indicator_id: UUID,
    body: MeasurementCreate,
    request: Request,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Record, evaluate and announce one measurement (departments: their own indicators)."""
    refuse_server_owned_fields(principal, body.model_fields_set, SERVER_OWNED)
    reported_by = reporter_of(principal) or body.reported_by
    if reported_by is None:
        raise Unprocessable(
            "reported_by: required when an admin reports on a department's behalf",
            errors=[{"field": "reported_by", "message": "required"}],
        )
    state = request.app.state
    pending = PendingMeasurement(
        row=MeasurementRow(
            indicator_id=indicator_id,
            period=Period.parse(body.period),
            value=body.value,
            as_of=body.as_of or state.clock.now().date(),
            reported_by=reported_by,
            comment=body.comment,
            source=body.source,
        ),
        principal=principal,
        audit=uow.take_audit(),
        request_id=structlog.contextvars.get_contextvars().get("request_id"),
    )
    if idempotency_key is None:
        recorded = await state.measurement_writer.submit(pending)
        return JSONResponse(recorded.model_dump(mode="json"), 201)
    # A keyed POST is written alone: its answer is stored in its own transaction, for retries.
    # The principal is part of the fingerprint: nobody replays another caller's answer.
    fingerprint = service.request_hash(
        principal.subject, str(indicator_id), body.model_dump(mode="json")
    )
    conn, stored = await service.open_with_replay(uow.session, idempotency_key, fingerprint)
    if stored is not None:
        status_code, payload = stored
        return JSONResponse(payload, status_code, headers={"Idempotent-Replayed": "true"})
    conn = await service.lock_indicators(uow.session, {indicator_id})
    (outcome,) = await service.record_many(
        conn, [pending], now=state.clock.now(), source=state.settings.service_name
    )
    if isinstance(outcome, Problem):
        raise outcome
    payload = outcome.model_dump(mode="json")
    await service.remember(conn, idempotency_key, fingerprint, 201, payload)
    await uow.commit()
    return JSONResponse(payload, 201)


def measurement_writer(state: State) -> GroupCommit[PendingMeasurement, MeasurementPublic]:
    """POSTed measurements that arrive together, written together: one transaction a batch."""
    source = state.settings.service_name

    async def write(pending: list[PendingMeasurement]) -> list[MeasurementPublic | Problem]:
        async with UnitOfWork(state.sessions, source=source) as uow:
            indicator_ids = {item.row.indicator_id for item in pending}
            conn = await service.lock_indicators(uow.session, indicator_ids)
            outcomes = await service.record_many(
                conn, pending, now=state.clock.now(), source=source
            )
            await uow.commit()
        return outcomes

    return GroupCommit(write, max_batch=state.settings.measurement_batch_max)


@router.get(
    "/indicators/{indicator_id}/measurements",
    summary="The timeline of an indicator's values with every revision",
)
async def measurement_timeline(
    indicator_id: UUID,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    page: PageDep,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
) -> Page[MeasurementPublic]:
    """Revisions by period; `latest` marks the one that counts."""
    conn = await service.driver_connection(uow.session)
    return await service.timeline(conn, indicator_id, page, period, principal)


@router.get(
    "/indicators/{indicator_id}/evaluation",
    summary="Expected versus actual per period, with year-end forecasts",
)
async def indicator_evaluation(
    indicator_id: UUID,
    request: Request,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> IndicatorEvaluation:
    """Every period the indicator owes in its target years (or one year)."""
    conn = await service.driver_connection(uow.session)
    return await service.indicator_evaluation(
        conn, indicator_id, request.app.state.settings.report_deadline_days, year, principal
    )


@router.post(
    IMPORT_PATH,
    status_code=201,
    summary="Import many measurements at once: all rows or none",
    description=(
        "CSV (UTF-8, `;` or `,`, a header naming indicator_id, period, value, reported_by and "
        "optionally as_of, comment, source; a decimal comma is accepted) or a JSON array of "
        "rows. A department leaves reported_by out (it comes from its credentials) and may "
        "import only for indicators it is responsible for. Every row is checked first; rows "
        "for another department's indicators answer 403, any other error 422, both with "
        "`errors` listing row number (1 = first data row), field and message (a 403 lists the "
        "other rows' errors in `other_errors`), and nothing is written. Otherwise all rows are "
        "written in one transaction; rows of the same period count as successive revisions in "
        "file order. The body may take IMPORT_MAX_BODY_BYTES (256 MiB by default), more than "
        "other requests."
    ),
    openapi_extra=IMPORT_BODY,
    responses={
        403: {
            "description": "Rows for indicators of another department (`errors`), with the "
            "other rows' errors (`other_errors`); nothing was written"
        },
        413: {
            "description": "A body over IMPORT_MAX_BODY_BYTES, or more rows than IMPORT_MAX_ROWS"
        },
        415: {"description": "Neither CSV nor JSON"},
        422: {"description": "Per-row errors; nothing was written"},
    },
    dependencies=[role_required(Role.department)],
)
async def import_measurements(
    request: Request,
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKey = None,
) -> ImportResult:
    """Validate every row, then write them all in one transaction."""
    settings = request.app.state.settings
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type in ("application/json", "text/json"):
            raw_rows = read_json(body)
        elif content_type in ("text/csv", "text/plain", "application/csv"):
            raw_rows = read_csv(
                body, REQUIRED if reporter_of(principal) is None else REQUIRED_OF_DEPARTMENTS
            )
        else:
            raise Problem(
                f"send text/csv or application/json, not {content_type or 'no content type'}",
                status=415,
            )
    except ImportFormatError as exc:
        raise Unprocessable(str(exc), errors=[{"field": "body", "message": str(exc)}]) from exc
    if not raw_rows:
        raise Unprocessable("no rows to import", errors=[{"field": "body", "message": "empty"}])
    if len(raw_rows) > settings.import_max_rows:
        raise Problem(
            f"{len(raw_rows)} rows; at most {settings.import_max_rows} per import",
            status=413,
            limit="IMPORT_MAX_ROWS",
            max_rows=settings.import_max_rows,
        )
    conn = await service.driver_connection(uow.session)
    fingerprint = service.request_hash(principal.subject, content_type, body)
    if idempotency_key is not None:
        stored = await service.replay(conn, idempotency_key, fingerprint)
        if stored is not None:
            status_code, payload = stored
            return JSONResponse(payload, status_code, headers={"Idempotent-Replayed": "true"})
    result = await service.import_rows(
        conn,
        raw_rows,
        principal=principal,
        reporter=reporter_of(principal),
        now=request.app.state.clock.now(),
        source=settings.service_name,
        max_errors=settings.import_max_errors,
        audit=uow.take_audit(),
    )
    if idempotency_key is not None:
        await service.remember(
            conn, idempotency_key, fingerprint, 201, result.model_dump(mode="json")
        )
    await uow.commit()
    return result
