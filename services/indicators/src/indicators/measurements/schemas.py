"""Request and response shapes of measurements, evaluations and imports."""

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from common.events import Status
from indicators.catalogue.schemas import Text, Value
from indicators.measurements.rows import MAX_TEXT

PERIOD_PATTERN = r"^\d{4}(-(Q[1-4]|0[1-9]|1[0-2]))?$"


class MeasurementCreate(BaseModel):
    """A value a department reports for a period."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "period": "2023-Q2",
                    "value": "57.5",
                    "as_of": "2023-07-05",
                    "comment": "по данным мониторинга",
                    "source": "ГИС «Мониторинг»",
                }
            ]
        },
    )

    period: str = Field(pattern=PERIOD_PATTERN, description="2023, 2023-Q2 or 2023-05")
    value: Value
    as_of: date | None = Field(None, description="The date the value describes; today if absent")
    reported_by: Text | None = Field(
        None,
        min_length=1,
        max_length=MAX_TEXT["reported_by"],
        description="The reporting department: required from an admin reporting on a "
        "department's behalf; a department's credentials set it (sending it is refused)",
    )
    comment: Text | None = Field(None, max_length=MAX_TEXT["comment"])
    source: Text | None = Field(None, max_length=MAX_TEXT["source"])


class MeasurementImportRow(MeasurementCreate):
    """One row of a JSON import: a measurement and the indicator it is for."""

    indicator_id: UUID


class EvaluationPublic(BaseModel):
    """A value judged against the plan of its period."""

    expected: Value
    status: Status
    gap: Value
    gap_percent: Value | None


class MeasurementPublic(BaseModel):
    """A recorded value (one revision) with its evaluation."""

    id: UUID
    indicator_id: UUID
    period: str
    value: Value
    revision: int
    latest: bool = Field(description="Whether this revision is the one that counts")
    as_of: date
    reported_by: str
    comment: str | None
    source: str | None
    recorded_at: datetime
    evaluation: EvaluationPublic | None = Field(
        description="Absent when the plan has no expectation for the period"
    )


class PeriodEvaluation(BaseModel):
    """Expected versus actual for one period the indicator owes."""

    period: str
    deadline: date
    expected: Value | None
    actual: Value | None
    status: Status | None
    gap: Value | None
    gap_percent: Value | None
    revisions: int


class YearForecast(BaseModel):
    """Where the linear trend of a year's reported periods ends."""

    year: int
    target: Value
    projected: Value
    gap: Value
    gap_percent: Value | None
    misses: bool


class IndicatorEvaluation(BaseModel):
    """An indicator's plan against its facts, period by period, with forecasts."""

    indicator_id: UUID
    periods: list[PeriodEvaluation]
    forecasts: list[YearForecast]


class ImportResult(BaseModel):
    """What a successful import wrote."""

    imported: int
    indicators: int
    revisions: int = Field(description="Rows that revised a period already reported")
    signals: int = Field(description="Status, target and forecast events raised")
