"""Reporting periods of the indicators service: parsing, bounds, granularity."""

from datetime import date
from decimal import Decimal

import pytest

from indicators.periods import Frequency, InvalidPeriod, Period, periods_of_year


@pytest.mark.parametrize(
    ("text", "period", "start", "end"),
    [
        ("2023", Period(2023, Frequency.annual), date(2023, 1, 1), date(2023, 12, 31)),
        ("2023-Q1", Period(2023, Frequency.quarterly, 1), date(2023, 1, 1), date(2023, 3, 31)),
        ("2024-Q3", Period(2024, Frequency.quarterly, 3), date(2024, 7, 1), date(2024, 9, 30)),
        ("2024-02", Period(2024, Frequency.monthly, 2), date(2024, 2, 1), date(2024, 2, 29)),
        ("2023-12", Period(2023, Frequency.monthly, 12), date(2023, 12, 1), date(2023, 12, 31)),
    ],
)
def test_parse_round_trips_and_knows_its_bounds(text, period, start, end):
    parsed = Period.parse(text)
    assert parsed == period
    assert str(parsed) == text
    assert (parsed.start, parsed.end) == (start, end)


@pytest.mark.parametrize(
    "text", ["", "23", "2023-Q5", "2023-Q0", "2023-13", "2023-00", "2023-1", "2023/05", "Q1-2023"]
)
def test_malformed_periods_are_refused(text):
    with pytest.raises(InvalidPeriod):
        Period.parse(text)


def test_year_fraction_is_the_share_of_the_year_elapsed_at_the_period_end():
    assert Period.parse("2023-Q1").year_fraction == Decimal("0.25")
    assert Period.parse("2023-Q2").year_fraction == Decimal("0.5")
    assert Period.parse("2023-06").year_fraction == Decimal("0.5")
    assert Period.parse("2023").year_fraction == 1
    assert [
        p.closes_year
        for p in map(Period.parse, ["2023", "2023-Q4", "2023-12", "2023-Q3", "2023-11"])
    ] == [True, True, True, False, False]


@pytest.mark.parametrize(
    ("text", "frequency", "accepted"),
    [
        ("2023", Frequency.annual, True),
        ("2023-Q2", Frequency.annual, True),
        ("2023-05", Frequency.annual, True),
        ("2023", Frequency.quarterly, False),
        ("2023-Q2", Frequency.quarterly, True),
        ("2023-05", Frequency.quarterly, True),
        ("2023", Frequency.monthly, False),
        ("2023-Q2", Frequency.monthly, False),
        ("2023-05", Frequency.monthly, True),
    ],
)
def test_a_period_must_match_or_be_finer_than_the_frequency(text, frequency, accepted):
    assert Period.parse(text).reportable_at(frequency) is accepted


def test_periods_of_year():
    assert [str(p) for p in periods_of_year(2023, Frequency.quarterly)] == [
        "2023-Q1",
        "2023-Q2",
        "2023-Q3",
        "2023-Q4",
    ]
    assert len(periods_of_year(2023, Frequency.monthly)) == 12
    assert periods_of_year(2023, Frequency.annual) == [Period(2023, Frequency.annual)]


def test_a_period_lies_in_its_quarter_and_year():
    assert [str(p) for p in Period.parse("2023-05").enclosing()] == ["2023-05", "2023-Q2", "2023"]
    assert [str(p) for p in Period.parse("2023-Q4").enclosing()] == ["2023-Q4", "2023"]
    assert [str(p) for p in Period.parse("2023").enclosing()] == ["2023"]
