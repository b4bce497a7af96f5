"""`load-strategy`: load regions' curated datasets into a running stack through the public APIs.

Order: region, sectors, departments, coordinators, projects, milestones, indicators. Every kind
is listed from its service first and compared with the dataset, and only records that differ
are written (PUT/POST by natural key), so a second run writes nothing and emits no events.
"""

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from strategies.access import AccessError, PasswordAuth
from strategies.load_plan import (
    KINDS,
    Change,
    DatasetError,
    Outcome,
    Record,
    Tally,
    coordinator_records,
    dataset_path,
    department_records,
    diff,
    indicator_records,
    milestone_records,
    project_records,
    read_coordinators,
    read_dataset,
    read_email_mapping,
    region_records,
    sector_records,
)

PAGE_LIMIT = 200
# Exit codes: 1 = nothing could be relied on (unreachable service, unreadable dataset);
# 2 = everything else loaded, but a service refused some records (listed in the summary).
EXIT_REJECTED = 2
REPO_ROOT = Path(__file__).resolve().parents[4]


class LoadError(RuntimeError):
    """Loading cannot go on: a service is unreachable or answered unexpectedly."""


class Rejected(Exception):
    """A service refused a record; the message names it and carries the problem detail."""


@dataclass
class Services:
    """HTTP clients of the two services the catalogue lives in."""

    projects: httpx.Client
    indicators: httpx.Client

    @classmethod
    def connect(cls, projects_url: str, indicators_url: str, timeout: float = 30.0) -> "Services":
        """Clients for the given base URLs, signed in as the admin the environment names."""
        auth = PasswordAuth.admin(projects_url)
        return cls(
            projects=httpx.Client(base_url=projects_url, timeout=timeout, auth=auth),
            indicators=httpx.Client(base_url=indicators_url, timeout=timeout, auth=auth),
        )

    def close(self) -> None:
        """Close both clients."""
        self.projects.close()
        self.indicators.close()


def request(client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One HTTP call; an unreachable service becomes a LoadError naming it."""
    try:
        return client.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        raise LoadError(f"{client.base_url} is unreachable ({method} {url}): {exc}") from exc


def problem_text(response: httpx.Response) -> str:
    """The server's problem detail (and the fields it names), else its body."""
    try:
        problem = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:500]}"
    if not isinstance(problem, dict):
        return f"HTTP {response.status_code}: {problem}"
    text = f"HTTP {response.status_code}: {problem.get('detail') or problem.get('title')}"
    errors = problem.get("errors") or []
    fields = [f"{e.get('field')}: {e.get('message')}" for e in errors if isinstance(e, dict)]
    missing = [f for f in fields if f.split(": ", 1)[-1] not in text]
    return f"{text} ({'; '.join(missing)})" if missing else text


def list_all(client: httpx.Client, url: str, params: dict[str, Any] | None = None) -> list[dict]:
    """Every item of a paginated list endpoint ({items, total, limit, offset})."""
    items: list[dict] = []
    while True:
        response = request(
            client, "GET", url, params={**(params or {}), "limit": PAGE_LIMIT, "offset": len(items)}
        )
        if response.status_code == 404:
            return items
        if response.status_code != 200:
            raise LoadError(f"GET {client.base_url}{url}: {problem_text(response)}")
        page = response.json()
        items.extend(page["items"])
        if not page["items"] or len(items) >= page["total"]:
            return items


class Progress:
    """One line on stderr per kind, redrawn in place on a terminal."""

    def __init__(self, region: str, stream=sys.stderr) -> None:
        self.region = region
        self.stream = stream
        self.live = stream.isatty()

    def show(self, kind: str, done: int, total: int) -> None:
        """Report `done` of `total` records of a kind."""
        finished = done >= total
        if not self.live and not finished:
            return
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "." * (width - filled)
        end = "\n" if finished else ""
        line = f"\r{self.region:<18} {kind:<13} [{bar}] {done}/{total}"
        self.stream.write(line + end)
        self.stream.flush()


