"""Settings of the indicators service."""

from pydantic import Field

from common.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment of the indicators service; defaults suit the local stack."""

    service_name: str = "indicators"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/indicators"
    # Departments' POSTs arrive in bursts; a pool sized for them keeps connections (and their
    # prepared statements) instead of opening and closing overflow ones.
    database_pool_size: int = Field(20, ge=1, le=200)
    # Under a stream of POSTs, one relay transaction per 20 ms of commits rather than per commit:
    # the relay's own queries would otherwise double the database work of each. A commit after
    # a quiet spell is relayed at once (see OutboxRelay._sleep).
    outbox_linger_seconds: float = Field(0.02, ge=0, le=1)
    measurement_batch_max: int = Field(
        100,
        ge=1,
        le=1000,
        description="Most POSTed measurements written in one transaction (they queue only "
        "while the previous batch is being written)",
    )
    report_deadline_days: int = Field(
        30, ge=0, le=366, description="A period's report is due this many days after it ends"
    )
    overdue_scan_interval_seconds: float = Field(
        60.0, gt=0, description="How often the overdue-report scanner looks for missed deadlines"
    )
    import_max_rows: int = Field(
        200_000, ge=1, description="Largest bulk import accepted in one request"
    )
    import_max_body_bytes: int = Field(
        256 * 1024 * 1024,
        ge=1024,
        description="Largest bulk import body accepted (larger ones answer 413); every other "
        "request keeps MAX_BODY_BYTES. 100 000 JSON rows with Russian comments take up to ~75 MB",
    )
    import_max_errors: int = Field(
        1000, ge=1, description="Row errors listed in a refused import (all are counted)"
    )
