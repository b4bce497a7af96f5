"""Recording measurements, single or in bulk: revisions, evaluations, signals, one transaction.

The same set-based path serves POSTs (written together when they arrive together, see
`record_many`) and a 100 000-row import: the indicators involved are locked (so revisions of
one period are numbered without gaps or races), their period states and emitted signals are read
once, every row is evaluated in memory, and the results are written with one COPY or one array
statement per table, outbox rows and audit rows included.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from common.audit import AuditRecord, audit_arrays, audit_cte
from common.authorization import ensure_visible, may_write_for_department, region_scope
from common.events import (
    BackOnTrack,
    Direction,
    ForecastMiss,
    Frequency,
    IndicatorStatusChanged,
    IntegrationEvent,
    MeasurementRecorded,
    Status,
    TargetMet,
    TargetMissed,
)
from common.logging import get_logger
from common.messaging.cloudevents import attributes_for
from common.pagination import Page, PageParams
from common.problems import Conflict, Forbidden, NotFound, Problem, Unprocessable
from common.security import Principal
from indicators.evaluation import (
    Baseline,
    Evaluation,
    Plan,
    expected_value,
    forecast,
    judge,
)
from indicators.measurements.rows import (
    IndicatorRules,
    MeasurementRow,
    RowError,
    check_value,
    is_percent_index,
    parse_row,
)
from indicators.measurements.schemas import (
    EvaluationPublic,
    ImportResult,
    IndicatorEvaluation,
    MeasurementPublic,
    PeriodEvaluation,
    YearForecast,
)
from indicators.periods import Period, periods_of_year
from indicators.signals import (
    Signal,
    SignalKind,
    chronology,
    current_status,
    signals_for,
    status_before,
)

log = get_logger(__name__)

MEASUREMENT_COLUMNS = (
    "id",
    "indicator_id",
    "period",
    "period_end",
    "value",
    "revision",
    "as_of",
    "reported_by",
    "comment",
    "source",
    "recorded_at",
    "expected",
    "status",
    "gap",
    "gap_percent",
)
OUTBOX_COLUMNS = ("event_id", "topic", "key", "event_type", "headers", "payload")
COPY_THRESHOLD = 50


@dataclass
class PeriodState:
    """The latest revision of an indicator-period and its evaluation."""

    measurement_id: UUID
    revision: int
    actual: Decimal
    expected: Decimal | None
    status: Status | None
    gap: Decimal | None
    gap_percent: Decimal | None
    status_changes: int


@dataclass
class IndicatorContext:
    """An indicator locked for recording, with its plan, period states and emitted signals."""

    id: UUID
    region: str
    department_id: UUID | None
    rules: IndicatorRules
    plan: Plan
    states: dict[Period, PeriodState] = field(default_factory=dict)
    # The evaluated periods' statuses, kept beside `states` so each row need not rebuild them.
    statuses: dict[Period, Status] = field(default_factory=dict)
    emitted: set[tuple[str, str, int]] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class PendingMeasurement:
    """A POSTed value waiting to be recorded: who reports it, its audit row, its request id."""

    row: MeasurementRow
    principal: Principal
    audit: AuditRecord | None
    request_id: str | None


@dataclass
class Recorded:
    """What recording a batch produced."""

    batch: "Batch"
    signals: int
    revisions: int


async def open_transaction(
    session: AsyncSession, opening: str = "SELECT 1", *args: Any
) -> tuple[asyncpg.Connection, Any]:
    """The session's asyncpg connection inside the session's open transaction, and the first
    row `opening` answered (None if none).

    The asyncpg adapter opens its transaction lazily, on the first statement run through the
    session: `opening` is that statement, so a useful one (a lock, a read) saves a round trip.
    """
    connection = await session.connection()
    first = (await connection.exec_driver_sql(opening, args or None)).first()
    raw = await connection.get_raw_connection()
    return raw.driver_connection, first


async def driver_connection(
    session: AsyncSession, opening: str = "SELECT 1", *args: Any
) -> asyncpg.Connection:
    """The session's asyncpg connection, inside the session's open transaction (see above)."""
    return (await open_transaction(session, opening, *args))[0]


# Id order, so two requests locking overlapping sets cannot deadlock.
_LOCK = (
    "SELECT id FROM indicators WHERE id = ANY($1::uuid[]) AND archived_at IS NULL "
    "ORDER BY id FOR UPDATE"
)


async def lock_indicators(session: AsyncSession, indicator_ids: set[UUID]) -> asyncpg.Connection:
    """Open the session's transaction by locking the live indicators among `indicator_ids`.

    Recording under the lock numbers revisions without gaps or races. Returns the driver
    connection; read the indicators after this (a later statement sees what the previous
    lock holder committed).
    """
    return await driver_connection(session, _LOCK, sorted(indicator_ids))


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# Definitions with targets, and with them the period states and emitted signals, in one round
# trip. Never part of the locking statement: its snapshot predates the wait for the lock and
# would miss what the previous lock holder committed.
_LOAD = (
    "SELECT i.id, i.region, i.responsible_department_id, i.unit, i.frequency, i.direction, "
    "i.baseline_value, i.baseline_year, i.tolerance_percent, "
    "ARRAY(SELECT ROW(year, value) FROM indicator_targets t WHERE t.indicator_id = i.id)"
    "{history} FROM indicators i "
    "WHERE i.id = ANY($1::uuid[]) AND i.archived_at IS NULL ORDER BY i.id"
)
_HISTORY = (
    ", ARRAY(SELECT ROW(period, measurement_id, revision, actual, expected, status, gap, "
    "gap_percent, status_changes) FROM period_states s WHERE s.indicator_id = i.id), "
    "ARRAY(SELECT ROW(period, kind, occurrence) FROM emitted_signals e "
    "WHERE e.indicator_id = i.id)"
)


async def load_indicators(
    conn: asyncpg.Connection, indicator_ids: set[UUID], *, history: bool = False
) -> dict[UUID, IndicatorContext]:
    """The live indicators among `indicator_ids`, with their plans and rules.

    With `history`, their period states and emitted signals too (what recording needs; lock
    them first with `lock_indicators`).
    """
    rows = await conn.fetch(
        _LOAD.format(history=_HISTORY if history else ""), sorted(indicator_ids)
    )
    contexts = {}
    for row in rows:
        baseline = (
            Baseline(row["baseline_value"], row["baseline_year"])
            if row["baseline_value"] is not None and row["baseline_year"] is not None
            else None
        )
        plan = Plan(
            direction=Direction(row["direction"]),
            targets={year: value for year, value in row[9]},
            baseline=baseline,
            tolerance_percent=row["tolerance_percent"],
        )
        context = IndicatorContext(
            id=row["id"],
            region=row["region"],
            department_id=row["responsible_department_id"],
            rules=IndicatorRules(
                unit=row["unit"],
                frequency=Frequency(row["frequency"]),
                target_years=frozenset(plan.targets),
                percent_index=is_percent_index(row["unit"], plan.targets.values()),
            ),
            plan=plan,
        )
        if history:
            _add_history(context, row[10], row[11])
        contexts[row["id"]] = context
    return contexts


def _add_history(context: IndicatorContext, states: list[tuple], emitted: list[tuple]) -> None:
    for (
        period_text,
        measurement_id,
        revision,
        actual,
        expected,
        status,
        gap,
        gap_percent,
        changes,
    ) in states:
        period = Period.parse(period_text)
        if status:
            context.statuses[period] = Status(status)
        context.states[period] = PeriodState(
            measurement_id=measurement_id,
            revision=revision,
            actual=actual,
            expected=expected,
            status=Status(status) if status else None,
            gap=gap,
            gap_percent=gap_percent,
            status_changes=changes,
        )
    context.emitted.update(emitted)


def _facts(context: IndicatorContext, period: Period, evaluation: Evaluation) -> dict[str, Any]:
    return {
        "indicator_id": context.id,
        "region": context.region,
        "responsible_department_id": context.department_id,
        "period": str(period),
        "expected": evaluation.expected,
        "actual": evaluation.actual,
        "gap": evaluation.gap,
        "gap_percent": evaluation.gap_percent,
    }


def _signal_event(
    context: IndicatorContext, signal: Signal, before: Status | None, evaluation: Evaluation
) -> IntegrationEvent:
    facts = _facts(context, signal.period, evaluation)
    if signal.kind is SignalKind.status_changed:
        return IndicatorStatusChanged(**facts, from_status=before, to_status=evaluation.status)
    if signal.kind is SignalKind.back_on_track:
        return BackOnTrack(**facts)
    if signal.kind is SignalKind.target_met:
        return TargetMet(**facts)
    return TargetMissed(**facts)


class Batch:
    """Rows evaluated in memory, and the rows, states, signals and events they produce."""

    def __init__(self, contexts: dict[UUID, IndicatorContext], now: datetime) -> None:
        self.contexts = contexts
        self.now = now
        self.measurements: list[tuple] = []
        self.events: list[IntegrationEvent] = []
        # The request each event answers (its CloudEvents `requestid`), beside `events`.
        self.request_ids: list[str | None] = []
        self.signals: list[tuple[UUID, str, str, int]] = []
        self.touched_states: set[tuple[UUID, Period]] = set()
        # Each touched indicator-year, with the request that touched it last.
        self.touched_years: dict[tuple[UUID, int], str | None] = {}
        self.revisions = 0
        # Rows of an import repeat indicator-periods: each expectation and end date is worked
        # out once.
        self._expected: dict[tuple[UUID, Period], Decimal | None] = {}
        self._period_ends: dict[Period, date] = {}

    def _evaluate(
        self, context: IndicatorContext, period: Period, actual: Decimal
    ) -> Evaluation | None:
        key = (context.id, period)
        if key not in self._expected:
            self._expected[key] = expected_value(context.plan, period)
        expected = self._expected[key]
        if expected is None:
            return None
        plan = context.plan
        return judge(plan.direction, expected, actual, plan.tolerance_percent)

    def _claim(
        self, context: IndicatorContext, period: Period, kind: SignalKind, occurrence: int
    ) -> bool:
        """Whether a signal is new; if so it is remembered (at most once per key)."""
        key = (str(period), kind.value, occurrence)
        if key in context.emitted:
            return False
        context.emitted.add(key)
        self.signals.append((context.id, *key))
        return True

    def _announce(self, event: IntegrationEvent, request_id: str | None) -> None:
        self.events.append(event)
        self.request_ids.append(request_id)

    def add(self, row: MeasurementRow, request_id: str | None = None) -> None:
        """Evaluate one row as the next revision of its period (for the request `request_id`)."""
        context = self.contexts[row.indicator_id]
        previous = context.states.get(row.period)
        revision = previous.revision + 1 if previous else 1
        self.revisions += previous is not None
        measurement_id = uuid4()
        evaluation = self._evaluate(context, row.period, row.value)
        period_text = str(row.period)
        period_end = self._period_ends.get(row.period)
        if period_end is None:
            period_end = self._period_ends[row.period] = row.period.end
        self.measurements.append(
            (
                measurement_id,
                context.id,
                period_text,
                period_end,
                row.value,
                revision,
                row.as_of,
                row.reported_by,
                row.comment,
                row.source,
                self.now,
                evaluation.expected if evaluation else None,
                evaluation.status.value if evaluation else None,
                evaluation.gap if evaluation else None,
                evaluation.gap_percent if evaluation else None,
            )
        )
        # Built without re-validation: every field was checked or computed just above.
        self._announce(
            MeasurementRecorded.model_construct(
                measurement_id=measurement_id,
                indicator_id=context.id,
                region=context.region,
                period=period_text,
                value=row.value,
                revision=revision,
                as_of=row.as_of,
                reported_by=row.reported_by,
            ),
            request_id,
        )
        self._settle(
            context,
            row.period,
            (measurement_id, revision, row.value, previous.status_changes if previous else 0),
            evaluation,
            request_id,
        )

    def rejudge(self, context: IndicatorContext, period: Period, request_id: str | None) -> None:
        """Evaluate a period's latest value again, against the indicator's plan as it is now."""
        state = context.states[period]
        latest = (state.measurement_id, state.revision, state.actual, state.status_changes)
        self._settle(
            context, period, latest, self._evaluate(context, period, state.actual), request_id
        )

    def _settle(
        self,
        context: IndicatorContext,
        period: Period,
        latest: tuple[UUID, int, Decimal, int],
        evaluation: Evaluation | None,
        request_id: str | None,
    ) -> None:
        """Make `evaluation` of the period's latest value its state, raising what it signals.

        `latest` is that value's (measurement id, revision, value, the period's status changes
        so far): a tuple, as an import settles a hundred thousand of them.
        """
        measurement_id, revision, actual, status_changes = latest
        if evaluation is not None:
            before = status_before(period, context.statuses)
            for signal in signals_for(context.plan, period, before, evaluation):
                occurrence = 0
                if signal.kind is SignalKind.status_changed:
                    status_changes += 1
                    occurrence = status_changes
                if self._claim(context, signal.period, signal.kind, occurrence):
                    self._announce(_signal_event(context, signal, before, evaluation), request_id)
        context.states[period] = PeriodState(
            measurement_id=measurement_id,
            revision=revision,
            actual=actual,
            expected=evaluation.expected if evaluation else None,
            status=evaluation.status if evaluation else None,
            gap=evaluation.gap if evaluation else None,
            gap_percent=evaluation.gap_percent if evaluation else None,
            status_changes=status_changes,
        )
        if evaluation is not None:
            context.statuses[period] = evaluation.status
        else:
            context.statuses.pop(period, None)
        self.touched_states.add((context.id, period))
        self.touched_years[(context.id, period.year)] = request_id

    def forecast_years(self, today: date) -> None:
        """Warn once per year whose trend misses its target, while the year is still running."""
        for (indicator_id, year), request_id in sorted(
            self.touched_years.items(), key=lambda item: (str(item[0][0]), item[0][1])
        ):
            if today > date(year, 12, 31):
                continue
            context = self.contexts[indicator_id]
            points = sorted(
                ((p, s.actual) for p, s in context.states.items() if p.year == year),
                key=lambda point: chronology(point[0]),
            )
            result = forecast(context.plan, year, points)
            if result is None or not result.misses:
                continue
            year_period = Period(year, Frequency.annual)
            if self._claim(context, year_period, SignalKind.forecast_miss, 0):
                self._announce(
                    ForecastMiss(
                        indicator_id=context.id,
                        region=context.region,
                        responsible_department_id=context.department_id,
                        period=str(year_period),
                        expected=result.target,
                        actual=points[-1][1],
                        gap=result.gap,
                        gap_percent=result.gap_percent,
                        projected=result.projected,
                    ),
                    request_id,
                )

    def published(self) -> list[MeasurementPublic]:
        """The API view of the rows recorded."""
        return [
            MeasurementPublic(
                id=m[0],
                indicator_id=m[1],
                period=m[2],
                value=m[4],
                revision=m[5],
                latest=True,
                as_of=m[6],
                reported_by=m[7],
                comment=m[8],
                source=m[9],
                recorded_at=m[10],
                evaluation=EvaluationPublic(
                    expected=m[11], status=m[12], gap=m[13], gap_percent=m[14]
                )
                if m[12] is not None
                else None,
            )
            for m in self.measurements
        ]

    def state_rows(self) -> list[tuple]:
        """period_states rows to upsert."""
        rows = []
        for indicator_id, period in self.touched_states:
            s = self.contexts[indicator_id].states[period]
            rows.append(
                (
                    indicator_id,
                    str(period),
                    s.measurement_id,
                    s.revision,
                    s.actual,
                    s.expected,
                    s.status.value if s.status else None,
                    s.gap,
                    s.gap_percent,
                    s.status_changes,
                )
            )
        return rows

    def current_rows(self) -> list[tuple]:
        """The current status of every touched indicator (none once no period is evaluated,
        as after a change of plan that left its values without targets)."""
        rows = []
        for indicator_id in {i for i, _ in self.touched_states}:
            context = self.contexts[indicator_id]
            current = current_status(context.statuses)
            if current is None:
                rows.append((indicator_id, None, None, None, None, None, None))
                continue
            period, status = current
            s = context.states[period]
            rows.append(
                (
                    indicator_id,
                    str(period),
                    status.value,
                    s.expected,
                    s.actual,
                    s.gap,
                    s.gap_percent,
                )
            )
        return rows


def outbox_records(
    events: list[IntegrationEvent], request_ids: list[str | None], source: str
) -> list[tuple]:
    """Outbox rows for COPY: what `uow.publish` stages one by one, for many events at once.

    The CloudEvents attributes of one event type, subject and request are built once per batch
    (the batch commits at one instant, so they share `ce_time`); each event gets its own `ce_id`.
    Payloads are serialised by pydantic's core without an intermediate dict.
    """
    headers_around_id: dict[tuple[str, str, str | None], tuple[str, str]] = {}
    records = []
    for event, request_id in zip(events, request_ids, strict=True):
        subject = event.aggregate_id
        key = (event.type, subject, request_id)
        around = headers_around_id.get(key)
        if around is None:
            attributes = attributes_for(event, source=source, request_id=request_id)
            prefix, _, suffix = json.dumps({**attributes, "ce_id": _ID_SLOT}).partition(
                json.dumps(_ID_SLOT)
            )
            around = headers_around_id[key] = (prefix + '"', '"' + suffix)
        event_id = uuid4()
        records.append(
            (
                event_id,
                event.topic,
                subject,
                event.type,
                f"{around[0]}{event_id}{around[1]}",
                event.model_dump_json(),
            )
        )
    return records


_ID_SLOT = "\x00ce_id\x00"


async def insert_rows(
    conn: asyncpg.Connection, table: str, columns: tuple[str, ...], records: list[tuple]
) -> None:
    """COPY for many rows; a prepared INSERT for a few, where COPY's set-up costs more."""
    if len(records) >= COPY_THRESHOLD:
        await conn.copy_records_to_table(table, records=records, columns=columns)
    elif records:
        placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
        await conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", records
        )


