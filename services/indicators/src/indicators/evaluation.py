"""The plan-versus-fact maths: expected values, direction-aware status, gaps and forecasts.

Pure functions over Decimal; no database, no clock. Values are compared exactly and rounded
only for storage (to `PLACES`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import MAX_PREC, Context, Decimal

from common.events import Direction, Status
from indicators.periods import Period

PLACES = Decimal("0.000001")
# Gaps in % of a tiny expectation have more digits than the default context's 28: rounding
# them to PLACES must not fail for lack of digits.
_UNLIMITED = Context(prec=MAX_PREC)
HUNDRED = Decimal(100)
DEFAULT_TOLERANCE_PERCENT = Decimal(5)


@dataclass(frozen=True, slots=True)
class Baseline:
    """A measured value at the end of a year before the targets start."""

    value: Decimal
    year: int


@dataclass(frozen=True, slots=True)
class Plan:
    """What an indicator promises: direction, yearly targets, baseline and tolerance."""

    direction: Direction
    targets: Mapping[int, Decimal]
    baseline: Baseline | None = None
    tolerance_percent: Decimal = DEFAULT_TOLERANCE_PERCENT


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A value judged against the plan for its period."""

    expected: Decimal
    actual: Decimal
    status: Status
    gap: Decimal
    gap_percent: Decimal | None


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES, context=_UNLIMITED)


def _anchor(plan: Plan, year: int) -> Decimal | None:
    """Where the straight line of a year starts: the plan's latest value before the year.

    That is last year's target; where the plan skips years, the latest earlier target or the
    baseline, whichever is more recent (the target when both are of one year).
    """
    earlier = [(y, 1, value) for y, value in plan.targets.items() if y < year]
    if plan.baseline is not None and plan.baseline.year < year:
        earlier.append((plan.baseline.year, 0, plan.baseline.value))
    return max(earlier)[2] if earlier else None


def expected_value(plan: Plan, period: Period) -> Decimal | None:
    """The planned value at the end of `period`, or None when the plan cannot say.

    A year (and any period closing it) expects that year's target. An earlier quarter or month
    expects the point on the straight line from the anchor (the previous year's target, or the
    baseline) at the start of the year to this year's target at its end; without an anchor
    there is no line, hence no expectation.
    """
    target = plan.targets.get(period.year)
    if target is None:
        return None
    if period.closes_year:
        return target
    anchor = _anchor(plan, period.year)
    if anchor is None:
        return None
    return _round(anchor + (target - anchor) * period.year_fraction)


def signed_gap(direction: Direction, expected: Decimal, actual: Decimal) -> Decimal:
    """actual − expected, negated for lower-is-better, so a negative gap always means short."""
    gap = actual - expected
    return gap if direction is Direction.higher_is_better else -gap


def judge(
    direction: Direction, expected: Decimal, actual: Decimal, tolerance_percent: Decimal
) -> Evaluation:
    """Status and gap of `actual` against `expected`.

    on_track when it meets or beats the expectation; at_risk when short by no more than
    tolerance_percent of the expected value; behind when short by more.
    """
    gap = signed_gap(direction, expected, actual)
    allowed_shortfall = abs(expected) * tolerance_percent / HUNDRED
    if gap >= 0:
        status = Status.on_track
    elif -gap <= allowed_shortfall:
        status = Status.at_risk
    else:
        status = Status.behind
    gap_percent = None if expected == 0 else _round(gap / abs(expected) * HUNDRED)
    return Evaluation(
        expected=expected, actual=actual, status=status, gap=_round(gap), gap_percent=gap_percent
    )


def evaluate(plan: Plan, period: Period, actual: Decimal) -> Evaluation | None:
    """Judge a measured value for a period; None when the plan has no expectation for it."""
    expected = expected_value(plan, period)
    if expected is None:
        return None
    return judge(plan.direction, expected, actual, plan.tolerance_percent)


def meets_target(direction: Direction, target: Decimal, actual: Decimal) -> bool:
    """Whether a year-end value reaches the year's target (no tolerance: a target is a target)."""
    return signed_gap(direction, target, actual) >= 0


@dataclass(frozen=True, slots=True)
class Forecast:
    """The year-end value a linear trend projects, judged against the year's target."""

    year: int
    projected: Decimal
    target: Decimal
    gap: Decimal
    gap_percent: Decimal | None
    misses: bool


def project_year_end(points: Sequence[tuple[Period, Decimal]]) -> Decimal | None:
    """Least-squares line through (fraction of the year elapsed, value), read at the year end.

    None with fewer than two points or when they all sit at the same moment (no trend).
    """
    if len(points) < 2:
        return None
    xs = [period.year_fraction for period, _ in points]
    ys = [value for _, value in points]
    n = Decimal(len(points))
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return _round(mean_y + slope * (1 - mean_x))


def forecast(plan: Plan, year: int, points: Sequence[tuple[Period, Decimal]]) -> Forecast | None:
    """Project a year's end from its reported periods before the year closes.

    `points` are the latest values of the year's quarters/months. No forecast without a target,
    once a value for the whole year (or its last quarter/month) is known, or without a trend.
    """
    target = plan.targets.get(year)
    if target is None:
        return None
    in_year = [(p, v) for p, v in points if p.year == year]
    if any(p.closes_year for p, _ in in_year):
        return None
    projected = project_year_end(in_year)
    if projected is None:
        return None
    gap = signed_gap(plan.direction, target, projected)
    return Forecast(
        year=year,
        projected=projected,
        target=target,
        gap=_round(gap),
        gap_percent=None if target == 0 else _round(gap / abs(target) * HUNDRED),
        misses=gap < 0,
    )