@dataclass
class RegionLoad:
    """Loading one region's dataset: what it wrote, and the ids the services gave."""

    dataset: dict[str, Any]
    services: Services
    emails: dict[str, str] = field(default_factory=dict)
    coordinators: list[dict[str, Any]] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    department_ids: dict[str, str] = field(default_factory=dict)
    project_ids: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """The region's slug."""
        return self.dataset["region"]["slug"]

    def run(self, progress: Progress) -> Tally:
        """Load every kind in dependency order."""
        p, i = self.services.projects, self.services.indicators
        slug = self.slug
        region = self._apply(
            region_records(self.dataset),
            [row for row in list_all(p, "/api/v1/regions") if row["slug"] == slug],
            lambda r: request(p, "PUT", f"/api/v1/regions/{slug}", json=r.body),
            progress,
        )
        if not region:
            return self.tally  # nothing else can be loaded without the region
        self._apply(
            sector_records(self.dataset),
            list_all(p, f"/api/v1/regions/{slug}/sectors"),
            lambda r: request(p, "PUT", f"/api/v1/regions/{slug}/sectors/{r.key[0]}", json=r.body),
            progress,
        )
        departments = self._apply(
            department_records(self.dataset, self.emails),
            list_all(p, "/api/v1/departments", {"region": slug}),
            lambda r: request(p, "PUT", "/api/v1/departments", json=r.body),
            progress,
        )
        by_name = {d["name"]: d["id"] for d in self.dataset["departments"]}
        self.department_ids = {by_name[row["full_name"]]: row["id"] for row in departments}
        self._apply(
            coordinator_records(self.dataset, self.coordinators),
            list_all(p, "/api/v1/coordinators", {"region": slug}),
            lambda r: request(p, "PUT", "/api/v1/coordinators", json=r.body),
            progress,
        )
        projects = self._apply(
            project_records(self.dataset, self.department_ids),
            list_all(p, "/api/v1/projects", {"region": slug}),
            lambda r: request(p, "PUT", "/api/v1/projects", json=r.body),
            progress,
        )
        by_key = {(x["sector"], x["number"]): x["id"] for x in self.dataset["projects"]}
        self.project_ids = {
            by_key[(row["sector_number"], row["number"])]: row["id"] for row in projects
        }
        self._load_milestones(progress)
        records, skipped = indicator_records(self.dataset, self.project_ids)
        for label, reason in skipped:
            self.tally.add("indicators", Outcome.skipped, label, reason)
        self._apply(
            records,
            list_all(i, "/api/v1/indicators", {"region": slug}),
            lambda r: request(i, "POST", "/api/v1/indicators", json=r.body),
            progress,
        )
        return self.tally

    def _load_milestones(self, progress: Progress) -> None:
        p = self.services.projects
        projects = [x for x in self.dataset["projects"] if x["milestones"]]
        total = sum(len(x["milestones"]) for x in projects)
        done = 0
        progress.show("milestones", 0, total)
        for project in projects:
            records = milestone_records(project, self.slug)
            project_id = self.project_ids.get(project["id"])
            if project_id is None:
                for record in records:
                    reason = f"its project {project['id']} was not loaded"
                    self.tally.add("milestones", Outcome.skipped, record.label, reason)
                done += len(records)
                continue
            existing = list_all(p, f"/api/v1/projects/{project_id}/milestones")
            url = f"/api/v1/projects/{project_id}/milestones"
            for change in diff(records, existing):
                self._write(change, lambda r, url=url: request(p, "PUT", url, json=r.body))
                done += 1
                progress.show("milestones", done, total)
        if total == 0 or done < total:
            progress.show("milestones", total, total)

    def _apply(
        self,
        records: Sequence[Record],
        existing: list[dict],
        send: Callable[[Record], httpx.Response],
        progress: Progress,
    ) -> list[dict]:
        """Write what differs; the service's view of every record that is now in place."""
        kind = records[0].kind if records else None
        if kind is None:
            return []
        rows = []
        progress.show(kind, 0, len(records))
        for done, change in enumerate(diff(records, existing), start=1):
            row = self._write(change, send)
            if row is not None:
                rows.append(row)
            progress.show(kind, done, len(records))
        return rows

    def _write(self, change: Change, send: Callable[[Record], httpx.Response]) -> dict | None:
        record = change.record
        if change.outcome is Outcome.unchanged:
            self.tally.add(record.kind, Outcome.unchanged)
            return change.existing
        response = send(record)
        if response.status_code not in (200, 201):
            if response.status_code >= 500:
                raise LoadError(f"{record.label}: the service failed: {problem_text(response)}")
            self.tally.add(record.kind, Outcome.rejected, record.label, problem_text(response))
            return None
        # The service's answer decides: 201 created it, 200 found it (e.g. an archived one).
        outcome = Outcome.created if response.status_code == 201 else Outcome.updated
        self.tally.add(record.kind, outcome)
        return response.json()


