"""Open-loop load from a process of its own: requests start on schedule, whatever the answers.

    python bench/loadgen.py http URL_TEMPLATE IDS_FILE RATE SECONDS
    python bench/loadgen.py asyncpg DSN IDS_FILE RATE SECONDS

HTTP load comes from vegeta (Go): a Python client on this two-CPU machine saturates near a
hundred requests a second and would measure itself rather than the server. The asyncpg
baseline is a database client, so it stays in Python.

HTTP requests carry the Authorization header given in the environment (BENCH_AUTHORIZATION).

Prints one JSON line: offered and achieved rates, errors, p50 and p99 latency in ms.
"""

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg

BODY = {"period": "2023-05", "value": "57.5", "reported_by": "Комитет цифрового развития"}
# Where `stack.sh bench-deps` (run by `make bench`) builds it.
LOCAL_BIN = Path(__file__).resolve().parents[1] / ".local" / "bin"


def vegeta_binary() -> str:
    """The vegeta executable: the one `make bench` built, else one on the PATH."""
    built = LOCAL_BIN / "vegeta"
    if built.exists():
        return str(built)
    found = shutil.which("vegeta")
    if found is None:
        raise RuntimeError(
            "vegeta not found: `make bench` (deploy/local/stack.sh bench-deps) builds it"
        )
    return found


def vegeta_step(url_template: str, ids: list[str], rate: float, seconds: float) -> dict:
    """One open-loop vegeta attack, POSTing BODY to each indicator in turn."""
    vegeta = vegeta_binary()
    body = base64.b64encode(json.dumps(BODY).encode()).decode()
    header = {"Content-Type": ["application/json"]}
    if authorization := os.environ.get("BENCH_AUTHORIZATION"):
        header["Authorization"] = [authorization]
    with tempfile.NamedTemporaryFile("w", suffix=".targets") as targets:
        for indicator_id in ids:
            target = {
                "method": "POST",
                "url": url_template.format(id=indicator_id),
                "body": body,
                "header": header,
            }
            targets.write(json.dumps(target) + "\n")
        targets.flush()
        attack = subprocess.run(
            [
                vegeta,
                "attack",
                "-format=json",
                f"-targets={targets.name}",
                f"-rate={rate:g}/s",
                f"-duration={seconds:g}s",
                "-timeout=30s",
            ],
            capture_output=True,
            check=True,
        )
    report = json.loads(
        subprocess.run(
            [vegeta, "report", "-type=json"], input=attack.stdout, capture_output=True, check=True
        ).stdout
    )
    created = report["status_codes"].get("201", 0)
    elapsed = (report["duration"] + report["wait"]) / 1e9
    latencies = report["latencies"]
    return {
        "offered": rate,
        "achieved": round(created / elapsed, 1) if elapsed else 0.0,
        "errors": report["requests"] - created,
        "p50_ms": round(latencies["50th"] / 1e6, 1) if created else None,
        "p99_ms": round(latencies["99th"] / 1e6, 1) if created else None,
    }


async def open_loop(send: Callable[[int], Awaitable[Any]], total: int, rate: float) -> None:
    """Start send(0) … send(total - 1) on schedule at `rate` per second, whatever the earlier
    ones are doing, and wait for all of them."""
    begin = time.perf_counter()
    tasks = []
    for n in range(total):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(n)))
    await asyncio.gather(*tasks)


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
    if kind == "http":
        print(json.dumps(vegeta_step(target, ids, rate, seconds)))
        return
    send, close = await asyncpg_sender(target)
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

    begin = time.perf_counter()
    await open_loop(one, int(rate * seconds), rate)
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
