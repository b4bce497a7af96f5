"""Request and response shapes of indicators, targets, summaries and the behind list."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from common.events import Direction, Frequency, Status
from indicators.catalogue.models import TOLERANCE_DIGITS, TOLERANCE_PLACES
from indicators.measurements.rows import number_problem, text_problem

PERCENT = "%"
MIN_YEAR, MAX_YEAR = 2000, 2100


def _refuse(problem: str | None) -> None:
    # A custom error keeps the message as the import words it (no "Value error, " prefix).
    if problem:
        raise PydanticCustomError("not_storable", problem)


def _storable_value(value: Decimal) -> Decimal:
    _refuse(number_problem(value))
    return value


def _storable_tolerance(value: Decimal) -> Decimal:
    _refuse(number_problem(value, TOLERANCE_DIGITS, TOLERANCE_PLACES))
    return value


def _storable_text(text: str) -> str:
    _refuse(text_problem(text))
    return text


# Decimals are finite (pydantic refuses NaN and infinities) and travel as exact strings
# without trailing zeros ("60", "12.5").
Value = Annotated[
    Decimal,
    PlainSerializer(lambda d: format(d.normalize(), "f"), return_type=str, when_used="json"),
]
# Input that is stored as given: refused, naming its field, when its column cannot hold it.
StoredValue = Annotated[Value, AfterValidator(_storable_value)]
Tolerance = Annotated[Value, Field(ge=0, le=100), AfterValidator(_storable_tolerance)]
Text = Annotated[str, AfterValidator(_storable_text)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]


def check_percent_targets(unit: str | None, targets: dict[int, Decimal] | None) -> None:
    """A «%» indicator's targets are not negative.

    Above 100 is allowed: an index (percent of a base, e.g. «Индекс вовлеченности …» at
    103–107 %) is a «%» indicator too; its measured values then have no upper bound.
    """
    if unit == PERCENT and targets:
        bad = sorted(year for year, value in targets.items() if value < 0)
        if bad:
            raise ValueError(f"a % indicator's targets cannot be negative (years {bad})")


class BaselineIn(BaseModel):
    """A measured value before the targets start, anchoring the first year's line."""

    model_config = ConfigDict(extra="forbid")

    value: StoredValue
    year: Year


class IndicatorBase(BaseModel):
    """Fields an indicator is defined by."""

    model_config = ConfigDict(extra="forbid")

    unit: Text = Field(min_length=1, max_length=50, examples=["%"])
    direction: Direction = Direction.higher_is_better
    frequency: Frequency = Frequency.annual
    targets: dict[Year, StoredValue] = Field(
        description="Year → target value; may be empty for an indicator whose targets were never "
        "published (it is catalogued, but accepts no values until a target is set)",
        examples=[{2022: 40, 2023: 60, 2024: 80}],
    )
    baseline: BaselineIn | None = None
    tolerance_percent: Tolerance = Field(
        Decimal(5),
        description="How far short of the expected value, in % of it, still counts as at risk",
    )

    @field_validator("targets")
    @classmethod
    def _targets_valid(cls, targets: dict[int, Decimal], info: ValidationInfo) -> dict:
        check_percent_targets(info.data.get("unit"), targets)
        return targets


class IndicatorCreate(IndicatorBase):
    """An indicator, created or brought up to date by its natural key (project_id, name)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "project_id": "0b6f3c52-4d3e-4c8e-9a51-6f1d2b7c9e10",
                    "name": "Доля школ с широкополосным доступом в Интернет",
                    "unit": "%",
                    "direction": "higher_is_better",
                    "frequency": "quarterly",
                    "targets": {"2022": 60, "2023": 80, "2024": 100},
                    "baseline": {"value": 45, "year": 2021},
                    "tolerance_percent": 5,
                    "region": "leningrad-oblast",
                },
                {
                    "project_id": "0b6f3c52-4d3e-4c8e-9a51-6f1d2b7c9e10",
                    "name": "Доля медицинских организаций, подключенных к ЕГИСЗ",
                    "unit": "%",
                    "frequency": "annual",
                    "targets": {"2022": 70, "2023": 85, "2024": 100},
                    "region": "leningrad-oblast",
                    "announce_overdue": False,
                },
            ]
        }
    )

    project_id: UUID
    name: Text = Field(min_length=1, max_length=1000)
    region: Text | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Region slug; needed only while the project's events have not arrived yet",
    )
    announce_overdue: bool = Field(
        True,
        description=(
            "false when importing a plan of past years: every period of the target years whose "
            "report deadline has already passed without a value is recorded as announced, so "
            "no indicator.report_overdue event is emitted for it (history is not news); it "
            "still counts as unreported in /overdue and the evaluation, and accepts values. "
            "Deadlines still ahead are announced as usual. An instruction for this request "
            "only, not stored with the indicator"
        ),
    )


class IndicatorUpdate(BaseModel):
    """A partial change; `targets`, when given, replaces all targets."""

    model_config = ConfigDict(extra="forbid")

    name: Text | None = Field(None, min_length=1, max_length=1000)
    unit: Text | None = Field(None, min_length=1, max_length=50)
    direction: Direction | None = None
    frequency: Frequency | None = None
    targets: dict[Year, StoredValue] | None = Field(None, min_length=1)
    baseline: BaselineIn | None = None
    tolerance_percent: Tolerance | None = None


class CurrentStatus(BaseModel):
    """The status of the chronologically latest evaluated period."""

    period: str
    status: Status
    expected: Value | None
    actual: Value | None
    gap: Value | None
    gap_percent: Value | None


class IndicatorPublic(BaseModel):
    """An indicator with its targets and current status."""

    id: UUID
    project_id: UUID
    name: str
    unit: str
    direction: Direction
    frequency: Frequency
    targets: dict[int, Value]
    baseline: BaselineIn | None
    tolerance_percent: Value
    region: str
    sector_number: int | None
    responsible_department_id: UUID | None
    project_known: bool = Field(description="Whether the project's events have arrived")
    current: CurrentStatus | None
    archived: bool
    created_at: datetime
    updated_at: datetime


StatusFilter = Literal["on_track", "at_risk", "behind", "no_data"]
GroupBy = Literal["region", "sector", "department", "project"]


class StatusCounts(BaseModel):
    """How many indicators stand where."""

    on_track: int = 0
    at_risk: int = 0
    behind: int = 0
    no_data: int = 0
    total: int = 0


class SummaryGroup(BaseModel):
    """Counts by status for one region, sector, department or project."""

    region: str
    key: str | None = Field(description="Sector number, department id or project id")
    name: str | None = Field(description="Sector, department or project name when known")
    counts: StatusCounts


class Summary(BaseModel):
    """Counts by status, grouped."""

    group_by: GroupBy
    groups: list[SummaryGroup]
    totals: StatusCounts