def load_regions(
    paths: Sequence[Path],
    services: Services,
    *,
    emails_file: Path | None = None,
    coordinators_file: Path | None = None,
) -> Tally:
    """Load dataset files one region after another; the outcomes per kind of all of them.

    The ops files are read and checked against every dataset before anything is written.
    """
    datasets = [read_dataset(path) for path in paths]
    emails = read_email_mapping(emails_file, datasets) if emails_file else {}
    coordinators = read_coordinators(coordinators_file) if coordinators_file else []
    total = Tally()
    for dataset in datasets:
        slug = dataset["region"]["slug"]
        load = RegionLoad(dataset, services, emails=emails.get(slug, {}), coordinators=coordinators)
        total.merge(load.run(Progress(slug)))
    return total


def summary_lines(tally: Tally) -> Iterator[str]:
    """The summary table: outcomes per kind, then every skipped or rejected record."""
    columns = list(Outcome)
    yield f"{'kind':<13}" + "".join(f"{c.value:>11}" for c in columns)
    for kind in KINDS:
        counts = tally.counts[kind]
        yield f"{kind:<13}" + "".join(f"{counts[c]:>11}" for c in columns)
    totals = {c: sum(tally.counts[k][c] for k in KINDS) for c in columns}
    yield f"{'total':<13}" + "".join(f"{totals[c]:>11}" for c in columns)
    for label, outcome, reason in tally.problems:
        yield f"{outcome.value}: {label}: {reason}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `load-strategy`."""
    parser = argparse.ArgumentParser(
        prog="load-strategy",
        description="Load regions' strategy datasets into the running services, idempotently.",
    )
    parser.add_argument(
        "datasets", nargs="+", help="a dataset file or a region slug (data/strategies/<slug>.yaml)"
    )
    parser.add_argument(
        "--emails", type=Path, help="ops CSV (department, email) with the departments' real emails"
    )
    parser.add_argument(
        "--coordinators",
        type=Path,
        help="YAML with `coordinators: [{region, name, email, sectors}]`",
    )
    parser.add_argument(
        "--projects-url", default=os.environ.get("PROJECTS_URL", "http://127.0.0.1:8001")
    )
    parser.add_argument(
        "--indicators-url", default=os.environ.get("INDICATORS_URL", "http://127.0.0.1:8002")
    )
    args = parser.parse_args(argv)
    services = Services.connect(args.projects_url, args.indicators_url)
    try:
        paths = [dataset_path(target, REPO_ROOT) for target in args.datasets]
        total = load_regions(
            paths, services, emails_file=args.emails, coordinators_file=args.coordinators
        )
    except (DatasetError, LoadError, AccessError) as exc:
        print(f"load-strategy: error: {exc}", file=sys.stderr)
        return 1
    finally:
        services.close()
    for line in summary_lines(total):
        print(line)
    if total.rejected():
        print(f"load-strategy: {total.rejected()} record(s) rejected", file=sys.stderr)
        return EXIT_REJECTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
