"""Finding indicator-periods past their reporting deadline and announcing each once."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from common.events import Frequency, ReportOverdue
from common.logging import get_logger
from indicators.evaluation import expected_value
from indicators.measurements.service import (
    OUTBOX_COLUMNS,
    deadline_of,
    insert_rows,
    load_indicators,
    outbox_records,
)
from indicators.overdue.schemas import OverdueReport
from indicators.periods import Period, periods_of_year
from indicators.signals import SignalKind

log = get_logger(__name__)

# One scanner per database at a time, whatever the number of replicas.
SCAN_LOCK_ID = 0x6F76657264


@dataclass(frozen=True, slots=True)
class Filters:
    """Which overdue reports to list."""

    region: str | None = None
    department_id: UUID | None = None


def past_deadline(
    years: Iterable[int], frequency: Frequency, today: date, deadline_days: int
) -> list[tuple[Period, date]]:
    """Each period of these years, with its deadline, whose report was due before `today`."""
    due = []
    for year in sorted(years):
        for period in periods_of_year(year, frequency):
            deadline = deadline_of(period, deadline_days)
            if today <= deadline:
                break
            due.append((period, deadline))
    return due


async def _reported(
    conn: asyncpg.Connection, indicator_ids: list[UUID]
) -> set[tuple[UUID, Period]]:
    """(indicator, period) pairs that have a value, themselves or through a finer period."""
    covered: set[tuple[UUID, Period]] = set()
    for row in await conn.fetch(
        "SELECT indicator_id, period FROM period_states WHERE indicator_id = ANY($1::uuid[])",
        indicator_ids,
    ):
        covered.update((row["indicator_id"], p) for p in Period.parse(row["period"]).enclosing())
    return covered


async def find_overdue(
    conn: asyncpg.Connection, today: date, deadline_days: int, filters: Filters = Filters()
) -> list[OverdueReport]:
    """Periods of live indicators, within their target years, unreported after the deadline.

    A period counts as reported when it, or a finer period inside it, has a value.
    """
    ids = await conn.fetch(
        "SELECT id FROM indicators WHERE archived_at IS NULL"
        " AND ($1::text IS NULL OR region = $1)"
        " AND ($2::uuid IS NULL OR responsible_department_id = $2)",
        filters.region,
        filters.department_id,
    )
    contexts = await load_indicators(conn, {r["id"] for r in ids})
    covered = await _reported(conn, list(contexts))
    return [
        OverdueReport(
            indicator_id=context.id,
            region=context.region,
            responsible_department_id=context.department_id,
            period=str(period),
            deadline=deadline,
            expected=expected_value(context.plan, period),
        )
        for context in sorted(contexts.values(), key=lambda c: str(c.id))
        for period, deadline in past_deadline(
            context.plan.targets, context.rules.frequency, today, deadline_days
        )
        if (context.id, period) not in covered
    ]


async def record_history_announced(
    conn: asyncpg.Connection,
    indicator_id: UUID,
    years: Iterable[int],
    frequency: Frequency,
    today: date,
    deadline_days: int,
) -> int:
    """Mark the indicator's unreported periods already past their deadline as announced.

    For a plan loaded after the fact: the scanner then stays silent about those periods (the
    overdue listings still show them), while deadlines still ahead are announced as usual.
    Returns how many periods were newly marked; runs in the caller's transaction.
    """
    due = past_deadline(years, frequency, today, deadline_days)
    if not due:
        return 0
    covered = await _reported(conn, [indicator_id])
    periods = [str(period) for period, _ in due if (indicator_id, period) not in covered]
    marked = await conn.fetch(
        """
        INSERT INTO emitted_signals (indicator_id, period, kind, occurrence)
        SELECT $1, p, $3, 0 FROM unnest($2::text[]) AS t(p)
        ON CONFLICT DO NOTHING RETURNING period
        """,
        indicator_id,
        periods,
        SignalKind.report_overdue.value,
    )
    if marked:
        log.info(
            "past reports recorded as announced",
            indicator_id=str(indicator_id),
            count=len(marked),
            today=today.isoformat(),
        )
    return len(marked)


async def announce_overdue(
    conn: asyncpg.Connection, today: date, deadline_days: int, source: str
) -> int:
    """Emit report_overdue once per indicator-period; returns how many were new."""
    if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", SCAN_LOCK_ID):
        return 0
    overdue = await find_overdue(conn, today, deadline_days)
    if not overdue:
        return 0
    claimed = {
        (row["indicator_id"], row["period"])
        for row in await conn.fetch(
            """
            INSERT INTO emitted_signals (indicator_id, period, kind, occurrence)
            SELECT i, p, $3, 0 FROM unnest($1::uuid[], $2::text[]) AS t(i, p)
            ON CONFLICT DO NOTHING RETURNING indicator_id, period
            """,
            [o.indicator_id for o in overdue],
            [o.period for o in overdue],
            SignalKind.report_overdue.value,
        )
    }
    events = [
        ReportOverdue(
            indicator_id=o.indicator_id,
            region=o.region,
            responsible_department_id=o.responsible_department_id,
            period=o.period,
            expected=o.expected,
            actual=None,
            deadline=o.deadline,
        )
        for o in overdue
        if (o.indicator_id, o.period) in claimed
    ]
    if events:
        # The scanner answers no request.
        records = outbox_records(events, [None] * len(events), source)
        await insert_rows(conn, "outbox_messages", OUTBOX_COLUMNS, records)
        log.info("reports overdue", new=len(events), today=today.isoformat())
    return len(events)