# Every table a batch writes, in one statement (one round trip): measurements and outbox rows
# come as arrays when few, or are COPYed beforehand (empty arrays here) when many; the requests'
# audit rows too.
_WRITE = f"""
WITH measured AS (
    INSERT INTO measurements (id, indicator_id, period, period_end, value, revision, as_of,
                              reported_by, comment, source, recorded_at, expected, status, gap,
                              gap_percent)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::date[], $5::numeric[],
                         $6::int[], $7::date[], $8::text[], $9::text[], $10::text[],
                         $11::timestamptz[], $12::numeric[], $13::text[], $14::numeric[],
                         $15::numeric[])
), stated AS (
    INSERT INTO period_states (indicator_id, period, measurement_id, revision, actual,
                               expected, status, gap, gap_percent, status_changes)
    SELECT * FROM unnest($16::uuid[], $17::text[], $18::uuid[], $19::int[], $20::numeric[],
                         $21::numeric[], $22::text[], $23::numeric[], $24::numeric[], $25::int[])
    ON CONFLICT (indicator_id, period) DO UPDATE SET
        measurement_id = excluded.measurement_id, revision = excluded.revision,
        actual = excluded.actual, expected = excluded.expected, status = excluded.status,
        gap = excluded.gap, gap_percent = excluded.gap_percent,
        status_changes = excluded.status_changes
), signalled AS (
    INSERT INTO emitted_signals (indicator_id, period, kind, occurrence)
    SELECT * FROM unnest($26::uuid[], $27::text[], $28::text[], $29::int[])
), current AS (
    UPDATE indicators AS i SET current_period = c.period, current_status = c.status,
        current_expected = c.expected, current_actual = c.actual, current_gap = c.gap,
        current_gap_percent = c.gap_percent, updated_at = now()
    FROM unnest($30::uuid[], $31::text[], $32::text[], $33::numeric[], $34::numeric[],
                $35::numeric[], $36::numeric[])
        AS c(id, period, status, expected, actual, gap, gap_percent)
    WHERE i.id = c.id
), {audit_cte(43)}
INSERT INTO outbox_messages (event_id, topic, key, event_type, headers, payload)
SELECT event_id, topic, key, event_type, headers::jsonb, payload::jsonb
FROM unnest($37::uuid[], $38::text[], $39::text[], $40::text[], $41::text[], $42::text[])
    WITH ORDINALITY AS o(event_id, topic, key, event_type, headers, payload, n)
ORDER BY n
"""


