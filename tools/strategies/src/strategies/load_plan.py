"""What loading a dataset means: the request bodies a region's dataset asks for, compared with
what a service already holds, and the ops mappings (department emails, coordinators) applied.

Pure functions and data, no HTTP: `loader.py` fetches the existing records and sends the writes.
"""

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

# The order records are loaded in: each kind refers only to kinds before it.
KINDS = (
    "regions",
    "sectors",
    "departments",
    "coordinators",
    "projects",
    "milestones",
    "indicators",
)
# The indicators service needs a unit; a row whose unit cell did not survive gets this one.
UNKNOWN_UNIT = "не указана"
# Indicators are loaded with the service's default tolerance; a reload restores it.
DEFAULT_TOLERANCE_PERCENT = Decimal(5)
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DatasetError(ValueError):
    """The dataset or an ops file cannot be loaded as given."""


class Outcome(StrEnum):
    """What loading did (or would do) to one record."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    skipped = "skipped"
    rejected = "rejected"


@dataclass(frozen=True)
class Record:
    """One record of the dataset as the service's write endpoint wants it."""

    kind: str
    label: str
    body: dict[str, Any]
    # Identifies the record among the existing ones of its kind (its natural key).
    key: tuple


@dataclass
class Change:
    """A record and what it needs: nothing (unchanged) or a write (create / update)."""

    record: Record
    outcome: Outcome
    existing: dict[str, Any] | None = None


@dataclass
class Tally:
    """Outcomes per kind, and the records that were skipped or rejected, with why."""

    counts: dict[str, dict[Outcome, int]] = field(
        default_factory=lambda: {kind: dict.fromkeys(Outcome, 0) for kind in KINDS}
    )
    problems: list[tuple[str, Outcome, str]] = field(default_factory=list)

    def add(self, kind: str, outcome: Outcome, label: str = "", reason: str = "") -> None:
        """Count one record; skipped and rejected ones keep their reason."""
        self.counts[kind][outcome] += 1
        if outcome in (Outcome.skipped, Outcome.rejected):
            self.problems.append((label, outcome, reason))

    def writes(self) -> int:
        """How many records were created or updated."""
        return sum(c[Outcome.created] + c[Outcome.updated] for c in self.counts.values())

    def rejected(self) -> int:
        """How many records a service refused."""
        return sum(c[Outcome.rejected] for c in self.counts.values())

    def merge(self, other: "Tally") -> None:
        """Add another region's outcomes to these."""
        for kind, counts in other.counts.items():
            for outcome, n in counts.items():
                self.counts[kind][outcome] += n
        self.problems.extend(other.problems)


def read_dataset(path: Path) -> dict[str, Any]:
    """A region's curated dataset (data/strategies/<slug>.yaml)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read the dataset: {exc}") from exc
    if not isinstance(data, dict) or "region" not in data:
        raise DatasetError(f"{path}: not a strategy dataset (no `region`)")
    return data


def read_email_mapping(
    path: Path, datasets: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, str]]:
    """Region slug → department id → real email, from an ops CSV (department, email).

    `department` is a department id or full name of one of the datasets being loaded (an id
    two regions share must be given as the full name). A row naming no such department, or an
    address that is not one, is an error naming the row, so a typo never silently keeps a
    placeholder.
    """
    departments: dict[str, list[tuple[str, str]]] = {}
    for dataset in datasets:
        slug = dataset["region"]["slug"]
        for d in dataset["departments"]:
            departments.setdefault(d["id"], []).append((slug, d["id"]))
            departments.setdefault(d["name"].casefold(), []).append((slug, d["id"]))
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the email mapping: {exc}") from exc
    reader = csv.DictReader(lines, delimiter=_delimiter(lines[0] if lines else ""))
    missing = {"department", "email"} - {(name or "").strip() for name in reader.fieldnames or []}
    if missing:
        raise DatasetError(f"{path}: the header must name department and email columns")
    regions = ", ".join(d["region"]["slug"] for d in datasets)
    mapping: dict[str, dict[str, str]] = {d["region"]["slug"]: {} for d in datasets}
    for line_number, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        department, email = row["department"], row["email"].lower()
        if not department and not email:
            continue
        matches = departments.get(department) or departments.get(department.casefold()) or []
        if not matches:
            raise DatasetError(
                f"{path}:{line_number}: unknown department {department!r} "
                f"(not a department id or full name of {regions})"
            )
        if len(matches) > 1:
            raise DatasetError(
                f"{path}:{line_number}: department id {department!r} exists in several regions; "
                "give its full name"
            )
        if not EMAIL_PATTERN.match(email):
            raise DatasetError(f"{path}:{line_number}: {email!r} is not an email address")
        slug, department_id = matches[0]
        known = mapping[slug].get(department_id)
        if known is not None and known != email:
            raise DatasetError(
                f"{path}:{line_number}: department {department!r} is mapped twice "
                f"({known}, {email})"
            )
        mapping[slug][department_id] = email
    return mapping


def _delimiter(header: str) -> str:
    return ";" if header.count(";") > header.count(",") else ","


def read_coordinators(path: Path) -> list[dict[str, Any]]:
    """Coordinators from an ops YAML file: `coordinators: [{region, name, email, sectors}]`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read the coordinators: {exc}") from exc
    entries = data.get("coordinators") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DatasetError(f"{path}: expected a `coordinators:` list")
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not {"region", "name", "email"} <= entry.keys():
            raise DatasetError(f"{path}: coordinator {number} needs region, name and email")
        if not EMAIL_PATTERN.match(str(entry["email"])):
            raise DatasetError(f"{path}: coordinator {number}: {entry['email']!r} is not an email")
    return entries


