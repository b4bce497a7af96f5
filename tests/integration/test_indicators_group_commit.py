"""POSTed measurements that arrive together are written together, and answered one by one."""

import asyncio
import json
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg
import pytest

from tests.integration.indicators_fixtures import (
    clock_at,
    dsn,
    indicator_body,
    indicators_service,
    measurement,
    started,
)

pytestmark = pytest.mark.integration


async def rows(url: str, query: str, *args) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn(url))
    try:
        return await conn.fetch(query, *args)
    finally:
        await conn.close()


async def test_concurrent_posts_share_transactions_and_each_gets_its_own_answer(
    database_factory,
):
    url = await database_factory("indicators")
    async with (
        started(indicators_service(url, clock_at(2023, 7, 10))) as svc,
        svc.client() as client,
    ):
        share, other = [
            (await client.post("/api/v1/indicators", json=indicator_body())).json()["id"]
            for _ in range(2)
        ]
        bodies = [(share, measurement("2023-Q1", 10 + n)) for n in range(20)]
        bodies += [(other, measurement("2023-Q2", 30 + n)) for n in range(10)]
        bodies += [(str(uuid4()), measurement("2023-Q1", 1)) for _ in range(3)]  # unknown
        bodies += [(share, measurement("2023-Q1", 150)) for _ in range(3)]  # above 100 %
        answers = await asyncio.gather(
            *(
                client.post(f"/api/v1/indicators/{indicator}/measurements", json=body)
                for indicator, body in bodies
            )
        )

    statuses = [a.status_code for a in answers]
    assert statuses == [201] * 30 + [404] * 3 + [422] * 3, [a.text for a in answers]
    assert all(a.json()["field"] == "indicator_id" for a in answers[30:33])
    assert all(a.json()["errors"][0]["field"] == "value" for a in answers[33:])
    recorded = [a.json() for a in answers[:30]]
    # Revisions of one period numbered without gaps, in the order the values were written.
    assert sorted(r["revision"] for r in recorded[:20]) == list(range(1, 21))
    assert sorted(r["revision"] for r in recorded[20:]) == list(range(1, 11))
    assert [Decimal(str(r["value"])) for r in recorded] == [b["value"] for _, b in bodies[:30]]

    stored = await rows(
        url,
        "SELECT id, indicator_id, revision, value FROM measurements ORDER BY indicator_id, revision",
    )
    assert {(r["id"], r["revision"]) for r in stored} == {
        (UUID(r["id"]), r["revision"]) for r in recorded
    }
    # Every accepted POST has its audit row and its event, naming its own request; a refused
    # one left nothing behind.
    audited = await rows(url, "SELECT request_id FROM audit_log WHERE path LIKE '%/measurements'")
    request_ids = {a.headers["x-request-id"] for a in answers[:30]}
    assert sorted(r["request_id"] for r in audited) == sorted(request_ids)
    events = await rows(
        url,
        "SELECT headers, payload, created_at FROM outbox_messages "
        "WHERE event_type LIKE '%measurement_recorded%'",
    )
    by_measurement = {
        json.loads(e["payload"])["measurement_id"]: json.loads(e["headers"])["ce_requestid"]
        for e in events
    }
    assert by_measurement == {
        r["id"]: a.headers["x-request-id"] for r, a in zip(recorded, answers, strict=False)
    }
    # Outbox rows carry their transaction's start: 30 POSTs took fewer transactions.
    assert len({e["created_at"] for e in events}) < 30