def _columns(rows: list[tuple], width: int) -> list[list]:
    """Rows as `width` column arrays, for unnest."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


async def _write(
    conn: asyncpg.Connection, batch: Batch, source: str, audits: list[AuditRecord]
) -> None:
    measurements = batch.measurements
    outbox = outbox_records(batch.events, batch.request_ids, source)
    if len(measurements) >= COPY_THRESHOLD:
        await conn.copy_records_to_table(
            "measurements", records=measurements, columns=MEASUREMENT_COLUMNS
        )
        measurements = []
    if len(outbox) >= COPY_THRESHOLD:
        await conn.copy_records_to_table("outbox_messages", records=outbox, columns=OUTBOX_COLUMNS)
        outbox = []
    await conn.execute(
        _WRITE,
        *_columns(measurements, len(MEASUREMENT_COLUMNS)),
        *_columns(batch.state_rows(), 10),
        *_columns(batch.signals, 4),
        *_columns(batch.current_rows(), 7),
        *_columns(outbox, len(OUTBOX_COLUMNS)),
        *audit_arrays(audits),
    )


async def record_measurements(
    conn: asyncpg.Connection,
    rows: list[MeasurementRow],
    contexts: dict[UUID, IndicatorContext],
    *,
    now: datetime,
    source: str,
    audits: list[AuditRecord],
    request_ids: list[str | None],
) -> Recorded:
    """Write checked rows (in order: a later row of a period revises an earlier one).

    `contexts` come from `load_indicators(..., history=True)` under `lock_indicators`; `audits`
    are the requests' audit rows, taken from their units of work, written by the same statement;
    `request_ids` name each row's request.
    """
    batch = Batch(contexts, now)
    for row, request_id in zip(rows, request_ids, strict=True):
        batch.add(row, request_id)
    batch.forecast_years(now.date())
    await _write(conn, batch, source, audits)
    signals = len(batch.events) - len(rows)
    log.info(
        "measurements recorded",
        rows=len(rows),
        indicators=len({r.indicator_id for r in rows}),
        revisions=batch.revisions,
        signals=signals,
    )
    return Recorded(batch=batch, signals=signals, revisions=batch.revisions)


async def reevaluate(
    conn: asyncpg.Connection,
    indicator_id: UUID,
    *,
    now: datetime,
    source: str,
    request_id: str | None,
) -> int:
    """Judge every reported period of an indicator again after its plan changed; how many
    signals that raised.

    Targets, direction, tolerance and baseline decide each period's expected value and status:
    the latest value of every period is evaluated against the plan as it is now (the caller has
    the indicator locked and its change flushed), a period whose status moves says so, a
    year's target met or missed anew is announced, and the current status follows. The
    measurements keep the evaluation they had when they were recorded.
    """
    contexts = await load_indicators(conn, {indicator_id}, history=True)
    context = contexts.get(indicator_id)
    if context is None or not context.states:
        return 0
    batch = Batch(contexts, now)
    for period in sorted(context.states, key=chronology):
        batch.rejudge(context, period, request_id)
    batch.forecast_years(now.date())
    await _write(conn, batch, source, [])
    log.info("indicator re-evaluated", indicator_id=str(indicator_id), signals=len(batch.events))
    return len(batch.events)


def request_hash(*parts: Any) -> str:
    """A fingerprint of a request, to tell a retry from a different request with the same key."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(
            part
            if isinstance(part, bytes)
            else json.dumps(part, sort_keys=True, default=str).encode()
        )
        digest.update(b"\x00")
    return digest.hexdigest()


