"""Readiness probes for stack.sh: exit 0 once a component really answers requests.

    probe.py kafka BOOTSTRAP [--brokers N]   metadata lists at least N live brokers
    probe.py http URL                        GET answers 200

With --wait SECONDS the probe retries until then; with --pid PID it gives up (exit 2) as soon
as that process has died, so a crashing component fails fast instead of at the timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import urllib.error
import urllib.request

from aiokafka.admin import AIOKafkaAdminClient

NOT_READY = 1
DIED = 2


async def kafka_brokers(bootstrap: str) -> int:
    """How many live brokers the cluster metadata lists."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    try:
        await asyncio.wait_for(admin.start(), timeout=5)
        cluster = await asyncio.wait_for(admin.describe_cluster(), timeout=5)
    finally:
        await admin.close()
    return len(cluster["brokers"])


def http_ok(url: str) -> bool:
    """Whether GET url answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def check(args: argparse.Namespace) -> tuple[bool, str]:
    """One attempt; returns whether the component is ready and what was seen."""
    if args.kind == "http":
        ok = http_ok(args.target)
        return ok, f"GET {args.target} {'answered 200' if ok else 'did not answer 200'}"
    try:
        brokers = asyncio.run(kafka_brokers(args.target))
    except Exception as error:  # noqa: BLE001 - any failure only means "not ready yet"
        return False, f"Kafka metadata request to {args.target} failed: {error!r}"
    return brokers >= args.brokers, f"{brokers} of {args.brokers} brokers live at {args.target}"


def process_alive(pid: int) -> bool:
    """Whether the process still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main() -> int:
    """Parse arguments and probe until ready, dead or out of time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["kafka", "http"])
    parser.add_argument("target", help="bootstrap servers or URL")
    parser.add_argument("--brokers", type=int, default=1)
    parser.add_argument("--wait", type=float, default=0.0, help="seconds to keep trying")
    parser.add_argument("--pid", type=int, default=None, help="stop waiting if it dies")
    args = parser.parse_args()

    deadline = time.monotonic() + args.wait
    while True:
        ready, seen = check(args)
        if ready:
            return 0
        if args.pid is not None and not process_alive(args.pid):
            print(f"probe: process {args.pid} exited; last check: {seen}", file=sys.stderr)
            return DIED
        if time.monotonic() >= deadline:
            print(f"probe: not ready after {args.wait:.0f}s; last check: {seen}", file=sys.stderr)
            return NOT_READY
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
