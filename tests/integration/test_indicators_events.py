"""Each indicator event exactly once, with its payload and key, through revisions and restarts."""

from decimal import Decimal

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


def of_period(event_type: str, indicator_id: str, period: str):
    """Records of one type about one indicator-period."""
    match_type = of_type(event_type, indicator_id)
    return lambda seen: match_type(seen) and seen.envelope.data.period == period


async def test_indicator_created_once_and_updated_only_when_it_changes(database_factory):
    url = await database_factory("indicators")
    body = indicator_body()
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(indicators_service(url, clock_at(2023, 2, 1))) as svc,
        svc.client() as client,
    ):
        created = await client.post("/api/v1/indicators", json=body)
        assert created.status_code == 201
        indicator_id = created.json()["id"]
        again = await client.post("/api/v1/indicators", json=body)
        assert again.status_code == 200 and again.json()["id"] == indicator_id
        changed = await client.post("/api/v1/indicators", json={**body, "targets": {"2023": 70}})
        assert changed.status_code == 200 and changed.json()["targets"] == {"2023": "70"}
        patched = await client.patch(
            f"/api/v1/indicators/{indicator_id}", json={"tolerance_percent": 5}
        )
        assert patched.status_code == 200  # tolerance was already 5: nothing changes
        await tap.wait_for(of_type("indicator.updated", indicator_id))
        await tap.settle()

    [seen] = tap.matching(of_type("indicator.created", indicator_id))
    assert seen.key == indicator_id.encode()
    assert seen.headers["ce_source"] == b"/services/indicators"
    event = seen.envelope.data
    assert event.name == body["name"] and event.unit == "%" and event.region == "leningrad-oblast"
    assert event.targets == {2022: Decimal(40), 2023: Decimal(60), 2024: Decimal(80)}
    [update] = tap.matching(of_type("indicator.updated", indicator_id))
    assert update.envelope.data.targets == {2023: Decimal(70)}


async def test_status_signals_follow_revisions_each_once(database_factory):
    url = await database_factory("indicators")
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(indicators_service(url, clock_at(2024, 2, 1))) as svc,
        svc.client() as client,
    ):
        indicator_id = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        post = f"/api/v1/indicators/{indicator_id}/measurements"
        # 2023 runs from 40 (target 2022) to 60: Q1 expects 45 (tolerance 2.25), Q4 expects 60.
        steps = [
            ("2023-Q1", "40", "behind"),
            ("2023-Q1", "41", "behind"),  # revision, same status
            ("2023-Q1", "44", "at_risk"),
            ("2023-Q1", "46", "on_track"),
            ("2023-Q2", "51", "on_track"),  # a new period continuing the same status
            ("2023-Q4", "58", "at_risk"),
            ("2023-Q4", "58.5", "at_risk"),
            ("2023-Q4", "61", "on_track"),
        ]
        for period, value, status in steps:
            response = await client.post(post, json=measurement(period, value))
            assert response.status_code == 201, response.text
            assert response.json()["evaluation"]["status"] == status
        await tap.wait_for(of_type("indicator.target_met", indicator_id))
        await tap.settle()

    recorded = tap.matching(of_type("indicator.measurement_recorded", indicator_id))
    assert [(s.envelope.data.period, s.envelope.data.revision) for s in recorded] == [
        ("2023-Q1", 1),
        ("2023-Q1", 2),
        ("2023-Q1", 3),
        ("2023-Q1", 4),
        ("2023-Q2", 1),
        ("2023-Q4", 1),
        ("2023-Q4", 2),
        ("2023-Q4", 3),
    ]
    changes = tap.matching(of_type("indicator.status_changed", indicator_id))
    assert [
        (s.envelope.data.period, s.envelope.data.from_status, s.envelope.data.to_status)
        for s in changes
    ] == [
        ("2023-Q1", None, "behind"),
        ("2023-Q1", "behind", "at_risk"),
        ("2023-Q1", "at_risk", "on_track"),
        ("2023-Q4", "on_track", "at_risk"),
        ("2023-Q4", "at_risk", "on_track"),
    ]
    first = changes[0].envelope.data
    assert (first.expected, first.actual, first.gap) == (Decimal(45), Decimal(40), Decimal(-5))
    assert first.gap_percent == Decimal("-11.111111")
    assert all(s.key == indicator_id.encode() for s in recorded + changes)
    back = tap.matching(of_type("indicator.back_on_track", indicator_id))
    assert [s.envelope.data.period for s in back] == ["2023-Q1", "2023-Q4"]
    [missed] = tap.matching(of_type("indicator.target_missed", indicator_id))
    assert missed.envelope.data.period == "2023"
    assert (missed.envelope.data.expected, missed.envelope.data.actual) == (
        Decimal(60),
        Decimal(58),
    )
    [met] = tap.matching(of_type("indicator.target_met", indicator_id))
    assert met.envelope.data.period == "2023" and met.envelope.data.actual == Decimal(61)
    assert not tap.matching(of_type("indicator.forecast_miss", indicator_id))


async def test_forecast_miss_once_per_year_also_across_a_restart(database_factory):
    url = await database_factory("indicators")
    clock = clock_at(2023, 7, 10)
    service = indicators_service(url, clock)
    async with EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap:
        async with started(service), service.client() as client:
            indicator_id = (await client.post("/api/v1/indicators", json=indicator_body())).json()[
                "id"
            ]
            post = f"/api/v1/indicators/{indicator_id}/measurements"
            assert (await client.post(post, json=measurement("2023-Q1", "40"))).status_code == 201
            assert (await client.post(post, json=measurement("2023-Q2", "41"))).status_code == 201
            [miss] = await tap.wait_for(of_type("indicator.forecast_miss", indicator_id))
            # Q1 40, Q2 41: one a quarter, so 43 at the year end against a target of 60.
            assert miss.envelope.data.period == "2023"
            assert miss.envelope.data.projected == Decimal(43)
            assert miss.envelope.data.expected == Decimal(60)
            assert miss.envelope.data.gap == Decimal(-17)
            still_missing = await client.post(post, json=measurement("2023-Q2", "42"))
            assert still_missing.json()["revision"] == 2
        async with started(service), service.client() as client:
            again = await client.post(post, json=measurement("2023-Q2", "42.5"))
            assert again.json()["revision"] == 3
            evaluation = (await client.get(f"/api/v1/indicators/{indicator_id}/evaluation")).json()
            await tap.wait_for(
                lambda s: (
                    of_type("indicator.measurement_recorded", indicator_id)(s)
                    and s.envelope.data.revision == 3
                )
            )
            await tap.settle()

    assert len(tap.matching(of_type("indicator.forecast_miss", indicator_id))) == 1
    assert len(tap.matching(of_period("indicator.status_changed", indicator_id, "2023-Q2"))) == 0
    [forecast] = evaluation["forecasts"]
    assert forecast["year"] == 2023 and forecast["misses"] is True
