"""`kimgraph serve`: its options and help, the database it prepares, uvicorn's settings.

The command line's other commands live in kimgraph.cli; this module is what a
server process needs before and while it listens (README, "Run it";
docs/operations.md for the settings and their help).
"""

from __future__ import annotations

import argparse
import errno
import logging
import socket

import uvicorn

from kimgraph import cli_errors, db, logs
from kimgraph.cli_errors import CliError
from kimgraph.http_protocol import HttpProtocol
from kimgraph.live import mirror
from kimgraph.pii import cli as pii_cli
from kimgraph.regions import importer as region_import
from kimgraph.settings import Settings, described

logger = logging.getLogger("kimgraph.cli")


class ServeHelp(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Options with their defaults; the settings epilog as written."""


def settings_help() -> str:
    """Every KIMGRAPH_* variable with its default, from the settings definition."""
    lines = ["environment variables (README, Configuration):"]
    for name, default, about in described():
        lines.append(f"  {name} (default: {default})")
        if about:
            lines.append(f"      {about}")
    return "\n".join(lines)


def port(text: str) -> int:
    port = _number(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 1 to 65535")
    return port


def positive(text: str) -> int:
    number = _number(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 up")
    return number


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


async def open_database(settings: Settings) -> None:
    """Migrate, connect, and load the bundled Ketapang regions if there are none."""
    await db.migrate(settings.database_url)
    await db.init(settings.database_url)
    if not await region_import.has_regions():
        report = await region_import.load_bundled_seed()
        logger.info("loaded %d bundled regions (Kabupaten Ketapang)", report.added)


async def prepare_database(settings: Settings) -> None:
    """Everything `serve` needs of the database before it starts."""
    await open_database(settings)
    await pii_cli.ready(settings)  # refuses a missing or wrong secret (privacy.md)
    await db.close()


def serve(settings: Settings, host: str, port: int, workers: int) -> int:
    _check_address(host, port)
    db.run_closing(prepare_database(settings))
    with mirror.across_workers(workers):  # one scrape counts every worker
        _run_uvicorn(settings, host, port, workers)
    return 0


def _run_uvicorn(settings: Settings, host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "kimgraph.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        # No query string, frame payload or database message in any line.
        log_config=logs.config(settings.log_level, settings.log_format),
        # kimgraph.request_log writes the access lines, with request ids.
        access_log=False,
        # The C parser (a dependency): h11's pure-Python one cost a third of
        # the board's cached load (docs/performance.md, "The HTTP read path").
        http=HttpProtocol,
        ws_ping_interval=15,
        ws_ping_timeout=20,
        ws_per_message_deflate=False,
        # Like the HTTP body limit: a larger message closes the socket with 1009.
        ws_max_size=settings.ws_max_bytes,
        proxy_headers=True,
        # Bounded: an open stream or a socket uvicorn missed must not keep a
        # rolling restart waiting (docs/live-delivery.md, "Shutting down").
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )


def _check_address(host: str, port: int) -> None:
    """CliError unless host:port can be listened on; before the migrations run.

    Uvicorn would log the failure in its own format after the migrations.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise CliError(f"cannot listen on {host}:{port}: no such host") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: a port in TIME_WAIT after a restart is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            status = (
                cli_errors.FAILED if exc.errno == errno.EADDRINUSE else cli_errors.USAGE
            )
            reason = (exc.strerror or str(exc)).lower()
            raise CliError(
                f"cannot listen on {host}:{port}: {reason}", status
            ) from None
