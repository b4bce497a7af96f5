"""Plan-versus-fact maths: expected values, status with tolerance, gaps, forecasts, revisions."""

from decimal import Decimal as D

import pytest

from common.events import Direction, Status
from indicators.evaluation import (
    Baseline,
    Plan,
    evaluate,
    expected_value,
    forecast,
    judge,
    project_year_end,
)
from indicators.periods import Period
from indicators.signals import Signal, SignalKind, current_status, signals_for, status_before

UP = Direction.higher_is_better
DOWN = Direction.lower_is_better
P = Period.parse


def plan(direction=UP, targets=None, baseline=None, tolerance=D(5)) -> Plan:
    return Plan(
        direction=direction,
        targets=targets if targets is not None else {2022: D(40), 2023: D(60), 2024: D(100)},
        baseline=baseline,
        tolerance_percent=tolerance,
    )


# --- expected value -------------------------------------------------------------------------


def test_a_year_expects_its_target():
    assert expected_value(plan(), P("2023")) == D(60)
    assert expected_value(plan(), P("2023-Q4")) == D(60)
    assert expected_value(plan(), P("2023-12")) == D(60)


def test_a_year_without_a_target_expects_nothing():
    assert expected_value(plan(), P("2025")) is None
    assert expected_value(plan(), P("2025-Q2")) is None


@pytest.mark.parametrize(
    ("period", "expected"),
    [("2023-Q1", D(45)), ("2023-Q2", D(50)), ("2023-Q3", D(55)), ("2023-Q4", D(60))],
)
def test_quarters_follow_the_line_from_last_years_target(period, expected):
    assert expected_value(plan(), P(period)) == expected


def test_months_follow_the_same_line():
    # 40 → 60 over twelve months: +5/3 a month.
    assert expected_value(plan(), P("2023-01")) == D("41.666667")
    assert expected_value(plan(), P("2023-06")) == D(50)
    assert expected_value(plan(), P("2023-09")) == D(55)


def test_the_line_of_a_lower_is_better_indicator_descends():
    down = plan(DOWN, {2022: D(30), 2023: D(10)})
    assert expected_value(down, P("2023-Q1")) == D(25)
    assert expected_value(down, P("2023-Q3")) == D(15)


def test_the_first_year_starts_from_the_baseline():
    with_baseline = plan(targets={2022: D(40)}, baseline=Baseline(D(20), 2021))
    assert expected_value(with_baseline, P("2022-Q1")) == D(25)
    assert expected_value(with_baseline, P("2022-Q2")) == D(30)


def test_an_older_baseline_starts_the_line_at_the_start_of_the_year():
    # baseline 0 (2020) at the start of 2022, target 40 at its end: Q2 is half way.
    older = plan(targets={2022: D(40)}, baseline=Baseline(D(0), 2020))
    assert expected_value(older, P("2022-Q2")) == D(20)


def test_where_the_plan_skips_years_the_latest_earlier_target_starts_the_line():
    # 2024's 80 at the start of 2030, 2030's 100 at its end; an older baseline does not count.
    skipping = plan(targets={2024: D(80), 2030: D(100)}, baseline=Baseline(D(0), 2020))
    assert expected_value(skipping, P("2030-Q2")) == D(90)


def test_a_baseline_more_recent_than_the_last_target_starts_the_line():
    rebased = plan(targets={2018: D(10), 2024: D(60)}, baseline=Baseline(D(40), 2021))
    assert expected_value(rebased, P("2024-Q2")) == D(50)


def test_last_years_target_wins_over_the_baseline():
    both = plan(baseline=Baseline(D(0), 2021))
    assert expected_value(both, P("2023-Q2")) == D(50)


def test_without_an_anchor_only_the_year_end_is_expected():
    lonely = plan(targets={2022: D(40)})
    assert expected_value(lonely, P("2022-Q2")) is None
    assert expected_value(lonely, P("2022-Q4")) == D(40)


def test_a_baseline_of_the_same_year_is_not_an_anchor():
    same_year = plan(targets={2022: D(40)}, baseline=Baseline(D(10), 2022))
    assert expected_value(same_year, P("2022-Q2")) is None


