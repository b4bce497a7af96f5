"""The overdue-report scanner on a manual clock: each missed deadline announced once, restarts too."""

from datetime import timedelta

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


def overdue_periods(tap, indicator_id: str) -> list[str]:
    return [
        s.envelope.data.period
        for s in tap.matching(of_type("indicator.report_overdue", indicator_id))
    ]


async def test_missed_deadlines_are_announced_once_across_a_restart(database_factory):
    url = await database_factory("indicators")
    clock = clock_at(2023, 3, 1)
    service = indicators_service(url, clock, report_deadline_days=15)
    body = indicator_body(targets={"2023": 60, "2024": 80}, baseline={"value": 40, "year": 2022})
    async with EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap:
        async with started(service), service.client() as client:
            indicator_id = (await client.post("/api/v1/indicators", json=body)).json()["id"]
            # Q1 ends 31 March; its report is due 15 April and overdue from the 16th.
            clock.set(clock.now().replace(month=4, day=15))
            listed = (await client.get("/api/v1/overdue")).json()
            assert listed["total"] == 0
            clock.advance(timedelta(days=1))
            [first] = await tap.wait_for(of_type("indicator.report_overdue", indicator_id))
            listed = (
                await client.get("/api/v1/overdue", params={"region": "leningrad-oblast"})
            ).json()
            q2 = f"/api/v1/indicators/{indicator_id}/measurements"
            # Q2 reported in time by one of its months: not overdue when its deadline passes.
            assert (await client.post(q2, json=measurement("2023-05", 50))).status_code == 201
        async with started(service), service.client() as client:
            await tap.settle()  # the restarted scanner has scanned again by now
            assert overdue_periods(tap, indicator_id) == ["2023-Q1"]
            clock.set(clock.now().replace(month=10, day=16))
            await tap.wait_for(of_type("indicator.report_overdue", indicator_id), count=2)
            late = await client.post(q2, json=measurement("2023-Q1", 45))
            assert late.status_code == 201
            after = (await client.get("/api/v1/overdue")).json()
            await tap.settle()

    assert overdue_periods(tap, indicator_id) == ["2023-Q1", "2023-Q3"]
    event = first.envelope.data
    assert first.key == indicator_id.encode()
    assert event.deadline.isoformat() == "2023-04-15"
    assert event.expected == 45 and event.actual is None and event.region == "leningrad-oblast"
    assert [(o["period"], o["deadline"]) for o in listed["items"]] == [("2023-Q1", "2023-04-15")]
    assert [o["period"] for o in after["items"]] == ["2023-Q3"]


async def test_archived_indicators_are_not_chased(database_factory):
    url = await database_factory("indicators")
    # Before any report is due, so nothing is overdue until after the archiving.
    clock = clock_at(2022, 6, 1)
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(indicators_service(url, clock, report_deadline_days=0)) as svc,
        svc.client() as client,
    ):
        kept = (
            await client.post("/api/v1/indicators", json=indicator_body(frequency="annual"))
        ).json()["id"]
        gone = (
            await client.post("/api/v1/indicators", json=indicator_body(frequency="annual"))
        ).json()["id"]
        assert (await client.delete(f"/api/v1/indicators/{gone}")).status_code == 204
        clock.set(clock.now().replace(year=2024, month=1, day=2))
        await tap.wait_for(of_type("indicator.report_overdue", kept))
        await tap.settle()

    assert overdue_periods(tap, kept) == ["2022", "2023"]
    assert overdue_periods(tap, gone) == []
