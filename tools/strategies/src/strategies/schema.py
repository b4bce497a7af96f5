"""The JSON Schema of a region's strategy dataset (``data/strategies/<slug>.yaml``)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema


def _object(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A closed object schema: these properties, these required."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": properties,
        **extra,
    }


_TEXT = {"type": "string", "minLength": 1}
_OPTIONAL_TEXT = {"type": "string"}
_YEAR = {"type": "integer", "minimum": 2000, "maximum": 2100}
_NUMBER = {"type": ["number", "null"]}
_DIRECTION = {"enum": ["higher_is_better", "lower_is_better"]}
_PAGES = {"type": "array", "items": {"type": "integer", "minimum": 1}}

_OVERRIDDEN = {
    "type": "array",
    "items": _object(
        ["field", "extracted", "value", "reason"],
        {"field": _TEXT, "extracted": {}, "value": {}, "reason": _TEXT},
    ),
}

_PROVENANCE = _object(
    [],
    {
        "pages": {
            "type": "object",
            "description": "Printed page numbers, by section of the source document.",
            "additionalProperties": False,
            "patternProperties": {"^section_[2-7]$": _PAGES},
        },
        "notes": {"type": "array", "items": _TEXT},
        "overridden": _OVERRIDDEN,
    },
    description="Where a record comes from, what the extraction noticed, what review changed.",
)

_SLUG = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
_PROJECT_ID = {"type": "string", "pattern": "^[0-9]+\\.[0-9]+$"}

_REGION = _object(
    ["slug", "name", "period", "source"],
    {
        "slug": _SLUG,
        "name": _TEXT,
        "period": _object(["start", "end"], {"start": _YEAR, "end": _YEAR}),
        "source": _object(
            ["file", "sha256"],
            {"file": _TEXT, "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
        ),
    },
)

_RESULT = _object(
    ["number", "text", "value", "bound", "unit", "direction"],
    {
        "number": {"type": "integer", "minimum": 1},
        "text": _TEXT,
        "value": {"type": "number"},
        "bound": {"enum": ["min", "max", "exact"]},
        "unit": {"type": ["string", "null"]},
        "direction": _DIRECTION,
        "provenance": _PROVENANCE,
    },
)

_SECTOR = _object(
    ["number", "name"],
    {"number": {"type": "integer", "minimum": 1}, "name": _TEXT, "provenance": _PROVENANCE},
)

_DEPARTMENT = _object(
    ["id", "name", "short_name", "email"],
    {
        "id": _SLUG,
        "name": _TEXT,
        "short_name": _TEXT,
        "email": {"type": "string", "pattern": "^[a-z0-9-]+@[a-z0-9.-]+$", "maxLength": 254},
        "provenance": _PROVENANCE,
    },
)

_MILESTONE = _object(
    ["year", "due", "title"],
    {"year": _YEAR, "due": {"type": "string", "pattern": "^[0-9]{4}-12-31$"}, "title": _TEXT},
)

_PROJECT = _object(
    [
        "id",
        "sector",
        "number",
        "name",
        "federal_recommended",
        "department",
        "goal",
        "timeline",
        "description",
        "financing",
        "region_role",
        "tasks",
        "beneficiaries",
        "benefits",
        "milestones",
        "provenance",
    ],
    {
        "id": _PROJECT_ID,
        "sector": {"type": "integer", "minimum": 1},
        "number": {"type": "integer", "minimum": 1},
        "name": _TEXT,
        "name_in_indicators": {
            "description": "The name as section 7 prints it, where it differs.",
            **_TEXT,
        },
        "federal_recommended": {
            "type": "boolean",
            "description": "Marked «(рекомендовано ФОИВ)» in section 6.",
        },
        "department": {"type": "string", "description": "A department id."},
        "goal": _OPTIONAL_TEXT,
        "timeline": _OPTIONAL_TEXT,
        "description": _OPTIONAL_TEXT,
        "financing": _OPTIONAL_TEXT,
        "region_role": _OPTIONAL_TEXT,
        "tasks": {"type": "array", "items": _TEXT},
        "beneficiaries": {"type": "array", "items": _TEXT},
        "benefits": _OPTIONAL_TEXT,
        "milestones": {"type": "array", "items": _MILESTONE},
        "provenance": _PROVENANCE,
    },
)

_TARGET = _object(
    ["year", "printed", "value"],
    {
        "year": {"enum": [2022, 2023, 2024]},
        "printed": {
            "type": ["string", "null"],
            "description": "As printed; null where the text lost it.",
        },
        "value": _NUMBER,
    },
)

_INDICATOR = _object(
    ["id", "project", "department", "name", "unit", "direction", "targets", "provenance"],
    {
        "id": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"},
        "project": _PROJECT_ID,
        "department": _TEXT,
        "name": _TEXT,
        "unit": {
            "type": ["string", "null"],
            "minLength": 1,
            "description": "As printed; «%» where the text lost it; null where it is unknown.",
        },
        "direction": _DIRECTION,
        "targets": {"type": "array", "minItems": 3, "maxItems": 3, "items": _TARGET},
        "provenance": _PROVENANCE,
    },
)

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://strategy-monitor.example/schemas/strategy.schema.json",
    "title": "Regional digital-transformation strategy 2022–2024",
    "description": (
        "One region's strategy as extracted from its text: sectors, responsible departments, "
        "projects with their milestones, indicators with yearly targets, and region-level results. "
        "Texts are in Russian as printed; `printed` keeps a number as printed."
    ),
    **_object(
        ["schema_version", "region", "results", "sectors", "departments", "projects", "indicators"],
        {
            "schema_version": {"const": 1},
            "region": _REGION,
            "results": {
                "type": "array",
                "description": "Section 2 results that state a number («Не более 24 часов — …»).",
                "items": _RESULT,
            },
            "sectors": {"type": "array", "minItems": 1, "items": _SECTOR},
            "departments": {"type": "array", "minItems": 1, "items": _DEPARTMENT},
            "projects": {"type": "array", "minItems": 1, "items": _PROJECT},
            "indicators": {"type": "array", "minItems": 1, "items": _INDICATOR},
        },
    ),
}


class SchemaError(ValueError):
    """A dataset does not follow the schema, or its references do not resolve."""


def schema_json() -> str:
    """The schema as the committed JSON file holds it."""
    return json.dumps(SCHEMA, ensure_ascii=False, indent=2) + "\n"


def validate(dataset: dict[str, Any], schema: dict[str, Any] | None = None) -> None:
    """Check a dataset against the schema and that its ids and references resolve."""
    try:
        jsonschema.validate(dataset, schema or SCHEMA)
    except jsonschema.ValidationError as error:
        raise SchemaError(f"{'/'.join(map(str, error.absolute_path))}: {error.message}") from error
    sectors = {sector["number"] for sector in dataset["sectors"]}
    departments = {department["id"] for department in dataset["departments"]}
    project_ids = [project["id"] for project in dataset["projects"]]
    indicator_ids = [indicator["id"] for indicator in dataset["indicators"]]
    for ids, kind in ((project_ids, "project"), (indicator_ids, "indicator")):
        if len(set(ids)) != len(ids):
            raise SchemaError(f"duplicate {kind} ids")
    for project in dataset["projects"]:
        if project["sector"] not in sectors or project["department"] not in departments:
            raise SchemaError(f"project {project['id']}: unknown sector or department")
    for indicator in dataset["indicators"]:
        if indicator["project"] not in project_ids or indicator["department"] not in departments:
            raise SchemaError(f"indicator {indicator['id']}: unknown project or department")