_REPLAY = "SELECT request_hash, status_code, response FROM idempotency_keys WHERE key = $1"


async def replay(conn: asyncpg.Connection, key: str, fingerprint: str) -> tuple[int, Any] | None:
    """The stored answer to an earlier request with this Idempotency-Key, if any."""
    return stored_answer(await conn.fetchrow(_REPLAY, key), fingerprint)


async def open_with_replay(
    session: AsyncSession, key: str, fingerprint: str
) -> tuple[asyncpg.Connection, tuple[int, Any] | None]:
    """`replay` as the statement that opens the session's transaction (one round trip fewer)."""
    conn, row = await open_transaction(session, _REPLAY, key)
    return conn, stored_answer(row, fingerprint)


def stored_answer(row: Any, fingerprint: str) -> tuple[int, Any] | None:
    """The stored status and body of a `_REPLAY` row; 422 if it answered another request."""
    if row is None:
        return None
    request_hash, status_code, response = row  # an asyncpg record or a SQLAlchemy row
    if request_hash != fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was already used for a different request",
            errors=[{"field": "Idempotency-Key", "message": "reused with a different body"}],
        )
    return status_code, _json(response)


async def remember(
    conn: asyncpg.Connection, key: str, fingerprint: str, status_code: int, body: Any
) -> None:
    """Store the answer for retries, in the transaction that wrote the effects."""
    stored = await conn.fetchval(
        "INSERT INTO idempotency_keys (key, request_hash, status_code, response) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING RETURNING key",
        key,
        fingerprint,
        status_code,
        json.dumps(body, ensure_ascii=False),
    )
    if stored is None:
        raise Conflict(
            "a request with this Idempotency-Key is being processed; retry to get its answer",
            field="Idempotency-Key",
        )