def region_records(dataset: Mapping[str, Any]) -> list[Record]:
    """The region itself."""
    region = dataset["region"]
    body = {
        "name": region["name"],
        "period_start": region["period"]["start"],
        "period_end": region["period"]["end"],
    }
    return [Record("regions", f"region {region['slug']}", body, (region["slug"],))]


def sector_records(dataset: Mapping[str, Any]) -> list[Record]:
    """The region's sectors."""
    slug = dataset["region"]["slug"]
    return [
        Record("sectors", f"sector {slug}/{s['number']}", {"name": s["name"]}, (s["number"],))
        for s in dataset["sectors"]
    ]


def department_records(dataset: Mapping[str, Any], emails: Mapping[str, str]) -> list[Record]:
    """The departments, each with its mapped email or else the dataset's placeholder."""
    slug = dataset["region"]["slug"]
    return [
        Record(
            "departments",
            f"department {slug}/{d['id']}",
            {
                "region": slug,
                "full_name": d["name"],
                "short_name": d["short_name"],
                "emails": [emails.get(d["id"], d["email"]).lower()],
                "active": True,
            },
            (d["name"],),
        )
        for d in dataset["departments"]
    ]


def coordinator_records(
    dataset: Mapping[str, Any], coordinators: Iterable[Mapping]
) -> list[Record]:
    """The coordinators of this dataset's region."""
    slug = dataset["region"]["slug"]
    sector_numbers = {s["number"] for s in dataset["sectors"]}
    records = []
    for entry in coordinators:
        if entry["region"] != slug:
            continue
        sectors = sorted(set(entry.get("sectors") or []))
        unknown = [n for n in sectors if n not in sector_numbers]
        if unknown:
            raise DatasetError(
                f"coordinator {entry['email']}: region {slug} has no sectors {unknown}"
            )
        email = str(entry["email"]).lower()
        body = {
            "region": slug,
            "name": entry["name"],
            "email": email,
            "sector_numbers": sectors,
            "active": True,
        }
        records.append(Record("coordinators", f"coordinator {slug}/{email}", body, (email,)))
    return records


def project_records(dataset: Mapping[str, Any], department_ids: Mapping[str, str]) -> list[Record]:
    """The projects; `department_ids` maps a dataset department id to the service's id."""
    slug = dataset["region"]["slug"]
    records = []
    for p in dataset["projects"]:
        body = {
            "region": slug,
            "sector_number": p["sector"],
            "number": p["number"],
            "name": p["name"],
            "federal_recommended": p["federal_recommended"],
            "goal": p["goal"] or None,
            "timeline": p["timeline"] or None,
            "description": p["description"] or None,
            "financing": p["financing"] or None,
            "region_role": p["region_role"] or None,
            "beneficiaries": "; ".join(p["beneficiaries"]) or None,
            "benefits": p["benefits"] or None,
            "tasks": list(p["tasks"]),
            "responsible_department_id": department_ids.get(p["department"]),
        }
        records.append(
            Record("projects", f"project {slug}/{p['id']}", body, (p["sector"], p["number"]))
        )
    return records


def milestone_records(project: Mapping[str, Any], slug: str) -> list[Record]:
    """One project's dated milestones («К концу 2024 года: …»), due on 31 December.

    The strategy is a plan of past years too: a milestone already due when it is loaded is
    recorded missed by the projects service without an overdue alert (the dataset does not
    know which were reached), so that loading history does not flood the departments' mail.
    """
    return [
        Record(
            "milestones",
            f"milestone {slug}/{project['id']} ({m['year']})",
            {"title": m["title"], "year": m["year"], "announce_overdue": False},
            (m["title"],),
        )
        for m in project["milestones"]
    ]