# --- status, tolerance and gap --------------------------------------------------------------


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        (D(120), Status.on_track),
        (D(100), Status.on_track),  # meets exactly
        (D("99.99"), Status.at_risk),
        (D(95), Status.at_risk),  # short by exactly the tolerance
        (D("94.99"), Status.behind),
        (D(0), Status.behind),
    ],
)
def test_higher_is_better_status_with_the_tolerance_edges(actual, status):
    assert judge(UP, D(100), actual, D(5)).status is status


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        (D(80), Status.on_track),
        (D(100), Status.on_track),
        (D("100.01"), Status.at_risk),
        (D(105), Status.at_risk),
        (D("105.01"), Status.behind),
    ],
)
def test_lower_is_better_status_with_the_tolerance_edges(actual, status):
    assert judge(DOWN, D(100), actual, D(5)).status is status


def test_gap_is_negative_when_short_in_both_directions():
    up = judge(UP, D(200), D(150), D(5))
    assert (up.gap, up.gap_percent) == (D(-50), D(-25))
    down = judge(DOWN, D(200), D(250), D(5))
    assert (down.gap, down.gap_percent) == (D(-50), D(-25))
    ahead = judge(DOWN, D(200), D(150), D(5))
    assert (ahead.gap, ahead.gap_percent, ahead.status) == (D(50), D(25), Status.on_track)


def test_a_zero_expectation_has_no_gap_percent_and_no_tolerance():
    zero = judge(DOWN, D(0), D("0.1"), D(5))
    assert zero.gap_percent is None and zero.status is Status.behind
    assert judge(DOWN, D(0), D(0), D(5)).status is Status.on_track


def test_gaps_of_the_largest_values_are_exact_beyond_28_digits():
    # Both values fit NUMERIC(24, 6); the gap has 19 digits before the point, and in % of a
    # tiny expectation 26, which the default decimal context could not round.
    largest = D("999999999999999999.999999")
    apart = judge(UP, -largest, largest, D(5))
    assert apart.gap == D("1999999999999999999.999998")
    tiny = judge(DOWN, D("0.000001"), largest, D(5))
    assert tiny.gap_percent == D("-99999999999999999999999800")
    trend = forecast(
        plan(targets={2023: D("0.000001")}),
        2023,
        [(P("2023-Q1"), -largest), (P("2023-Q2"), largest)],
    )
    assert trend is not None and trend.projected == 5 * largest


def test_tolerance_is_configurable_per_indicator():
    assert judge(UP, D(100), D(85), D(20)).status is Status.at_risk
    assert judge(UP, D(100), D("99.9"), D(0)).status is Status.behind


def test_quarterly_evaluation_uses_the_interpolated_expectation():
    result = evaluate(plan(), P("2023-Q2"), D("48"))  # expected 50, tolerance 2.5
    assert result.expected == D(50) and result.status is Status.at_risk and result.gap == D(-2)
    assert evaluate(plan(), P("2023-Q2"), D("47.4")).status is Status.behind
    assert evaluate(plan(targets={2022: D(40)}), P("2022-Q2"), D(1)) is None


# --- forecast -------------------------------------------------------------------------------


def test_linear_projection_through_two_points():
    assert project_year_end([(P("2023-Q1"), D(10)), (P("2023-Q2"), D(20))]) == D(40)


def test_least_squares_projection_through_noisy_points():
    points = [(P("2023-03"), D(10)), (P("2023-06"), D(22)), (P("2023-09"), D(29))]
    # slope 4.75 / 0.125 = 38 a year through the mean (0.5, 61/3): 61/3 + 38 * 0.5
    assert project_year_end(points) == D("39.333333")


def test_no_projection_without_a_trend():
    assert project_year_end([(P("2023-Q1"), D(10))]) is None
    assert project_year_end([(P("2023-Q1"), D(10)), (P("2023-03"), D(12))]) is None