def field_problem(errors: list[tuple[str, str]]) -> Unprocessable:
    """A 422 naming every bad field."""
    return Unprocessable(
        "; ".join(f"{f}: {m}" for f, m in errors),
        errors=[{"field": f, "message": m} for f, m in errors],
    )


def _not_responsible(indicator_id: UUID) -> str:
    return f"indicator {indicator_id} is reported by its responsible department, not by you"


def _check_pending(context: IndicatorContext | None, pending: PendingMeasurement) -> None:
    """Raise the problem that refuses a POSTed value, if any.

    Only the indicator's responsible department (or an admin) may report; an indicator outside
    the principal's region is answered as unknown.
    """
    indicator_id = pending.row.indicator_id
    if context is None:
        raise NotFound(f"indicator {indicator_id} does not exist", field="indicator_id")
    ensure_visible(pending.principal, context.region, what=f"indicator {indicator_id}")
    if not may_write_for_department(pending.principal, context.department_id):
        raise Forbidden(_not_responsible(indicator_id), field="indicator_id")
    errors = check_value(context.rules, pending.row.period, pending.row.value)
    if errors:
        raise field_problem(errors)


async def record_many(
    conn: asyncpg.Connection,
    pending: list[PendingMeasurement],
    *,
    now: datetime,
    source: str,
) -> list[MeasurementPublic | Problem]:
    """Record POSTed values of indicators locked by `lock_indicators`, each as its own request.

    Each value is checked on its own: a refused one is answered with its problem and leaves no
    trace (no row, event or audit row); the accepted ones are written together, in order, by
    one statement. One outcome per value, in order.
    """
    contexts = await load_indicators(conn, {p.row.indicator_id for p in pending}, history=True)
    accepted: list[PendingMeasurement] = []
    outcomes: list[int | Problem] = []
    for item in pending:
        try:
            _check_pending(contexts.get(item.row.indicator_id), item)
        except Problem as problem:
            outcomes.append(problem)
            continue
        outcomes.append(len(accepted))
        accepted.append(item)
    published: list[MeasurementPublic] = []
    if accepted:
        recorded = await record_measurements(
            conn,
            [item.row for item in accepted],
            contexts,
            now=now,
            source=source,
            audits=[item.audit for item in accepted if item.audit is not None],
            request_ids=[item.request_id for item in accepted],
        )
        published = recorded.batch.published()
    return [published[o] if isinstance(o, int) else o for o in outcomes]