def indicator_records(
    dataset: Mapping[str, Any], project_ids: Mapping[str, str]
) -> tuple[list[Record], list[tuple[str, str]]]:
    """The indicators with their printed targets; and those that cannot be loaded, with why.

    A year whose target did not survive in the text has no target; an indicator none of whose
    targets survived is still catalogued, with no targets, so that every printed row is there.
    Like milestones, the targets are a plan of past years: a report already overdue when the
    indicator is loaded is recorded without an overdue alert (history is not news).
    """
    slug = dataset["region"]["slug"]
    records, skipped = [], []
    for ind in dataset["indicators"]:
        label = f"indicator {slug}/{ind['id']}"
        targets = {
            str(t["year"]): _number(t["value"]) for t in ind["targets"] if t["value"] is not None
        }
        project_id = project_ids.get(ind["project"])
        if project_id is None:
            skipped.append((label, f"its project {ind['project']} was not loaded"))
            continue
        body = {
            "project_id": project_id,
            "name": ind["name"],
            "unit": ind["unit"] or UNKNOWN_UNIT,
            "direction": ind["direction"],
            "frequency": "annual",
            "targets": targets,
            "baseline": None,
            "tolerance_percent": str(DEFAULT_TOLERANCE_PERCENT),
            "region": slug,
            "announce_overdue": False,
        }
        records.append(Record("indicators", label, body, (project_id, ind["name"])))
    return records, skipped


def _number(value: float | int) -> str:
    # Exact decimal text, as the service stores and answers it ("98.5", "60").
    return _canonical(Decimal(str(value)))


def _canonical(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def _decimal_text(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return _canonical(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


# How an existing record compares with a body: the fields each kind's body sets.
def _comparable(kind: str, values: Mapping[str, Any]) -> dict[str, Any]:
    if kind == "regions":
        return {k: values.get(k) for k in ("name", "period_start", "period_end")}
    if kind == "sectors":
        return {"name": values.get("name")}
    if kind == "departments":
        return {
            "short_name": values.get("short_name"),
            "emails": [e.lower() for e in values.get("emails") or []],
            "active": values.get("active"),
        }
    if kind == "coordinators":
        return {k: values.get(k) for k in ("name", "sector_numbers", "active")}
    if kind == "projects":
        fields = (
            "name",
            "federal_recommended",
            "goal",
            "timeline",
            "description",
            "financing",
            "region_role",
            "beneficiaries",
            "benefits",
            "tasks",
        )
        compared = {k: values.get(k) for k in fields}
        department = values.get("responsible_department_id")
        compared["responsible_department_id"] = str(department) if department else None
        return compared
    if kind == "milestones":
        due = values.get("due_date") or f"{values.get('year')}-12-31"
        return {"due_date": str(due)}
    if kind == "indicators":
        baseline = values.get("baseline")
        return {
            "unit": values.get("unit"),
            "direction": values.get("direction"),
            "frequency": values.get("frequency"),
            "targets": {str(y): _decimal_text(v) for y, v in (values.get("targets") or {}).items()},
            "baseline": (
                (_decimal_text(baseline["value"]), int(baseline["year"])) if baseline else None
            ),
            "tolerance_percent": _decimal_text(values.get("tolerance_percent")),
        }
    raise ValueError(f"unknown kind {kind}")


def existing_key(kind: str, row: Mapping[str, Any]) -> tuple:
    """The natural key of a record as a service lists it (matches `Record.key`)."""
    if kind == "regions":
        return (row["slug"],)
    if kind == "sectors":
        return (row["number"],)
    if kind == "departments":
        return (row["full_name"],)
    if kind == "coordinators":
        return (row["email"].lower(),)
    if kind == "projects":
        return (row["sector_number"], row["number"])
    if kind == "milestones":
        return (row["title"],)
    if kind == "indicators":
        return (str(row["project_id"]), row["name"])
    raise ValueError(f"unknown kind {kind}")


def diff(records: Iterable[Record], existing: Iterable[Mapping[str, Any]]) -> list[Change]:
    """Each record classified against what exists: created, updated or unchanged."""
    records = list(records)
    if not records:
        return []
    kind = records[0].kind
    by_key = {existing_key(kind, row): row for row in existing}
    changes = []
    for record in records:
        row = by_key.get(record.key)
        if row is None:
            changes.append(Change(record, Outcome.created))
        elif _comparable(kind, row) == _comparable(kind, record.body):
            changes.append(Change(record, Outcome.unchanged, row))
        else:
            changes.append(Change(record, Outcome.updated, row))
    return changes


def dataset_path(target: str, root: Path) -> Path:
    """A dataset file, given as a path or as a region slug under `root`/data/strategies."""
    path = Path(target)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        return path
    candidate = root / "data" / "strategies" / f"{target}.yaml"
    if not candidate.exists():
        raise DatasetError(f"no dataset {target!r}: neither a file nor {candidate}")
    return candidate
