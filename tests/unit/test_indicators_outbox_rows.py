"""Outbox rows built in bulk carry what `uow.publish` would stage for each event."""

import json
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from common.events import MeasurementRecorded, TargetMet
from indicators.measurements.service import OUTBOX_COLUMNS, outbox_records


def recorded(indicator_id: UUID, reported_by: str = 'Комитет «Цифра» "КЦР"') -> MeasurementRecorded:
    return MeasurementRecorded(
        measurement_id=uuid4(),
        indicator_id=indicator_id,
        region="leningrad-oblast",
        period="2023-05",
        value=Decimal("57.5"),
        revision=1,
        as_of=date(2023, 6, 1),
        reported_by=reported_by,
    )


def test_each_row_has_its_own_event_id_in_headers_and_the_payload_of_its_event():
    indicator = uuid4()
    events = [
        recorded(indicator),
        recorded(indicator),
        TargetMet(
            indicator_id=indicator,
            region="leningrad-oblast",
            responsible_department_id=None,
            period="2023",
            expected=Decimal(10),
            actual=Decimal(11),
            gap=Decimal(1),
            gap_percent=Decimal(10),
        ),
    ]
    rows = [
        dict(zip(OUTBOX_COLUMNS, r, strict=True))
        for r in outbox_records(events, ['req "1"'] * 3, "indicators")
    ]

    assert len({row["event_id"] for row in rows}) == 3
    for event, row in zip(events, rows, strict=True):
        headers = json.loads(row["headers"])
        assert headers["ce_id"] == str(row["event_id"])
        assert headers["ce_type"] == row["event_type"] == event.type
        assert headers["ce_subject"] == row["key"] == str(indicator)
        assert headers["ce_source"] == "/services/indicators"
        assert headers["ce_requestid"] == 'req "1"'
        assert row["topic"] == event.topic
        assert json.loads(row["payload"]) == event.model_dump(mode="json")


def test_events_of_the_same_kind_and_subject_carry_their_own_requests_id():
    indicator = uuid4()
    rows = outbox_records(
        [recorded(indicator), recorded(indicator), recorded(indicator)],
        ["first", "second", None],
        "indicators",
    )

    headers = [json.loads(row[OUTBOX_COLUMNS.index("headers")]) for row in rows]
    assert [h.get("ce_requestid") for h in headers] == ["first", "second", None]