def _errors_in_rows(errors: list[RowError]) -> str:
    return f"{len(errors)} errors in {len({e.row for e in errors})}"


def _listed(errors: list[RowError], limit: int) -> list[dict[str, Any]]:
    return [{"row": e.row, "field": e.field, "message": e.message} for e in errors[: max(limit, 0)]]


async def import_rows(
    conn: asyncpg.Connection,
    raw_rows: list[Any],
    *,
    principal: Principal,
    reporter: str | None,
    now: datetime,
    source: str,
    max_errors: int,
    audit: AuditRecord | None,
) -> ImportResult:
    """Check every row, then write all of them; any error refuses the whole import.

    Rows for indicators of another department answer 403 listing them in `errors`, and every
    other row's errors in `other_errors`, so that one answer says everything to fix; any other
    error answers 422 listing them. Nothing is written, and at most `max_errors` errors are
    listed (all are counted). Indicators outside the principal's region are unknown.
    `reporter`, when given, is every row's reported_by (a department's import).
    """
    errors: list[RowError] = []
    forbidden: list[RowError] = []
    parsed: list[tuple[int, MeasurementRow]] = []
    for number, raw in enumerate(raw_rows, start=1):
        row, row_errors = parse_row(number, raw, now.date(), reporter=reporter)
        errors.extend(row_errors)
        if row is not None:
            parsed.append((number, row))
    indicator_ids = {r.indicator_id for _, r in parsed}
    await conn.execute(_LOCK, sorted(indicator_ids))
    contexts = await load_indicators(conn, indicator_ids, history=True)
    scope = region_scope(principal)
    for number, row in parsed:
        context = contexts.get(row.indicator_id)
        if context is None or not scope.covers(context.region):
            errors.append(RowError(number, "indicator_id", "unknown indicator"))
            continue
        if not may_write_for_department(principal, context.department_id):
            forbidden.append(RowError(number, "indicator_id", _not_responsible(row.indicator_id)))
            continue
        errors.extend(
            RowError(number, f, m) for f, m in check_value(context.rules, row.period, row.value)
        )
    errors.sort(key=lambda e: e.row)
    if forbidden:
        others = f"; {_errors_in_rows(errors)} other rows" if errors else ""
        raise Forbidden(
            f"{len(forbidden)} of {len(raw_rows)} rows are for indicators of another "
            f"department{others}; nothing was imported",
            errors=_listed(forbidden, max_errors),
            error_count=len(forbidden),
            other_errors=_listed(errors, max_errors - len(forbidden)),
            other_error_count=len(errors),
        )
    if errors:
        raise Unprocessable(
            f"{_errors_in_rows(errors)} of {len(raw_rows)} rows; nothing was imported",
            errors=_listed(errors, max_errors),
            error_count=len(errors),
        )
    rows = [row for _, row in parsed]
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    recorded = await record_measurements(
        conn,
        rows,
        contexts,
        now=now,
        source=source,
        audits=[audit] if audit is not None else [],
        request_ids=[request_id] * len(rows),
    )
    return ImportResult(
        imported=len(rows),
        indicators=len(contexts),
        revisions=recorded.revisions,
        signals=recorded.signals,
    )


