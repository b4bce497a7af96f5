"""The committed AsyncAPI document matches the event contracts."""

from common.asyncapi import build_document, render
from common.events import EVENT_TYPES
from tests.support.infra import REPO


def test_committed_document_is_current():
    committed = (REPO / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert committed == render(), "docs/asyncapi.yaml is stale: run `make asyncapi`"


def test_every_contract_has_a_message_with_a_resolvable_payload():
    doc = build_document()
    messages = doc["components"]["messages"]
    schemas = doc["components"]["schemas"]
    assert {m["name"] for m in messages.values()} == set(EVENT_TYPES)
    for message in messages.values():
        assert message["payload"]["$ref"].rsplit("/", 1)[1] in schemas
    for channel in doc["channels"].values():
        for ref in channel["messages"].values():
            assert ref["$ref"].rsplit("/", 1)[1] in messages
