"""A changed plan re-evaluates what was already reported: statuses, the current status, the
coordinator's list and the signals follow the new targets; each signal still at most once."""

import pytest

from common.events import INDICATORS_TOPIC
from tests.integration.indicators_fixtures import (
    clock_at,
    indicator_body,
    indicators_service,
    measurement,
    started,
)
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.kafka import EventTap, of_type

pytestmark = pytest.mark.integration


async def test_a_lowered_target_puts_reported_values_back_on_track_and_says_so_once(
    database_factory,
):
    url = await database_factory("indicators")
    body = indicator_body(frequency="annual", targets={"2023": 50})
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(indicators_service(url, clock_at(2024, 2, 1))) as svc,
        svc.client() as client,
    ):
        indicator_id = (await client.post("/api/v1/indicators", json=body)).json()["id"]
        resource = f"/api/v1/indicators/{indicator_id}"
        recorded = await client.post(f"{resource}/measurements", json=measurement("2023", 45))
        assert recorded.json()["evaluation"]["status"] == "behind"
        behind_before = (await client.get("/api/v1/behind")).json()["items"]

        lowered = await client.patch(resource, json={"targets": {"2023": 44}})
        # The same plan again changes nothing, and announces nothing.
        await client.patch(resource, json={"targets": {"2023": 44}})
        behind_after = (await client.get("/api/v1/behind")).json()["items"]
        evaluation = (await client.get(f"{resource}/evaluation")).json()
        timeline = (await client.get(f"{resource}/measurements")).json()["items"]

        # Loading the old definition again puts it behind once more.
        raised = await client.post("/api/v1/indicators", json=body)
        await tap.wait_for(of_type("indicator.status_changed", indicator_id), count=3)
        await tap.wait_for(of_type("indicator.target_met", indicator_id))
        await tap.settle()

    assert [i["id"] for i in behind_before] == [indicator_id]
    assert lowered.status_code == 200
    assert lowered.json()["current"]["status"] == "on_track"
    assert lowered.json()["current"]["expected"] == "44"
    assert indicator_id not in {i["id"] for i in behind_after}
    [year] = evaluation["periods"]
    assert (year["expected"], year["status"], year["gap"]) == ("44", "on_track", "1")
    # The value keeps the evaluation it had when it was recorded.
    assert timeline[0]["evaluation"]["status"] == "behind"
    assert raised.status_code == 200 and raised.json()["current"]["status"] == "behind"

    # The change itself is told first: consumers describe what follows with the new plan.
    def first(event_type: str) -> int:
        matches = of_type(event_type, indicator_id)
        return next(n for n, seen in enumerate(tap.seen) if matches(seen))

    assert first("indicator.updated") < first("indicator.back_on_track")
    changes = tap.matching(of_type("indicator.status_changed", indicator_id))
    assert [(c.envelope.data.from_status, c.envelope.data.to_status) for c in changes] == [
        (None, "behind"),
        ("behind", "on_track"),
        ("on_track", "behind"),
    ]
    assert len(tap.matching(of_type("indicator.back_on_track", indicator_id))) == 1
    assert len(tap.matching(of_type("indicator.target_met", indicator_id))) == 1
    # Missed at first; missed again after the relapse is the same news, told once.
    assert len(tap.matching(of_type("indicator.target_missed", indicator_id))) == 1


async def test_a_plan_that_no_longer_judges_any_reported_value_leaves_no_current_status(
    database_factory,
):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2025, 2, 1))) as svc,
        svc.client() as client,
    ):
        body = indicator_body(frequency="annual", targets={"2024": 80})
        indicator_id = (await client.post("/api/v1/indicators", json=body)).json()["id"]
        resource = f"/api/v1/indicators/{indicator_id}"
        await client.post(f"{resource}/measurements", json=measurement("2024", 60))
        moved = await client.patch(resource, json={"targets": {"2025": 90}})
        behind = (await client.get("/api/v1/behind")).json()["items"]
        listed = (await client.get("/api/v1/indicators", params={"status": "behind"})).json()

    assert moved.status_code == 200 and moved.json()["current"] is None
    assert indicator_id not in {i["id"] for i in behind}
    assert indicator_id not in {i["id"] for i in listed["items"]}
