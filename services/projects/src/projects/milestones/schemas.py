"""Request and response shapes of milestones."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from common.events import MilestoneStatus
from projects.validation import MAX_YEAR, MIN_YEAR, LongText, Year

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
DueDate = Annotated[date, Field(ge=date(MIN_YEAR, 1, 1), le=date(MAX_YEAR, 12, 31))]


class MilestoneCreate(BaseModel):
    """A milestone; due either on a date or at the end of a year («К концу 2024 года»)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"title": "Все школы подключены к ЕСПД", "year": 2024},
                {"title": "Запущен региональный портал", "due_date": "2023-06-30"},
                {"title": "Создан центр обработки данных", "year": 2022, "announce_overdue": False},
            ]
        },
    )

    title: Title
    due_date: DueDate | None = None
    year: Year | None = Field(
        None, validate_default=True, description="Due on 31 December of this year"
    )
    evidence: LongText | None = None
    announce_overdue: bool = Field(
        True,
        description=(
            "false when importing a plan: a due date that has already passed is recorded missed "
            "at once, without a project.milestone_overdue event (history is not news); a due "
            "date still ahead is watched and announced as usual"
        ),
    )

    @field_validator("year")
    @classmethod
    def _one_due_date(cls, year: int | None, info: ValidationInfo) -> int | None:
        if "due_date" not in info.data:
            return year  # due_date itself was invalid and is reported on its own
        due_date = info.data["due_date"]
        if (due_date is None) == (year is None):
            raise ValueError("give either due_date or year, exactly one of them")
        return year

    @property
    def resolved_due_date(self) -> date:
        """The due date, the end of the year when only a year was given."""
        return self.due_date or date(self.year, 12, 31)


class MilestoneUpdate(BaseModel):
    """The fields PATCH /milestones/{id} may change; moving a missed one's date reopens it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"due_date": "2025-12-31", "evidence": None}]},
    )

    title: Title | None = None
    due_date: DueDate | None = None
    evidence: LongText | None = None


class ReachRequest(BaseModel):
    """Evidence that a milestone was reached, and when (now unless given)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"evidence": "Акт приёмки № 15 от 20.12.2024"}]},
    )

    evidence: LongText | None = None
    reached_at: AwareDatetime | None = Field(None, description="Not in the future")


class MilestonePublic(BaseModel):
    """A milestone as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    project_id: UUID
    title: str
    due_date: date
    status: MilestoneStatus
    reached_at: datetime | None
    missed_at: datetime | None
    evidence: str | None
    created_at: datetime
    updated_at: datetime
