"""Bulk import: per-row errors and nothing written, or every row in one transaction."""

import asyncio
import json
from uuid import uuid4

import httpx
import pytest

from common.events import INDICATORS_TOPIC
from tests.integration.indicators_fixtures import (
    clock_at,
    fetchval,
    indicator_body,
    indicators_service,
    started,
)
from tests.support.auth import ADMIN, auth_headers
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.kafka import EventTap, of_type

pytestmark = pytest.mark.integration

HEADER = "indicator_id;period;value;as_of;reported_by;comment;source\n"


async def test_a_bad_row_refuses_the_whole_import_with_every_error(database_factory):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        share = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        csv = HEADER + "".join(
            [
                f"{share};2023-Q1;45,5;2023-04-05;КЦР;;\n",  # 1: fine
                f"{uuid4()};2023-Q1;1;;КЦР;;\n",  # 2: unknown indicator
                f"{share};2023;50;;КЦР;;\n",  # 3: coarser than quarterly
                f"{share};2026-Q1;50;;КЦР;;\n",  # 4: no target for 2026
                f"{share};2023-Q2;101;;КЦР;;\n",  # 5: above 100 %
                f"{share};2023-Q2;NaN;;КЦР;;\n",  # 6: not finite
                f"{share};2023-Q2;-1;;;;\n",  # 7: negative share, no reporter
                "not-an-id;2023-13;abc;05.04.2023;КЦР;;\n",  # 8: four bad fields
            ]
        )
        response = await client.post(
            "/api/v1/measurements:import",
            content=csv.encode(),
            headers={"content-type": "text/csv"},
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        errors = {(e["row"], e["field"]) for e in problem["errors"]}
        assert errors == {
            (2, "indicator_id"),
            (3, "period"),
            (4, "period"),
            (5, "value"),
            (6, "value"),
            (7, "reported_by"),
            (8, "indicator_id"),
            (8, "period"),
            (8, "value"),
            (8, "as_of"),
        }
        # Row 7 is unreadable without a reporter, so its value is not checked any further.
        assert problem["error_count"] == 10
        assert "nothing was imported" in problem["detail"]

    assert await fetchval(url, "SELECT count(*) FROM measurements") == 0
    assert await fetchval(url, "SELECT count(*) FROM period_states") == 0
    written = await fetchval(
        url,
        "SELECT count(*) FROM outbox_messages WHERE event_type NOT IN "
        "('ru.strategy.indicator.created.v1', 'ru.strategy.indicator.report_overdue.v1')",
    )
    assert written == 0


async def test_rows_the_database_cannot_hold_are_refused_with_their_row(database_factory):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        count = (
            await client.post(
                "/api/v1/indicators", json=indicator_body(unit="шт", frequency="annual")
            )
        ).json()["id"]
        row = {"indicator_id": count, "period": "2023", "value": 45, "reported_by": "КЦР"}
        rows = [
            row,
            {**row, "value": "1e30"},
            {**row, "value": "1e19"},
            {**row, "value": "0,1234567"},
            {**row, "comment": "по данным\x00 мониторинга"},
            {**row, "source": "\x00"},
            {**row, "reported_by": "КЦР\x00"},
        ]
        as_json = await client.post(
            "/api/v1/measurements:import",
            # Exact JSON numbers too: 1e30 is parsed as a Decimal, not a float.
            content=json.dumps(rows).replace('"1e30"', "1e30").encode(),
            headers={"content-type": "application/json"},
        )
        as_csv = await client.post(
            "/api/v1/measurements:import",
            content=(
                HEADER + f"{count};2023;1e30;;КЦР;;\n" + f"{count};2023;45;;КЦР;а\x00б;\n"
            ).encode(),
            headers={"content-type": "text/csv"},
        )

    assert as_json.status_code == 422, as_json.text
    assert [(e["row"], e["field"], e["message"]) for e in as_json.json()["errors"]] == [
        (2, "value", "at most 18 digits before the decimal point"),
        (3, "value", "at most 18 digits before the decimal point"),
        (4, "value", "at most 6 digits after the decimal point"),
        (5, "comment", "must not contain NUL characters"),
        (6, "source", "must not contain NUL characters"),
        (7, "reported_by", "must not contain NUL characters"),
    ]
    assert as_csv.status_code == 422, as_csv.text
    assert [(e["row"], e["field"]) for e in as_csv.json()["errors"]] == [
        (1, "value"),
        (2, "comment"),
    ]
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 0


async def test_an_import_body_may_be_larger_than_other_requests(database_factory):
    url = await database_factory("indicators")
    service = indicators_service(
        url, clock_at(2023, 7, 10), max_body_bytes=2048, import_max_body_bytes=64 * 1024
    )
    async with started(service) as svc, svc.client() as client:
        share = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        row = {
            "indicator_id": share,
            "period": "2023-Q2",
            "value": 50,
            "reported_by": "Комитет цифрового развития Ленинградской области",
            "comment": "по данным ведомственного мониторинга",
        }
        body = json.dumps([row] * 40).encode()
        assert 2048 < len(body) < 64 * 1024
        imported = await client.post(
            "/api/v1/measurements:import",
            content=body,
            headers={"content-type": "application/json"},
        )

        async def streamed():
            # Without a Content-Length: the limit holds while the body is read, too.
            for start in range(0, len(body), 1024):
                yield body[start : start + 1024]

        imported_in_chunks = await client.post(
            "/api/v1/measurements:import",
            content=streamed(),
            headers={"content-type": "application/json"},
        )
        elsewhere = await client.post(
            f"/api/v1/indicators/{share}/measurements",
            content=body,
            headers={"content-type": "application/json"},
        )
        beyond = await client.post(
            "/api/v1/measurements:import",
            content=json.dumps([row] * 600).encode(),
            headers={"content-type": "application/json"},
        )

    assert imported.status_code == 201, imported.text
    assert imported_in_chunks.status_code == 201, imported_in_chunks.text
    assert elsewhere.status_code == 413
    assert elsewhere.json()["detail"] == "The request body is limited to 2048 bytes."
    assert beyond.status_code == 413
    assert beyond.json()["detail"] == f"The request body is limited to {64 * 1024} bytes."
    assert await fetchval(url, "SELECT count(*) FROM measurements") == 80


async def test_csv_with_decimal_commas_and_json_are_written_whole(database_factory):
    url = await database_factory("indicators")
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(indicators_service(url, clock_at(2024, 2, 1))) as svc,
        svc.client() as client,
    ):
        share = (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
        count = (
            await client.post(
                "/api/v1/indicators",
                json=indicator_body(
                    unit="тыс. ед.", frequency="monthly", targets={"2023": 1000, "2024": 2000}
                ),
            )
        ).json()["id"]
        csv = HEADER + (
            f"{share};2023-Q1;44,5;2023-04-05;КЦР;первый отчёт;ГИС\n"
            f"{share};2023-Q1;46;2023-04-20;КЦР;уточнение;ГИС\n"
            f"{count};2024-01;1 100,25;2024-02-01;КЦР;;\n"
        )
        imported = await client.post(
            "/api/v1/measurements:import",
            content=csv.encode(),
            headers={"content-type": "text/csv; charset=utf-8"},
        )
        assert imported.status_code == 201, imported.text
        # at risk, on track again (+ back on track), and the first month of the count on track
        assert imported.json() == {"imported": 3, "indicators": 2, "revisions": 1, "signals": 4}
        rows = [
            {"indicator_id": share, "period": "2023-Q4", "value": 58.25, "reported_by": "КЦР"},
            {"indicator_id": count, "period": "2024-02", "value": "1200,5", "reported_by": "КЦР"},
        ]
        as_json = await client.post(
            "/api/v1/measurements:import",
            content=json.dumps(rows).encode(),
            headers={"content-type": "application/json"},
        )
        assert as_json.status_code == 201, as_json.text
        comma_separated = await client.post(
            "/api/v1/measurements:import",
            content=f'indicator_id,period,value,reported_by\n{share},2023-Q2,"50,5",КЦР\n'.encode(),
            headers={"content-type": "text/csv"},
        )
        assert comma_separated.status_code == 201, comma_separated.text
        timeline = (await client.get(f"/api/v1/indicators/{share}/measurements")).json()
        await tap.wait_for(of_type("indicator.target_missed", share))
        await tap.settle()

    assert [(m["period"], m["value"], m["revision"]) for m in timeline["items"]] == [
        ("2023-Q1", "44.5", 1),
        ("2023-Q1", "46", 2),
        ("2023-Q2", "50.5", 1),
        ("2023-Q4", "58.25", 1),
    ]
    recorded = tap.matching(of_type("indicator.measurement_recorded"))
    assert sorted((s.envelope.subject, s.envelope.data.period) for s in recorded) == sorted(
        [
            (share, "2023-Q1"),
            (share, "2023-Q1"),
            (count, "2024-01"),
            (share, "2023-Q4"),
            (count, "2024-02"),
            (share, "2023-Q2"),
        ]
    )
    changes = tap.matching(of_type("indicator.status_changed", share))
    assert [(s.envelope.data.period, s.envelope.data.to_status) for s in changes] == [
        ("2023-Q1", "at_risk"),
        ("2023-Q1", "on_track"),
        ("2023-Q4", "at_risk"),
    ]
    assert len(tap.matching(of_type("indicator.target_missed", share))) == 1


async def test_an_unreadable_body_is_refused(database_factory):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        no_header = await client.post(
            "/api/v1/measurements:import",
            content=b"a;b\n1;2\n",
            headers={"content-type": "text/csv"},
        )
        assert no_header.status_code == 422 and no_header.json()["errors"][0]["field"] == "body"
        not_utf8 = await client.post(
            "/api/v1/measurements:import",
            content=HEADER.encode("cp1251") + "ы".encode("cp1251"),
            headers={"content-type": "text/csv"},
        )
        assert not_utf8.status_code == 422
        empty = await client.post(
            "/api/v1/measurements:import",
            content=b"[]",
            headers={"content-type": "application/json"},
        )
        assert empty.status_code == 422
        xml = await client.post(
            "/api/v1/measurements:import", content=b"<rows/>", headers={"content-type": "text/xml"}
        )
        assert xml.status_code == 415


async def test_a_hundred_thousand_rows_are_imported_in_one_go(database_factory):
    url = await database_factory("indicators")
    # An autovacuum worker on the fresh large tables would make the database's teardown
    # (DROP DATABASE ... WITH (FORCE), which may not end a superuser's process) fail.
    for table in ("measurements", "period_states", "emitted_signals", "outbox_messages"):
        await fetchval(url, f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
    async with (
        # Early 2022: no report is overdue yet, so the scanner stays out of the way.
        started(indicators_service(url, clock_at(2022, 1, 15))) as svc,
        svc.client() as client,
    ):

        async def create(n: int) -> str:
            body = indicator_body(
                name=f"Показатель {n}",
                unit="ед.",
                frequency="monthly",
                targets={"2022": 100, "2023": 200, "2024": 300},
            )
            return (await client.post("/api/v1/indicators", json=body)).json()["id"]

        ids = []
        for start in range(0, 1000, 50):
            ids += await asyncio.gather(*(create(n) for n in range(start, start + 50)))
        periods = [f"{year}-{month:02d}" for year in (2022, 2023, 2024) for month in range(1, 13)]
        # 1000 indicators × 36 months of first values, then 64 000 revisions of them.
        firsts = [(i, p) for i in ids for p in periods]
        revisions = [(ids[k % 1000], periods[(k // 1000) % 36]) for k in range(64_000)]
        lines = [
            f"{i};{p};{(k * 7) % 400},5;;КЦР;;\n" for k, (i, p) in enumerate(firsts + revisions)
        ]
        body = (HEADER + "".join(lines)).encode()
        # A fresh connection: building the body outlasts the server's keep-alive timeout.
        async with httpx.AsyncClient(
            base_url=svc.url, timeout=300, headers=auth_headers(ADMIN)
        ) as importer:
            response = await importer.post(
                "/api/v1/measurements:import", content=body, headers={"content-type": "text/csv"}
            )
        assert response.status_code == 201, response.text[:2000]
        assert response.json()["imported"] == 100_000
        assert response.json()["revisions"] == 64_000

    assert await fetchval(url, "SELECT count(*) FROM measurements") == 100_000
    assert await fetchval(url, "SELECT count(*) FROM period_states") == 36_000
    assert await fetchval(url, "SELECT max(revision) FROM measurements") == 3
    recorded = await fetchval(
        url,
        "SELECT count(*) FROM outbox_messages "
        "WHERE event_type = 'ru.strategy.indicator.measurement_recorded.v1'",
    )
    assert recorded == 100_000
