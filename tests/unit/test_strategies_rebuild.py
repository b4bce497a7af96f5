"""The committed dataset is what the extraction makes of the committed sources."""

from pathlib import Path

import pytest

from strategies.cli import render
from strategies.extract import Extraction, extract
from strategies.overrides import OverrideError, apply, load
from strategies.schema import schema_json

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "data" / "sources"
STRATEGIES = ROOT / "data" / "strategies"


@pytest.fixture(scope="module")
def extractions() -> list[Extraction]:
    return extract(SOURCES, STRATEGIES / "overrides")


def test_each_region_file_is_up_to_date(extractions: list[Extraction]) -> None:
    for extraction in extractions:
        committed = STRATEGIES / f"{extraction.region.slug}.yaml"
        assert committed.read_text(encoding="utf-8") == render(extraction), (
            f"{committed} is stale: run `uv run extract-strategies` and review the diff"
        )


def test_schema_file_is_up_to_date() -> None:
    committed = STRATEGIES / "strategy.schema.json"
    assert committed.read_text(encoding="utf-8") == schema_json()


def test_every_override_applies_and_is_recorded(extractions: list[Extraction]) -> None:
    for extraction in extractions:
        entries = load(STRATEGIES / "overrides" / f"{extraction.region.slug}.yaml")
        assert len(extraction.applied) == len(entries)
        recorded = [
            item
            for collection in ("sectors", "results", "departments", "projects", "indicators")
            for record in extraction.dataset[collection]
            for item in record.get("provenance", {}).get("overridden", [])
        ]
        assert len(recorded) == len(entries)


def test_a_stale_override_fails_loudly(extractions: list[Extraction]) -> None:
    dataset = extractions[0].dataset
    indicator = dataset["indicators"][0]
    entry = {
        "record": f"indicator {indicator['id']}",
        "field": "targets.2022.value",
        "extracted": "not what the parser reads",
        "value": 1,
        "reason": "test",
    }
    with pytest.raises(OverrideError):
        apply(dataset, [entry])
