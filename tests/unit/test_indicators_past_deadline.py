"""Which periods' reports were already due on a day: what an import of history settles."""

from datetime import date

import pytest

from common.events import Frequency
from indicators.overdue.service import past_deadline


def periods(years, frequency, today, deadline_days=30) -> list[str]:
    return [str(p) for p, _ in past_deadline(years, frequency, today, deadline_days)]


def test_a_deadline_is_past_only_the_day_after_it():
    # 2023-Q1 ends 31 March; with 15 days it is due 15 April, overdue from the 16th.
    assert periods([2023], Frequency.quarterly, date(2023, 4, 15), 15) == []
    assert periods([2023], Frequency.quarterly, date(2023, 4, 16), 15) == ["2023-Q1"]


def test_every_target_year_counts_in_order_whatever_order_they_come_in():
    due = past_deadline([2024, 2022], Frequency.annual, date(2024, 6, 1), 30)
    assert [(str(p), d) for p, d in due] == [("2022", date(2023, 1, 30))]


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [
        (Frequency.annual, ["2022"]),
        (Frequency.quarterly, ["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4", "2023-Q1"]),
        (
            Frequency.monthly,
            [f"2022-{m:02d}" for m in range(1, 13)] + ["2023-01", "2023-02", "2023-03"],
        ),
    ],
)
def test_periods_follow_the_frequency(frequency, expected):
    assert periods({2022, 2023}, frequency, date(2023, 5, 1)) == expected


def test_no_targets_owe_nothing():
    assert periods([], Frequency.quarterly, date(2030, 1, 1)) == []
