"""Response shapes of overdue reports."""

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from indicators.catalogue.schemas import Value


class OverdueReport(BaseModel):
    """An indicator-period with no value after its reporting deadline."""

    indicator_id: UUID
    region: str
    responsible_department_id: UUID | None
    period: str
    deadline: date
    expected: Value | None