async def timeline(
    conn: asyncpg.Connection,
    indicator_id: UUID,
    page: PageParams,
    period: str | None,
    principal: Principal,
) -> Page[MeasurementPublic]:
    """Every revision of an indicator's values, by period then revision."""
    context = (await load_indicators(conn, {indicator_id})).get(indicator_id)
    if context is None:
        raise NotFound(f"indicator {indicator_id} does not exist", field="indicator_id")
    ensure_visible(principal, context.region, what=f"indicator {indicator_id}")
    where = "m.indicator_id = $1" + (" AND m.period = $2" if period else "")
    args: list[Any] = [indicator_id] + ([period] if period else [])
    total = await conn.fetchval(f"SELECT count(*) FROM measurements m WHERE {where}", *args)
    rows = await conn.fetch(
        f"""
        SELECT m.*, (s.measurement_id = m.id) AS latest FROM measurements m
        LEFT JOIN period_states s ON s.indicator_id = m.indicator_id AND s.period = m.period
        WHERE {where}
        -- at one end date a month, then its quarter, then the year (as `chronology` orders)
        ORDER BY m.period_end, CASE WHEN m.period LIKE '%-Q%' THEN 1
                                    WHEN length(m.period) = 4 THEN 2 ELSE 0 END,
                 m.revision
        LIMIT {page.limit} OFFSET {page.offset}
        """,
        *args,
    )
    items = [
        MeasurementPublic(
            id=r["id"],
            indicator_id=r["indicator_id"],
            period=r["period"],
            value=r["value"],
            revision=r["revision"],
            latest=bool(r["latest"]),
            as_of=r["as_of"],
            reported_by=r["reported_by"],
            comment=r["comment"],
            source=r["source"],
            recorded_at=r["recorded_at"],
            evaluation=EvaluationPublic(
                expected=r["expected"],
                status=r["status"],
                gap=r["gap"],
                gap_percent=r["gap_percent"],
            )
            if r["status"]
            else None,
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


def deadline_of(period: Period, deadline_days: int) -> date:
    """When a period's report is due."""
    return period.end + timedelta(days=deadline_days)


async def indicator_evaluation(
    conn: asyncpg.Connection,
    indicator_id: UUID,
    deadline_days: int,
    year: int | None,
    principal: Principal,
) -> IndicatorEvaluation:
    """Expected versus actual for every period the indicator owes, with year-end forecasts."""
    contexts = await load_indicators(conn, {indicator_id}, history=True)
    if indicator_id not in contexts:
        raise NotFound(f"indicator {indicator_id} does not exist", field="indicator_id")
    context = contexts[indicator_id]
    ensure_visible(principal, context.region, what=f"indicator {indicator_id}")
    revisions = {
        r["period"]: r["n"]
        for r in await conn.fetch(
            "SELECT period, count(*) AS n FROM measurements WHERE indicator_id = $1 GROUP BY period",
            indicator_id,
        )
    }
    years = sorted(y for y in context.plan.targets if year is None or y == year)
    periods: list[PeriodEvaluation] = []
    forecasts: list[YearForecast] = []
    for target_year in years:
        owed = periods_of_year(target_year, context.rules.frequency)
        reported = [p for p in context.states if p.year == target_year and p not in owed]
        for period in sorted(owed + reported, key=chronology):
            state = context.states.get(period)
            periods.append(
                PeriodEvaluation(
                    period=str(period),
                    deadline=deadline_of(period, deadline_days),
                    expected=state.expected if state else expected_value(context.plan, period),
                    actual=state.actual if state else None,
                    status=state.status if state else None,
                    gap=state.gap if state else None,
                    gap_percent=state.gap_percent if state else None,
                    revisions=revisions.get(str(period), 0),
                )
            )
        points = sorted(
            ((p, s.actual) for p, s in context.states.items() if p.year == target_year),
            key=lambda point: chronology(point[0]),
        )
        result = forecast(context.plan, target_year, points)
        if result is not None:
            forecasts.append(
                YearForecast(
                    year=result.year,
                    target=result.target,
                    projected=result.projected,
                    gap=result.gap,
                    gap_percent=result.gap_percent,
                    misses=result.misses,
                )
            )
    return IndicatorEvaluation(indicator_id=indicator_id, periods=periods, forecasts=forecasts)
