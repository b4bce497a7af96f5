"""CloudEvents binary-mode encoding of the integration events."""

import json
from uuid import uuid4

import pytest

from common.events import EVENT_TYPES, DepartmentUpserted, TargetMissed
from common.messaging.cloudevents import MalformedEvent, attributes_for, decode, encode_headers


def department() -> DepartmentUpserted:
    return DepartmentUpserted(
        department_id=uuid4(),
        region="leningrad-oblast",
        full_name="Комитет цифрового развития Ленинградской области",
        short_name="КЦР",
        emails=["kcr@example.ru"],
    )


def record(event, **override):
    attrs = attributes_for(event, source="projects", request_id="req-1") | override
    return encode_headers(attrs), json.dumps(event.model_dump(mode="json")).encode()


def test_round_trip_keeps_attributes_and_data():
    event = department()
    headers, value = record(event)
    envelope = decode(headers, value)
    assert envelope.type == "ru.strategy.department.upserted.v1"
    assert envelope.subject == str(event.department_id)
    assert envelope.source == "/services/projects"
    assert envelope.request_id == "req-1"
    assert envelope.data == event


def test_every_contract_is_versioned_past_tense_and_keyed_by_a_field():
    for event_type, contract in EVENT_TYPES.items():
        assert event_type.startswith("ru.strategy.") and event_type.endswith(".v1")
        assert contract.topic.endswith(".events.v1")
        assert contract.aggregate_field in contract.model_fields


def test_decimal_values_survive_json():
    event = TargetMissed(
        indicator_id=uuid4(),
        region="nenets-ao",
        responsible_department_id=None,
        period="2023",
        expected="50",
        actual="41.5",
        gap="-8.5",
        gap_percent="-17",
    )
    headers, value = record(event)
    assert decode(headers, value).data.actual == event.actual


@pytest.mark.parametrize(
    ("headers", "value", "reason"),
    [
        ([], b"{}", "missing CloudEvents attributes"),
        (None, None, "missing CloudEvents attributes"),
    ],
)
def test_records_without_attributes_are_malformed(headers, value, reason):
    with pytest.raises(MalformedEvent, match=reason):
        decode(headers, value)


def test_unknown_type_is_malformed():
    headers, value = record(department(), ce_type="ru.strategy.nothing.v9")
    with pytest.raises(MalformedEvent, match="unknown event type"):
        decode(headers, value)


def test_invalid_json_is_malformed():
    headers, _ = record(department())
    with pytest.raises(MalformedEvent, match="invalid"):
        decode(headers, b"{not json")


def test_payload_breaking_the_contract_is_malformed():
    headers, _ = record(department())
    with pytest.raises(MalformedEvent, match="invalid"):
        decode(headers, json.dumps({"department_id": "not-a-uuid"}).encode())


def test_wrong_spec_version_is_malformed():
    headers, value = record(department(), ce_specversion="0.3")
    with pytest.raises(MalformedEvent, match="specversion"):
        decode(headers, value)
