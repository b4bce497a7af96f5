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


def test_readme_counts_and_overrides_are_current(extractions: list[Extraction]) -> None:
    readme = (STRATEGIES / "README.md").read_text(encoding="utf-8")
    for extraction in extractions:
        dataset = extraction.dataset
        milestones = sum(len(project["milestones"]) for project in dataset["projects"])
        counts = [
            len(dataset["sectors"]),
            len(dataset["projects"]),
            len(dataset["departments"]),
            milestones,
            len(dataset["indicators"]),
            len(dataset["results"]),
        ]
        row = f"| {extraction.region.slug} | " + " | ".join(map(str, counts)) + " |"
        assert row in readme, f"README.md's counts for {extraction.region.slug} are stale"
        section = readme.split(f"### {extraction.region.slug} (", 1)[1].split("\n### ", 1)[0]
        assert section.startswith(f"{len(extraction.applied)} fields)")
        for applied in extraction.applied:
            kind, identifier = applied.record.split(" ", 1)
            listed = [line for line in section.splitlines() if line.startswith(f"| {kind} ")]
            assert any(
                identifier in line.split("|")[1] and applied.field.split(".")[0] in line
                for line in listed
            ), f"README.md does not list the override of {applied.record} {applied.field}"
