"""Reporting periods: a year, a quarter or a month, written 2023, 2023-Q2 or 2023-05."""

import calendar
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from common.events import Frequency

# Finer granularity has the larger rank: a period may be reported at its frequency or finer.
_RANK = {Frequency.annual: 0, Frequency.quarterly: 1, Frequency.monthly: 2}
_PER_YEAR = {Frequency.annual: 1, Frequency.quarterly: 4, Frequency.monthly: 12}
_PATTERN = re.compile(r"^(?P<year>\d{4})(?:-(?:Q(?P<quarter>[1-4])|(?P<month>0[1-9]|1[0-2])))?$")


class InvalidPeriod(ValueError):
    """A period string that is not YYYY, YYYY-Qn or YYYY-MM."""


@dataclass(frozen=True, order=True, slots=True)
class Period:
    """A year, or a quarter or month of a year; `index` is 1 for a year, else the quarter/month."""

    year: int
    granularity: Frequency
    index: int = 1

    @classmethod
    def parse(cls, text: str) -> "Period":
        """Read 2023, 2023-Q2 or 2023-05."""
        match = _PATTERN.match(text.strip())
        if match is None:
            raise InvalidPeriod(f"{text!r} is not a period: expected 2023, 2023-Q2 or 2023-05")
        year = int(match["year"])
        if match["quarter"]:
            return cls(year, Frequency.quarterly, int(match["quarter"]))
        if match["month"]:
            return cls(year, Frequency.monthly, int(match["month"]))
        return cls(year, Frequency.annual)

    def __str__(self) -> str:
        if self.granularity is Frequency.quarterly:
            return f"{self.year}-Q{self.index}"
        if self.granularity is Frequency.monthly:
            return f"{self.year}-{self.index:02d}"
        return str(self.year)

    @property
    def end_month(self) -> int:
        """The last month of the period."""
        return self.index * 12 // _PER_YEAR[self.granularity]

    @property
    def start_month(self) -> int:
        """The first month of the period."""
        return self.end_month - 12 // _PER_YEAR[self.granularity] + 1

    @property
    def start(self) -> date:
        """The first day of the period."""
        return date(self.year, self.start_month, 1)

    @property
    def end(self) -> date:
        """The last day of the period."""
        month = self.end_month
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def year_fraction(self) -> Decimal:
        """How much of its year has passed when the period ends: Q2 → 0.5, March → 0.25."""
        return Decimal(self.end_month) / Decimal(12)

    @property
    def closes_year(self) -> bool:
        """Whether the period ends on the last day of its year (the year, Q4, December)."""
        return self.end_month == 12

    def reportable_at(self, frequency: Frequency) -> bool:
        """Whether an indicator reported at `frequency` accepts a value for this period."""
        return _RANK[self.granularity] >= _RANK[frequency]

    def enclosing(self) -> list["Period"]:
        """The period itself and the coarser periods it lies in (its quarter, its year)."""
        periods = [self]
        if self.granularity is Frequency.monthly:
            periods.append(Period(self.year, Frequency.quarterly, (self.index - 1) // 3 + 1))
        if self.granularity is not Frequency.annual:
            periods.append(Period(self.year, Frequency.annual))
        return periods


def periods_of_year(year: int, frequency: Frequency) -> list[Period]:
    """Every period an indicator of this frequency owes for a year, in order."""
    if frequency is Frequency.annual:
        return [Period(year, Frequency.annual)]
    return [Period(year, frequency, i) for i in range(1, _PER_YEAR[frequency] + 1)]
