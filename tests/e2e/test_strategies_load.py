"""Both real strategies load into the running stack (`make up`) through the public APIs, with
every section-7 indicator and its targets; loading again writes nothing and emits no events.

The stack's databases are shared and persistent: the first load may create, update or find
everything in place; only what follows it is asserted exactly.
"""

import asyncio
import os
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml

from strategies.access import PasswordAuth
from strategies.load_plan import UNKNOWN_UNIT, Outcome
from strategies.loader import Services, list_all, load_regions
from tests.support.auth import stack_admin_headers
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.kafka import EventTap, Seen

pytestmark = pytest.mark.e2e

PROJECTS_URL = os.environ.get("PROJECTS_URL", "http://127.0.0.1:8001")
INDICATORS_URL = os.environ.get("INDICATORS_URL", "http://127.0.0.1:8002")
ADMIN_AUTH = PasswordAuth.admin(PROJECTS_URL)
DATASETS = [
    Path(__file__).resolve().parents[2] / "data" / "strategies" / f"{slug}.yaml"
    for slug in ("leningrad-oblast", "nenets-ao")
]
SLUGS = {"leningrad-oblast", "nenets-ao"}
CATALOGUE_EVENTS = (
    "department.upserted",
    "coordinator.upserted",
    "project.created",
    "project.updated",
    "indicator.created",
    "indicator.updated",
)


def catalogue_event_about(ids: set[str]):
    """Catalogue events about these records: other tests share the topics and region names."""

    def match(seen: Seen) -> bool:
        env = seen.envelope
        return (
            env is not None
            and any(env.type.endswith(f".{name}.v1") for name in CATALOGUE_EVENTS)
            and env.subject in ids
        )

    return match


async def quiet(
    tap: EventTap, predicate, *, for_seconds: float = 3.0, at_most: float = 120.0
) -> int:
    """Wait until the relays have published what earlier writes staged; the count seen."""
    deadline = time.monotonic() + at_most
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_count = len(tap.matching(predicate))
        if now_count != count:
            count, since = now_count, time.monotonic()
        elif time.monotonic() - since >= for_seconds:
            return count
        await asyncio.sleep(0.2)
    raise AssertionError("catalogue events kept arriving")


def loaded_ids() -> set[str]:
    """Ids of the departments, coordinators, projects and indicators of both regions."""
    ids: set[str] = set()
    with (
        httpx.Client(base_url=PROJECTS_URL, timeout=30, auth=ADMIN_AUTH) as projects,
        httpx.Client(base_url=INDICATORS_URL, timeout=30, auth=ADMIN_AUTH) as indicators,
    ):
        for slug in SLUGS:
            for client, url in (
                (projects, "/api/v1/departments"),
                (projects, "/api/v1/coordinators"),
                (projects, "/api/v1/projects"),
                (indicators, "/api/v1/indicators"),
            ):
                ids.update(str(row["id"]) for row in list_all(client, url, {"region": slug}))
    return ids


def load():
    services = Services.connect(PROJECTS_URL, INDICATORS_URL)
    try:
        return load_regions(DATASETS, services)
    finally:
        services.close()


def expected_indicators(dataset: dict) -> dict[str, dict]:
    """Every section-7 row, keyed by region/id (those whose targets were all lost included)."""
    slug = dataset["region"]["slug"]
    return {f"{slug}/{ind['id']}": ind for ind in dataset["indicators"]}


async def test_both_regions_load_completely_and_a_second_load_changes_nothing():
    datasets = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in DATASETS]
    async with EventTap(
        "projects.events.v1", "indicators.events.v1", bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS
    ) as tap:
        first = await asyncio.to_thread(load)
        assert first.problems == []
        about_loaded = catalogue_event_about(await asyncio.to_thread(loaded_ids))
        before = await quiet(tap, about_loaded)

        second = await asyncio.to_thread(load)
        assert second.writes() == 0
        assert sum(second.counts[kind][Outcome.unchanged] for kind in second.counts) == sum(
            first.counts[kind][o]
            for kind in first.counts
            for o in (Outcome.created, Outcome.updated, Outcome.unchanged)
        )
        assert await quiet(tap, about_loaded) == before, "the second load emitted catalogue events"

    async with httpx.AsyncClient(
        base_url=PROJECTS_URL, timeout=30, headers=stack_admin_headers(PROJECTS_URL)
    ) as projects:
        for dataset in datasets:
            slug = dataset["region"]["slug"]
            sectors = (
                await projects.get(f"/api/v1/regions/{slug}/sectors", params={"limit": 200})
            ).json()
            assert sectors["total"] == len(dataset["sectors"])
            listed = (
                await projects.get("/api/v1/projects", params={"region": slug, "limit": 1})
            ).json()
            assert listed["total"] == len(dataset["projects"])
            departments = (
                await projects.get("/api/v1/departments", params={"region": slug, "limit": 200})
            ).json()
            assert {d["full_name"] for d in departments["items"]} >= {
                d["name"] for d in dataset["departments"]
            }

    with (
        httpx.Client(base_url=INDICATORS_URL, timeout=30, auth=ADMIN_AUTH) as indicators,
        httpx.Client(base_url=PROJECTS_URL, timeout=30, auth=ADMIN_AUTH) as projects,
    ):
        for dataset in datasets:
            slug = dataset["region"]["slug"]
            project_ids = {
                (p["sector_number"], p["number"]): p["id"]
                for p in list_all(projects, "/api/v1/projects", {"region": slug})
            }
            served = {
                (i["project_id"], i["name"]): i
                for i in list_all(indicators, "/api/v1/indicators", {"region": slug})
            }
            by_project = {p["id"]: (p["sector"], p["number"]) for p in dataset["projects"]}
            expected = expected_indicators(dataset)
            for label, ind in expected.items():
                row = served.get((project_ids[by_project[ind["project"]]], ind["name"]))
                assert row is not None, f"{label} is missing"
                targets = {
                    t["year"]: Decimal(str(t["value"]))
                    for t in ind["targets"]
                    if t["value"] is not None
                }
                assert {int(y): Decimal(v) for y, v in row["targets"].items()} == targets, label
                assert row["unit"] == (ind["unit"] or UNKNOWN_UNIT), label
                assert row["direction"] == ind["direction"], label
