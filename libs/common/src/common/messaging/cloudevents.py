"""CloudEvents 1.0 in Kafka binary content mode: attributes in `ce_*` headers, data as JSON."""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from pydantic import ValidationError

from common.events import EVENT_TYPES, IntegrationEvent

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class MalformedEvent(ValueError):
    """A Kafka record that is not a CloudEvent of a known contract; it goes to the DLT."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded CloudEvent: its attributes and its typed data."""

    id: UUID
    source: str
    type: str
    time: datetime
    subject: str
    data: IntegrationEvent
    request_id: str | None = None


def attributes_for(
    event: IntegrationEvent, *, source: str, request_id: str | None = None
) -> dict[str, str]:
    """Fresh CloudEvents attributes for an event about to enter the outbox."""
    attrs = {
        "ce_specversion": SPEC_VERSION,
        "ce_id": str(uuid4()),
        "ce_source": f"/services/{source}",
        "ce_type": event.type,
        "ce_time": datetime.now(UTC).isoformat(),
        "ce_subject": event.aggregate_id,
        "content-type": CONTENT_TYPE,
    }
    if request_id:
        # A CloudEvents extension attribute, so logs can follow one request across services.
        attrs["ce_requestid"] = request_id
    return attrs


def encode_headers(attrs: dict[str, str]) -> list[tuple[str, bytes]]:
    """Kafka headers from attributes."""
    return [(k, v.encode()) for k, v in attrs.items()]


def decode(headers: list[tuple[str, bytes]] | None, value: bytes | None) -> Envelope:
    """Parse a Kafka record into an Envelope, or raise MalformedEvent saying why."""
    try:
        attrs = {k: v.decode() for k, v in (headers or [])}
    except UnicodeDecodeError as exc:
        raise MalformedEvent(f"header is not UTF-8: {exc}") from exc
    missing = [
        a for a in ("ce_id", "ce_source", "ce_type", "ce_time", "ce_subject") if a not in attrs
    ]
    if missing:
        raise MalformedEvent(f"missing CloudEvents attributes: {', '.join(missing)}")
    if attrs.get("ce_specversion") != SPEC_VERSION:
        raise MalformedEvent(f"unsupported specversion {attrs.get('ce_specversion')!r}")
    contract = EVENT_TYPES.get(attrs["ce_type"])
    if contract is None:
        raise MalformedEvent(f"unknown event type {attrs['ce_type']!r}")
    try:
        data: Any = json.loads(value or b"")
        event = contract.model_validate(data)
        return Envelope(
            id=UUID(attrs["ce_id"]),
            source=attrs["ce_source"],
            type=attrs["ce_type"],
            time=datetime.fromisoformat(attrs["ce_time"]),
            subject=attrs["ce_subject"],
            data=event,
            request_id=attrs.get("ce_requestid"),
        )
    except (ValueError, ValidationError) as exc:
        raise MalformedEvent(f"invalid {attrs['ce_type']} record: {exc}") from exc
