"""Loading indicators of past years (`announce_overdue: false`): reports already overdue are
not announced, deadlines still ahead are, and the default still announces everything.

Each scenario upserts a control indicator with the default after the imported one: the scan
that announces the control's past periods has seen the imported indicator too, so its silence
about the imported one is the scanner's decision, not a scan that has not happened yet.
"""

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

HISTORY = ["2022-Q1", "2022-Q2", "2022-Q3", "2022-Q4", "2023-Q1", "2023-Q2", "2023-Q3", "2023-Q4"]


def overdue_periods(tap, indicator_id: str) -> list[str]:
    return sorted(
        s.envelope.data.period
        for s in tap.matching(of_type("indicator.report_overdue", indicator_id))
    )


async def test_imported_history_stays_quiet_and_later_deadlines_are_announced_once(
    database_factory,
):
    url = await database_factory("indicators")
    # 1 June 2024: every period of 2022–2023 and 2024-Q1 (due 15 April) is overdue already.
    clock = clock_at(2024, 6, 1)
    service = indicators_service(url, clock, report_deadline_days=15)
    imported_body = indicator_body(announce_overdue=False)
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(service),
        service.client() as client,
    ):
        imported = await client.post("/api/v1/indicators", json=imported_body)
        assert imported.status_code == 201
        imported_id = imported.json()["id"]
        control_id = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        await tap.wait_for(of_type("indicator.report_overdue", control_id), count=9)
        await tap.settle()
        quiet = overdue_periods(tap, imported_id)
        listed = (await client.get("/api/v1/overdue")).json()
        evaluation = (await client.get(f"/api/v1/indicators/{imported_id}/evaluation")).json()
        late = await client.post(
            f"/api/v1/indicators/{imported_id}/measurements", json=measurement("2022-Q1", 30)
        )
        # Q2 ends 30 June; its report is due 15 July and overdue from the 16th.
        clock.set(clock.now().replace(month=7, day=16))
        await tap.wait_for(of_type("indicator.report_overdue", imported_id))
        clock.advance(timedelta(days=1))
        await tap.settle()

    assert quiet == []
    imported_listed = [o["period"] for o in listed["items"] if o["indicator_id"] == imported_id]
    assert imported_listed == [*HISTORY, "2024-Q1"]
    unreported = [p["period"] for p in evaluation["periods"] if p["actual"] is None]
    assert [*HISTORY, "2024-Q1"] == [p for p in unreported if p < "2024-Q2"]
    assert late.status_code == 201
    assert overdue_periods(tap, imported_id) == ["2024-Q2"]
    assert overdue_periods(tap, control_id) == sorted([*HISTORY, "2024-Q1", "2024-Q2"])


async def test_reloading_with_added_targets_keeps_the_new_history_quiet_too(database_factory):
    url = await database_factory("indicators")
    clock = clock_at(2024, 6, 1)
    service = indicators_service(url, clock, report_deadline_days=15)
    first_load = indicator_body(targets={"2024": 80}, announce_overdue=False)
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(service),
        service.client() as client,
    ):
        imported_id = (await client.post("/api/v1/indicators", json=first_load)).json()["id"]
        reload = {**first_load, "targets": {"2022": 40, "2023": 60, "2024": 80}}
        reloaded = await client.post("/api/v1/indicators", json=reload)
        control_id = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        await tap.wait_for(of_type("indicator.report_overdue", control_id), count=9)
        await tap.settle()

    assert reloaded.status_code == 200 and reloaded.json()["id"] == imported_id
    assert overdue_periods(tap, imported_id) == []


async def test_by_default_past_deadlines_are_announced(database_factory):
    url = await database_factory("indicators")
    clock = clock_at(2024, 6, 1)
    service = indicators_service(url, clock, report_deadline_days=15)
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(service),
        service.client() as client,
    ):
        body = indicator_body(frequency="annual", announce_overdue=True)
        indicator_id = (await client.post("/api/v1/indicators", json=body)).json()["id"]
        await tap.wait_for(of_type("indicator.report_overdue", indicator_id), count=2)
        await tap.settle()

    assert overdue_periods(tap, indicator_id) == ["2022", "2023"]
