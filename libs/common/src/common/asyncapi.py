"""AsyncAPI 3.0 document generated from the event contracts (`make asyncapi`)."""

import sys
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from common.events import EVENT_TYPES, IntegrationEvent

CLOUDEVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in Kafka binary content mode",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "format": "uuid", "description": "Unique per event"},
        "ce_source": {"type": "string", "description": "/services/<producer>"},
        "ce_type": {"type": "string", "description": "ru.strategy.<aggregate>.<what>.v<N>"},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {"type": "string", "description": "Aggregate id, equal to the Kafka key"},
        "ce_requestid": {"type": "string", "description": "HTTP request that caused the event"},
        "content-type": {"type": "string", "const": "application/json"},
    },
}


def _channel_id(topic: str) -> str:
    return "".join(part.capitalize() for part in topic.replace("-", ".").split("."))


def build_document() -> dict[str, Any]:
    """The AsyncAPI document as a plain dict, deterministic for the same contracts."""
    contracts: list[type[IntegrationEvent]] = sorted(EVENT_TYPES.values(), key=lambda c: c.type)
    _, top = models_json_schema(
        [(c, "validation") for c in contracts], ref_template="#/components/schemas/{model}"
    )
    schemas = dict(sorted(top.get("$defs", {}).items()))
    schemas["CloudEventHeaders"] = CLOUDEVENT_HEADERS
    topics = sorted({c.topic for c in contracts})
    messages: dict[str, Any] = {}
    for c in contracts:
        messages[c.__name__] = {
            "name": c.type,
            "title": c.__name__,
            "summary": (c.__doc__ or "").strip(),
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
            "payload": {"$ref": f"#/components/schemas/{c.__name__}"},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": f"Aggregate id: {c.aggregate_field}"}
                }
            },
        }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in topics:
        cid = _channel_id(topic)
        names = [c.__name__ for c in contracts if c.topic == topic]
        channels[cid] = {
            "address": topic,
            "description": f"Events of the {topic.split('.')[0]} service; poison records go to "
            f"`{topic}.dlt` with dlt_* headers.",
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
        }
        operations[f"publish{cid}"] = {
            "action": "send",
            "summary": f"The {topic.split('.')[0]} service's outbox relay publishes these events",
            "channel": {"$ref": f"#/channels/{cid}"},
            "messages": [{"$ref": f"#/channels/{cid}/messages/{n}"} for n in names],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Strategy monitoring platform events",
            "version": "1.0.0",
            "description": "Integration events between the projects, indicators and "
            "notifications services. Generated from libs/common/src/common/events.py; "
            "do not edit by hand.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make up"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    """The document as YAML text."""
    return yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
