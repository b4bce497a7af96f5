"""Reviewed corrections for what the extraction cannot read from the text.

An override file (``data/strategies/overrides/<slug>.yaml``) is a list of
entries, each naming a record, a field, the value the extraction gives, the
value to use instead and the reason::

    - record: indicator 1.7.2
      field: targets.2023.value
      extracted: 628
      value: null
      reason: the decimal comma was lost …

``extracted`` makes an override stale-proof: if the parser starts reading
something else, applying the override fails instead of silently replacing a
value nobody reviewed. Every applied override is recorded in the record's
``provenance.overridden``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Record kinds and the dataset list each is found in.
_KINDS = {
    "sector": ("sectors", "number"),
    "project": ("projects", "id"),
    "indicator": ("indicators", "id"),
    "result": ("results", "number"),
    "department": ("departments", "id"),
}
_ENTRY_KEYS = {"record", "field", "extracted", "value", "reason"}


class OverrideError(ValueError):
    """An override does not apply: unknown record or field, or a stale value."""


@dataclass(frozen=True)
class Applied:
    """An override as applied, for the report."""

    record: str
    field: str
    extracted: Any
    value: Any
    reason: str


def load(path: Path) -> list[dict[str, Any]]:
    """The entries of an override file (none if there is no file)."""
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    for entry in entries:
        if set(entry) != _ENTRY_KEYS:
            raise OverrideError(f"{path}: entry keys must be {sorted(_ENTRY_KEYS)}: {entry}")
        if not str(entry["reason"]).strip():
            raise OverrideError(f"{path}: {entry['record']} {entry['field']} has no reason")
    return entries


def apply(dataset: dict[str, Any], entries: list[dict[str, Any]]) -> list[Applied]:
    """Apply override entries to a region's dataset, in place."""
    applied: list[Applied] = []
    for entry in entries:
        record = _record(dataset, entry["record"])
        container, key = _field(record, entry["field"], entry["record"])
        current = container[key]
        if current != entry["extracted"]:
            raise OverrideError(
                f"{entry['record']} {entry['field']}: the extraction gives {current!r}, "
                f"the override expects {entry['extracted']!r}; review it again"
            )
        container[key] = entry["value"]
        provenance = record.setdefault("provenance", {})
        provenance.setdefault("overridden", []).append(
            {
                "field": entry["field"],
                "extracted": entry["extracted"],
                "value": entry["value"],
                "reason": entry["reason"],
            }
        )
        applied.append(
            Applied(
                entry["record"], entry["field"], entry["extracted"], entry["value"], entry["reason"]
            )
        )
    return applied


def _record(dataset: dict[str, Any], name: str) -> dict[str, Any]:
    """The record an override names: «indicator 1.7.2», «sector 3»."""
    kind, _, identifier = name.partition(" ")
    if kind not in _KINDS:
        raise OverrideError(f"unknown record kind in {name!r}")
    collection, key = _KINDS[kind]
    for record in dataset[collection]:
        if str(record[key]) == identifier:
            return record
    raise OverrideError(f"no {name!r} in the dataset")


def _field(record: dict[str, Any], path: str, name: str) -> tuple[Any, Any]:
    """The container and key a dotted field path ends in; a year picks a target."""
    container: Any = record
    parts = path.split(".")
    for part in parts[:-1]:
        container = _step(container, part, name, path)
    last = parts[-1]
    if isinstance(container, list):
        return container, _index(container, last, name, path)
    if last not in container:
        raise OverrideError(f"{name}: no field {path!r}")
    return container, last


def _step(container: Any, part: str, name: str, path: str) -> Any:
    if isinstance(container, list):
        return container[_index(container, part, name, path)]
    if part not in container:
        raise OverrideError(f"{name}: no field {path!r}")
    return container[part]


def _index(items: list[Any], part: str, name: str, path: str) -> int:
    """A list element by its year (targets, milestones) or by its position."""
    for position, item in enumerate(items):
        if isinstance(item, dict) and str(item.get("year")) == part:
            return position
    if part.isdigit() and int(part) < len(items):
        return int(part)
    raise OverrideError(f"{name}: no element {part!r} in {path!r}")
