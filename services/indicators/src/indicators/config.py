"""Settings of the indicators service."""

from pydantic import Field

from common.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment of the indicators service; defaults suit the local stack."""

    service_name: str = "indicators"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/indicators"
    report_deadline_days: int = Field(
        30, ge=0, le=366, description="A period's report is due this many days after it ends"
    )
    overdue_scan_interval_seconds: float = Field(
        60.0, gt=0, description="How often the overdue-report scanner looks for missed deadlines"
    )
    import_max_rows: int = Field(
        200_000, ge=1, description="Largest bulk import accepted in one request"
    )
    import_max_errors: int = Field(
        1000, ge=1, description="Row errors listed in a refused import (all are counted)"
    )
