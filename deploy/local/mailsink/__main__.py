"""Run the sink: `PYTHONPATH=deploy/local uv run python -m mailsink [options]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

import uvicorn

from .api import create_app
from .smtp import Chaos, start_smtp
from .store import MailStore


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the listening addresses and the storage folder from the command line."""
    parser = argparse.ArgumentParser(prog="mailsink", description=__doc__)
    parser.add_argument("--smtp-host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-host", default="127.0.0.1")
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder that keeps every message across restarts (default: memory only)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Serve SMTP and HTTP on one event loop until SIGTERM or SIGINT."""
    store = MailStore(args.data_dir)
    chaos = Chaos()
    smtp_server = await start_smtp(store, chaos, args.smtp_host, args.smtp_port)
    config = uvicorn.Config(
        create_app(store, chaos),
        host=args.http_host,
        port=args.http_port,
        log_level="info",
        lifespan="off",
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        smtp_server.close()
        await smtp_server.wait_closed()


def main() -> None:
    """Entry point."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(serve(parse_args(sys.argv[1:])))
    except OSError as error:
        # Typically a port already in use: say so plainly instead of a traceback.
        logging.getLogger("mailsink").error("cannot start: %s", error)
        sys.exit(1)


if __name__ == "__main__":
    main()
