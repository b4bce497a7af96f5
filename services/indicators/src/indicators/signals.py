"""Which signals a new evaluation raises; pure, so revisions and edges are unit-testable.

Every signal is emitted at most once per (indicator, period, kind, occurrence): occurrence is 0
for all kinds but `status_changed`, which counts the period's status changes so that a revision
changing the status again emits again while a revision keeping it emits nothing.
"""

from dataclasses import dataclass
from enum import StrEnum

from common.events import Status
from indicators.evaluation import Evaluation, Plan, meets_target
from indicators.periods import Frequency, Period

_COARSENESS = {Frequency.monthly: 0, Frequency.quarterly: 1, Frequency.annual: 2}


class SignalKind(StrEnum):
    """The events that are deduplicated per indicator-period."""

    status_changed = "status_changed"
    back_on_track = "back_on_track"
    target_met = "target_met"
    target_missed = "target_missed"
    forecast_miss = "forecast_miss"
    report_overdue = "report_overdue"


@dataclass(frozen=True, slots=True)
class Signal:
    """A signal to emit about a period (the year for target and forecast signals)."""

    kind: SignalKind
    period: Period


def chronology(period: Period) -> tuple:
    """Sort key: by end date; at the same end a month, then its quarter, then the year count last."""
    return (period.year, period.end_month, _COARSENESS[period.granularity])


def status_before(period: Period, known: dict[Period, Status]) -> Status | None:
    """The status a new value of `period` changes from.

    The period's own status when it was evaluated before (a revision); otherwise the status of
    the latest earlier evaluated period, so a new quarter only "changes" status when it differs.
    """
    if period in known:
        return known[period]
    earlier = [p for p in known if chronology(p) < chronology(period)]
    return known[max(earlier, key=chronology)] if earlier else None


def current_status(known: dict[Period, Status]) -> tuple[Period, Status] | None:
    """The indicator's status: that of its chronologically latest evaluated period."""
    if not known:
        return None
    latest = max(known, key=chronology)
    return latest, known[latest]


def signals_for(
    plan: Plan, period: Period, before: Status | None, evaluation: Evaluation
) -> list[Signal]:
    """Signals raised by a new evaluation of `period` whose status was `before`."""
    raised: list[Signal] = []
    if evaluation.status != before:
        raised.append(Signal(SignalKind.status_changed, period))
        if before in (Status.at_risk, Status.behind) and evaluation.status is Status.on_track:
            raised.append(Signal(SignalKind.back_on_track, period))
    if period.closes_year and period.year in plan.targets:
        year = Period(period.year, Frequency.annual)
        met = meets_target(plan.direction, plan.targets[period.year], evaluation.actual)
        raised.append(Signal(SignalKind.target_met if met else SignalKind.target_missed, year))
    return raised