def test_forecast_warns_when_the_trend_misses_the_target():
    result = forecast(plan(), 2023, [(P("2023-Q1"), D(10)), (P("2023-Q2"), D(20))])
    assert result.projected == D(40) and result.target == D(60)
    assert result.misses and result.gap == D(-20)


def test_forecast_is_quiet_when_the_trend_reaches_the_target():
    result = forecast(plan(), 2023, [(P("2023-Q1"), D(30)), (P("2023-Q2"), D(45))])
    assert result.projected == D(75) and not result.misses


def test_forecast_of_a_lower_is_better_indicator():
    down = plan(DOWN, {2023: D(10)})
    falling = forecast(down, 2023, [(P("2023-Q1"), D(40)), (P("2023-Q2"), D(30))])
    assert falling.projected == D(10) and not falling.misses
    slow = forecast(down, 2023, [(P("2023-Q1"), D(40)), (P("2023-Q2"), D(38))])
    assert slow.projected == D(34) and slow.misses and slow.gap == D(-24)


def test_no_forecast_once_the_year_end_is_known_or_without_a_target():
    closed = [(P("2023-Q1"), D(10)), (P("2023-Q4"), D(20))]
    assert forecast(plan(), 2023, closed) is None
    assert forecast(plan(), 2025, [(P("2025-Q1"), D(1)), (P("2025-Q2"), D(2))]) is None


def test_forecast_only_uses_points_of_its_year():
    points = [(P("2022-Q3"), D(100)), (P("2023-Q1"), D(10))]
    assert forecast(plan(), 2023, points) is None


# --- signals and revisions ------------------------------------------------------------------


def raised(period: str, before, actual, p=None) -> list[Signal]:
    p = p or plan()
    return signals_for(p, P(period), before, evaluate(p, P(period), actual))


def test_first_value_of_a_period_reports_its_status():
    assert raised("2023-Q2", None, D(50)) == [Signal(SignalKind.status_changed, P("2023-Q2"))]


def test_a_revision_that_keeps_the_status_raises_nothing():
    assert raised("2023-Q2", Status.on_track, D(55)) == []
    assert raised("2023-Q2", Status.behind, D(1)) == []


def test_a_revision_that_changes_the_status_raises_it():
    assert [s.kind for s in raised("2023-Q2", Status.on_track, D(10))] == [
        SignalKind.status_changed
    ]


def test_recovering_raises_back_on_track():
    assert [s.kind for s in raised("2023-Q2", Status.behind, D(50))] == [
        SignalKind.status_changed,
        SignalKind.back_on_track,
    ]
    assert [s.kind for s in raised("2023-Q2", Status.at_risk, D(50))][
        -1
    ] is SignalKind.back_on_track
    assert SignalKind.back_on_track not in [s.kind for s in raised("2023-Q2", Status.behind, D(49))]


def test_the_year_end_value_meets_or_misses_the_years_target():
    missed = raised("2023-Q4", Status.on_track, D(59))
    assert missed[-1] == Signal(SignalKind.target_missed, P("2023"))
    met = raised("2023", None, D(60))
    assert met[-1] == Signal(SignalKind.target_met, P("2023"))
    down = plan(DOWN, {2023: D(10)})
    assert raised("2023-12", None, D(11), down)[-1].kind is SignalKind.target_missed
    assert raised("2023-Q3", None, D(0))[-1].kind is SignalKind.status_changed


def test_the_status_before_a_new_period_is_that_of_the_latest_earlier_period():
    known = {P("2023-Q1"): Status.behind, P("2023-Q3"): Status.on_track}
    assert status_before(P("2023-Q2"), known) is Status.behind
    assert status_before(P("2023-Q4"), known) is Status.on_track
    assert status_before(P("2023-Q1"), known) is Status.behind  # a revision: its own status
    assert status_before(P("2022-Q4"), known) is None


def test_the_year_outranks_its_last_quarter_and_month_as_the_current_status():
    known = {P("2023-12"): Status.behind, P("2023"): Status.on_track, P("2023-Q4"): Status.at_risk}
    assert current_status(known) == (P("2023"), Status.on_track)
    assert current_status({}) is None
