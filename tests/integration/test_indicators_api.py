"""The indicators API against a real database: bad input, idempotency, reads and lists."""

from uuid import uuid4

import pytest

from common.events import INDICATORS_TOPIC
from tests.integration.indicators_fixtures import (
    clock_at,
    fetchval,
    indicator_body,
    indicators_service,
    measurement,
    started,
)
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.kafka import EventTap, of_type

pytestmark = pytest.mark.integration


def fields_of(response) -> set[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return {e["field"] for e in response.json()["errors"]}


async def test_bad_measurements_are_refused_naming_the_field(database_factory):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        share = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        count = (
            await client.post(
                "/api/v1/indicators", json=indicator_body(unit="шт", frequency="annual")
            )
        ).json()["id"]
        post = f"/api/v1/indicators/{share}/measurements"

        unknown = await client.post(
            f"/api/v1/indicators/{uuid4()}/measurements", json=measurement("2023-Q1", 1)
        )
        assert unknown.status_code == 404 and unknown.json()["field"] == "indicator_id"
        coarse = await client.post(post, json=measurement("2023", 50))
        assert coarse.status_code == 422 and fields_of(coarse) == {"period"}
        assert "quarterly" in coarse.json()["errors"][0]["message"]
        no_target = await client.post(post, json=measurement("2025-Q1", 50))
        assert no_target.status_code == 422 and fields_of(no_target) == {"period"}
        assert "2025" in no_target.json()["errors"][0]["message"]
        malformed = await client.post(post, json=measurement("2023-Q5", 50))
        assert malformed.status_code == 422 and fields_of(malformed) == {"period"}
        for bad in ("NaN", "Infinity", "-Infinity"):
            raw = f'{{"period": "2023-Q1", "value": {bad}, "reported_by": "КЦР"}}'
            response = await client.post(
                post, content=raw, headers={"content-type": "application/json"}
            )
            assert response.status_code == 422 and fields_of(response) == {"value"}, bad
        nan_text = await client.post(post, json=measurement("2023-Q1", "NaN"))
        assert nan_text.status_code == 422 and fields_of(nan_text) == {"value"}
        negative = await client.post(post, json=measurement("2023-Q1", "-0.5"))
        assert negative.status_code == 422 and fields_of(negative) == {"value"}
        above = await client.post(post, json=measurement("2023-Q1", "100.01"))
        assert above.status_code == 422 and fields_of(above) == {"value"}
        negative_count = await client.post(
            f"/api/v1/indicators/{count}/measurements", json=measurement("2023", -1)
        )
        assert negative_count.status_code == 422 and fields_of(negative_count) == {"value"}
        missing = await client.post(post, json={"period": "2023-Q1", "value": 1})
        assert missing.status_code == 422 and fields_of(missing) == {"reported_by"}
        full = await client.post(post, json=measurement("2023-Q1", 100))
        assert full.status_code == 201

    assert await fetchval(url, "SELECT count(*) FROM measurements") == 1


async def test_a_percent_index_takes_targets_and_values_above_100(database_factory):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        # leningrad-oblast 10.2.1: «Индекс вовлеченности …», «%», 103/105/107.
        created = await client.post(
            "/api/v1/indicators",
            json=indicator_body(
                name=f"Индекс вовлеченности {uuid4().hex[:8]}",
                frequency="annual",
                targets={"2022": 103, "2023": 105, "2024": 107},
            ),
        )
        assert created.status_code == 201, created.text
        post = f"/api/v1/indicators/{created.json()['id']}/measurements"
        above = await client.post(post, json=measurement("2023", "112.5"))
        negative = await client.post(post, json=measurement("2023", "-1"))
        # Lowering every target to 100 or below makes it a share again: its ceiling returns.
        lowered = await client.patch(
            f"/api/v1/indicators/{created.json()['id']}",
            json={"targets": {"2022": 90, "2023": 95, "2024": 100}},
        )
        capped = await client.post(post, json=measurement("2023", "100.5"))

    assert above.status_code == 201, above.text
    assert negative.status_code == 422 and fields_of(negative) == {"value"}
    assert lowered.status_code == 200, lowered.text
    assert capped.status_code == 422 and fields_of(capped) == {"value"}
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 1


async def test_an_indicator_whose_targets_were_lost_is_catalogued_but_takes_no_values(
    database_factory,
):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        # nenets-ao 2.9.1: the printed row survives, every target cell was lost in the text.
        created = await client.post("/api/v1/indicators", json=indicator_body(targets={}))
        assert created.status_code == 201, created.text
        refused = await client.post(
            f"/api/v1/indicators/{created.json()['id']}/measurements",
            json=measurement("2023", "50"),
        )

    assert created.json()["targets"] == {}
    assert refused.status_code == 422 and fields_of(refused) == {"period"}
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 0


async def test_bad_indicator_definitions_are_refused(database_factory):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        cases = {
            "targets": indicator_body(targets={"2023": -5}),
            "direction": indicator_body(direction="sideways"),
            "frequency": indicator_body(frequency="weekly"),
            "tolerance_percent": indicator_body(tolerance_percent=-1),
            "region": indicator_body(region=None),
        }
        for field, body in cases.items():
            response = await client.post("/api/v1/indicators", json=body)
            assert response.status_code == 422, field
            assert any(f.startswith(field) for f in fields_of(response)), (field, response.text)
        nan_target = await client.post(
            "/api/v1/indicators",
            content=f'{{"project_id": "{uuid4()}", "name": "x", "unit": "шт", "targets": {{"2023": NaN}},'
            ' "region": "r"}',
            headers={"content-type": "application/json"},
        )
        assert nan_target.status_code == 422 and fields_of(nan_target) == {"targets.2023"}
        assert (await client.get(f"/api/v1/indicators/{uuid4()}")).status_code == 404


async def test_values_the_database_cannot_hold_are_refused_naming_the_field(database_factory):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        created = await client.post(
            "/api/v1/indicators",
            json=indicator_body(unit="балл", frequency="annual", targets={"2023": "0.000001"}),
        )
        post = f"/api/v1/indicators/{created.json()['id']}/measurements"
        refused = {}
        for value in ("1e30", "1e19", "0.1234567"):
            raw = f'{{"period": "2023", "value": {value}, "reported_by": "КЦР"}}'
            refused[value] = await client.post(
                post, content=raw, headers={"content-type": "application/json"}
            )
        for field in ("comment", "source", "reported_by"):
            refused[field] = await client.post(
                post, json=measurement("2023", 1, **{field: "по данным\x00 мониторинга"})
            )
        # Both fit the columns; the gap in % of the tiny target has 26 digits before the point.
        largest = await client.post(post, json=measurement("2023", "999999999999999999.999999"))
        definitions = {
            "targets.2023": indicator_body(targets={"2023": "1e19"}),
            "baseline.value": indicator_body(baseline={"value": "1e30", "year": 2021}),
            "tolerance_percent": indicator_body(tolerance_percent="5.12345"),
            "name": indicator_body(name="Доля\x00"),
        }
        defined = {
            field: await client.post("/api/v1/indicators", json=body)
            for field, body in definitions.items()
        }
        patched = await client.patch(
            f"/api/v1/indicators/{created.json()['id']}", json={"targets": {"2023": "1e30"}}
        )

    messages = {key: response.json()["errors"] for key, response in refused.items()}
    assert {key: response.status_code for key, response in refused.items()} == dict.fromkeys(
        messages, 422
    )
    assert messages == {
        "1e30": [{"field": "value", "message": "at most 18 digits before the decimal point"}],
        "1e19": [{"field": "value", "message": "at most 18 digits before the decimal point"}],
        "0.1234567": [{"field": "value", "message": "at most 6 digits after the decimal point"}],
        **{
            field: [{"field": field, "message": "must not contain NUL characters"}]
            for field in ("comment", "source", "reported_by")
        },
    }
    assert largest.status_code == 201, largest.text
    assert largest.json()["evaluation"]["gap_percent"] == "99999999999999999999999800"
    for field, response in defined.items():
        assert response.status_code == 422 and fields_of(response) == {field}, response.text
    assert patched.status_code == 422 and fields_of(patched) == {"targets.2023"}
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 1
    assert await fetchval(url, "SELECT count(*) FROM indicators") == 1


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(database_factory):
    url = await database_factory("indicators")
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        indicator_id = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        post = f"/api/v1/indicators/{indicator_id}/measurements"
        key = {"Idempotency-Key": f"retry-{uuid4().hex}"}
        first = await client.post(post, json=measurement("2023-Q1", 45), headers=key)
        retry = await client.post(post, json=measurement("2023-Q1", 45), headers=key)
        other = await client.post(post, json=measurement("2023-Q1", 46), headers=key)
        await tap.wait_for(of_type("indicator.measurement_recorded", indicator_id))
        await tap.settle()

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422 and fields_of(other) == {"Idempotency-Key"}
    assert len(tap.matching(of_type("indicator.measurement_recorded", indicator_id))) == 1
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 1


async def test_reads_timeline_lists_summary_and_behind(database_factory):
    url = await database_factory("indicators")
    project = str(uuid4())
    async with (
        started(indicators_service(url, clock_at(2024, 2, 1))) as svc,
        svc.client() as client,
    ):
        ids = {}
        for name, value in (("a", "30"), ("b", "59"), ("c", "60"), ("d", None)):
            body = indicator_body(project_id=project, name=f"Показатель {name}")
            ids[name] = (await client.post("/api/v1/indicators", json=body)).json()["id"]
            if value is not None:
                response = await client.post(
                    f"/api/v1/indicators/{ids[name]}/measurements",
                    json=measurement("2023-Q4", value),
                )
                assert response.status_code == 201
        revised = await client.post(
            f"/api/v1/indicators/{ids['a']}/measurements", json=measurement("2023-Q4", "20")
        )
        assert revised.json()["revision"] == 2

        timeline = (await client.get(f"/api/v1/indicators/{ids['a']}/measurements")).json()
        assert timeline["total"] == 2
        assert [(m["value"], m["latest"]) for m in timeline["items"]] == [
            ("30", False),
            ("20", True),
        ]
        one = (await client.get(f"/api/v1/indicators/{ids['a']}")).json()
        assert one["current"]["status"] == "behind" and one["current"]["actual"] == "20"
        behind = (await client.get("/api/v1/indicators", params={"status": "behind"})).json()
        assert [i["id"] for i in behind["items"]] == [ids["a"]]
        no_data = (await client.get("/api/v1/indicators", params={"status": "no_data"})).json()
        assert [i["id"] for i in no_data["items"]] == [ids["d"]]
        paged = (await client.get("/api/v1/indicators", params={"limit": 2, "offset": 1})).json()
        assert paged["total"] == 4 and len(paged["items"]) == 2
        assert (await client.get("/api/v1/indicators", params={"limit": 10_000})).status_code == 422
        worst = (await client.get("/api/v1/behind", params={"include_at_risk": True})).json()
        assert [i["id"] for i in worst["items"]] == [ids["a"], ids["b"]]
        summary = (await client.get("/api/v1/summary", params={"group_by": "project"})).json()
        [group] = summary["groups"]
        assert group["key"] == project
        assert group["counts"] == {
            "on_track": 1,
            "at_risk": 1,
            "behind": 1,
            "no_data": 1,
            "total": 4,
        }
        archived = await client.delete(f"/api/v1/indicators/{ids['d']}")
        assert archived.status_code == 204
        assert (await client.get(f"/api/v1/indicators/{ids['d']}")).status_code == 404
        assert (await client.get("/api/v1/indicators")).json()["total"] == 3
