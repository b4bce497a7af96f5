"""Open-loop load from a process of its own: requests start on schedule, whatever the answers.

    python bench/loadgen.py http URL_TEMPLATE IDS_FILE RATE SECONDS
    python bench/loadgen.py asyncpg DSN IDS_FILE RATE SECONDS

Prints one JSON line: offered and achieved rates, errors, p50 and p99 latency in ms.
"""

import asyncio
import itertools
import json
import os
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import httpx

BODY = {"period": "2023-05", "value": "57.5", "reported_by": "Комитет цифрового развития"}


def http_sender(url_template: str):
    client = httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=256))

    async def send(indicator_id: str) -> bool:
        response = await client.post(url_template.format(id=indicator_id), json=BODY)
        return response.status_code == 201

    return send, client.aclose


async def asyncpg_sender(dsn: str):
    pool = await asyncpg.create_pool(dsn, min_size=20, max_size=20)
    # Revisions unique across the steps, each of which is a process of its own.
    revision = itertools.count(os.getpid() * 10_000)

    async def send(indicator_id: str) -> bool:
        measurement_id = uuid.uuid4()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO measurements (id, indicator_id, period, period_end, value, revision,"
                " as_of, reported_by, recorded_at) VALUES ($1, $2, '2023-05', $3, 57.5, $4, $5,"
                " $6, $7)",
                measurement_id,
                uuid.UUID(indicator_id),
                date(2023, 5, 31),
                next(revision),
                date(2023, 6, 1),
                BODY["reported_by"],
                datetime.now(UTC),
            )
            await conn.execute(
                "INSERT INTO outbox_messages (event_id, topic, key, event_type, headers, payload)"
                " VALUES ($1, 'indicators.events.v1', $2, 'ru.strategy.indicator.measurement_recorded.v1',"
                " $3::jsonb, $4::jsonb)",
                uuid.uuid4(),
                indicator_id,
                json.dumps({"ce_id": str(uuid.uuid4())}),
                json.dumps({"measurement_id": str(measurement_id), **BODY}, ensure_ascii=False),
            )
        return True

    return send, pool.close


async def main(kind: str, target: str, ids: list[str], rate: float, seconds: float) -> None:
    send, close = http_sender(target) if kind == "http" else await asyncpg_sender(target)
    latencies: list[float] = []
    errors = 0

    async def one(n: int) -> None:
        nonlocal errors
        started = time.perf_counter()
        try:
            ok = await send(ids[n % len(ids)])
        except Exception:
            ok = False
        if ok:
            latencies.append(time.perf_counter() - started)
        else:
            errors += 1

    total = int(rate * seconds)
    begin = time.perf_counter()
    tasks = []
    for n in range(total):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - begin
    await close()
    latencies.sort()

    def quantile(q: float) -> float | None:
        return round(latencies[int(q * (len(latencies) - 1))] * 1000, 1) if latencies else None

    print(
        json.dumps(
            {
                "offered": rate,
                "achieved": round(len(latencies) / elapsed, 1),
                "errors": errors,
                "p50_ms": quantile(0.5),
                "p99_ms": quantile(0.99),
            }
        )
    )


if __name__ == "__main__":
    kind, target, ids_file, rate, seconds = sys.argv[1:6]
    ids = Path(ids_file).read_text().split()
    asyncio.run(main(kind, target, ids, float(rate), float(seconds)))
