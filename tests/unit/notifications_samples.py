"""Sample alerts and links for the notifications unit tests."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

from common.clock import ManualClock
from notifications.alerts.ack_links import AckLinkSigner
from notifications.alerts.models import Alert
from notifications.deliveries.email import Links

OPENED = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
SIGNER = AckLinkSigner(
    "unit-test-ack-link-secret-of-32-characters", timedelta(days=30), ManualClock(OPENED)
)


def sample_links(notifications_url: str, indicators_url: str) -> Links:
    """Links to the given services, acknowledgement links signed by SIGNER."""
    return Links(notifications_url, indicators_url, SIGNER)


def sample_alert(**overrides: Any) -> Alert:
    """An open target_missed alert of a percentage indicator, 41 % against a plan of 50 %."""
    values: dict[str, Any] = {
        "id": uuid4(),
        "subject_type": "indicator",
        "subject_id": uuid4(),
        "period": "2023",
        "family": "target",
        "kind": "target_missed",
        "state": "open",
        "region": "leningrad-oblast",
        "region_name": "Ленинградская область",
        "sector_number": 3,
        "sector_name": "Образование",
        "project_id": uuid4(),
        "project_name": "Цифровая школа",
        "department_id": uuid4(),
        "department_name": "КЦР ЛО",
        "title": "Доля учащихся с доступом к интернету",
        "unit": "%",
        "expected": Decimal("50"),
        "actual": Decimal("41"),
        "gap": Decimal("-9"),
        "gap_percent": Decimal("-18"),
        "opened_at": OPENED,
        "updated_at": OPENED,
        "deadline": None,
    }
    values.update(overrides)
    return Alert(**values)


def milestone_alert(**overrides: Any) -> Alert:
    """An open milestone_overdue alert."""
    values: dict[str, Any] = {
        "subject_type": "milestone",
        "period": "2023-12-31",
        "family": "milestone",
        "kind": "milestone_overdue",
        "title": "Подключение 120 школ к ЕСПД",
        "unit": None,
        "expected": None,
        "actual": None,
        "gap": None,
        "gap_percent": None,
        "deadline": date(2023, 12, 31),
    }
    values.update(overrides)
    return sample_alert(**values)
