"""Settings of the projects service."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from common.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment of the projects service; defaults suit the local stack."""

    service_name: str = "projects"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/projects"

    milestone_overdue_interval_seconds: float = Field(
        60.0, gt=0, description="How often pending milestones are checked for a passed due date"
    )
    milestone_overdue_batch_size: int = Field(
        100, ge=1, le=10_000, description="Milestones marked missed per transaction"
    )
    milestone_timezone: str = Field(
        "Europe/Moscow",
        description="Time zone whose calendar decides when a due date has passed",
    )

    @field_validator("milestone_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
