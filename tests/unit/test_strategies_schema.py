"""The committed datasets follow the committed JSON Schema."""

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from strategies.schema import SchemaError, validate

STRATEGIES = Path(__file__).resolve().parents[2] / "data" / "strategies"
SLUGS = ["leningrad-oblast", "nenets-ao"]


def committed_schema() -> dict[str, Any]:
    return json.loads((STRATEGIES / "strategy.schema.json").read_text(encoding="utf-8"))


@cache
def committed(slug: str) -> dict[str, Any]:
    text = (STRATEGIES / f"{slug}.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.mark.parametrize("slug", SLUGS)
def test_dataset_follows_the_schema(slug: str) -> None:
    validate(committed(slug), committed_schema())


@pytest.mark.parametrize(
    "break_it",
    [
        lambda data: data["indicators"][0].pop("unit"),
        lambda data: data["indicators"][0]["targets"].pop(),
        lambda data: data["indicators"][0].update(direction="up"),
        lambda data: data["projects"][0].update(department="no-such-department"),
        lambda data: data["projects"][0]["milestones"].append(
            {"year": 2024, "due": "2024-06-30", "title": "x"}
        ),
        lambda data: data["departments"][0].update(email="Комитет@example"),
        lambda data: data.update(extra=True),
    ],
)
def test_schema_rejects_broken_data(break_it: Any) -> None:
    data = copy.deepcopy(committed("leningrad-oblast"))
    break_it(data)
    with pytest.raises(SchemaError):
        validate(data, committed_schema())
