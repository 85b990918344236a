"""The `kimgraph` command: serve, regions, accounts, API keys, demo, schema, backups."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import getpass
import gzip
import logging
import os
import socket
import sys
import warnings
import zlib
from collections.abc import AsyncIterator, Coroutine, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from kimgraph import backup, cli_errors, db, logs
from kimgraph.accounts import auth
from kimgraph.accounts import cli as accounts_cli
from kimgraph.accounts.principals import Role
from kimgraph.audit import cli as audit_cli
from kimgraph.cli_errors import CliError, Parser, id_argument
from kimgraph.clock import SystemClock
from kimgraph.demo import DEMO_BOARD, DEMO_KEY_REGION, load_demo
from kimgraph.errors import Problem, ProblemCode, UserInputError
from kimgraph.events.bus import Doorbell
from kimgraph.live import mirror
from kimgraph.pii import cli as pii_cli
from kimgraph.regions import importer as region_import
from kimgraph.reports import cli as reports_cli
from kimgraph.settings import Settings, described
from kimgraph.units import cli as units_cli
from kimgraph.warnings import cli as warnings_cli

logger = logging.getLogger("kimgraph.cli")
T = TypeVar("T")
MAX_ERRORS_SHOWN = 50


def _parser() -> argparse.ArgumentParser:
    # Parser: a usage mistake is one line (kimgraph/cli_errors.py), subcommands too.
    parser = Parser(prog="kimgraph", description="Real-time GraphQL server for KIM.")
    parser.add_argument(
        "--version", action="version", version=f"kimgraph {version('kimgraph')}"
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve",
        help="migrate the database and serve the API",
        description="Migrate the database, load the bundled Ketapang regions into "
        "an empty one,\nand serve the API on http://HOST:PORT/graphql.",
        epilog=_settings_help(),
        formatter_class=_ServeHelp,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="server processes; several share events through KIMGRAPH_REDIS_URL",
    )

    commands.add_parser("migrate", help="apply the database migrations")

    regions = commands.add_parser("regions", help="region reference data")
    region_commands = regions.add_subparsers(dest="regions_command", required=True)
    importer = region_commands.add_parser(
        "import", help="import a Kemendagri region CSV or CSV.gz file"
    )
    source = importer.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", type=Path, help="the CSV or CSV.gz file")
    source.add_argument(
        "--national",
        action="store_true",
        help="the bundled national file (91,599 regions)",
    )

    commands.add_parser("schema", help="print the GraphQL SDL")

    accounts = commands.add_parser("accounts", help="accounts that sign in")
    account_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    create = account_commands.add_parser("create", help="create an account")
    create.add_argument("--username", required=True)
    create.add_argument(
        "--role", required=True, type=str.upper, help="ADMIN, OFFICER or KIM"
    )
    create.add_argument("--region", help="code of the region whose subtree it serves")
    create.add_argument(
        "--kim", type=id_argument("Kim"), help="the KIM's number or id (KIM accounts)"
    )
    create.add_argument("--display-name", help="shown instead of the username")
    create.add_argument("--password", help="prompted for when omitted")
    accounts_cli.add_commands(account_commands)

    apikeys = commands.add_parser("apikeys", help="partner API keys")
    key_commands = apikeys.add_subparsers(dest="apikeys_command", required=True)
    key_create = key_commands.add_parser("create", help="create a key; shown once")
    key_create.add_argument("--name", required=True, help="the partner app's name")
    key_create.add_argument("--region", required=True, help="code of its region")
    key_list = key_commands.add_parser("list", help="list keys, revoked ones too")
    key_list.add_argument("--region", help="only keys within this region")
    key_revoke = key_commands.add_parser("revoke", help="revoke a key")
    key_revoke.add_argument(
        "id", type=id_argument("ApiKey"), help="the key's number from `list`, or its id"
    )

    commands.add_parser(
        "demo", help="load fictional demo KIM, accounts and a partner key"
    )
    warnings_cli.add_parser(commands)
    audit_cli.add_parser(commands)
    pii_cli.add_parser(commands)
    units_cli.add_parser(commands)
    reports_cli.add_parser(commands)
    backup.add_parsers(commands)
    return parser


class _ServeHelp(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Options with their defaults; the settings epilog as written."""


def _settings_help() -> str:
    """Every KIMGRAPH_* variable with its default, from the settings definition."""
    lines = ["environment variables (README, Configuration):"]
    for name, default, about in described():
        lines.append(f"  {name} (default: {default})")
        if about:
            lines.append(f"      {about}")
    return "\n".join(lines)


def _port(text: str) -> int:
    port = _number(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port from 1 to 65535")
    return port


def _positive(text: str) -> int:
    number = _number(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 1 up")
    return number


def _number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: every failure told as cli_errors says."""
    args = _parser().parse_args(argv)
    for warning in cli_errors.unknown_variables(os.environ):
        print(warning, file=sys.stderr)
    database_url = os.environ.get("KIMGRAPH_DATABASE_URL")
    try:
        status = _run(args, Settings.from_env())
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except BrokenPipeError:
        # The reader left (`kimgraph schema | head`): stop quietly, as the
        # Python docs recommend (library/signal.html, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        error = cli_errors.explain(exc, database_url)
        if args.debug:
            raise
        if error is None:
            error = CliError(
                f"unexpected {type(exc).__name__}: {exc} (run `kimgraph --debug "
                "...` for the traceback, and report it)",
                cli_errors.FAILED,
            )
        for line in error.lines():
            print(line, file=sys.stderr)
        return error.status


def _run(args: argparse.Namespace, settings: Settings) -> int:
    # `serve` gives uvicorn logs.config, which replaces this (kimgraph.logs).
    logs.basic(settings.log_level, settings.log_format)
    if settings.log_level != "debug":
        logging.getLogger("tortoise").setLevel(logging.WARNING)
    if args.command == "schema":
        # Imported here: the GraphQL stack costs ~0.4 s that other commands skip.
        from kimgraph.api import build_schema

        print(build_schema(settings).as_str())
        return 0
    if args.command == "migrate":
        run_closing(db.migrate(settings.database_url))
        return 0
    if args.command == "regions":
        return run_closing(_import(settings, args.file, national=args.national))
    if args.command == "serve":
        return _serve(settings, args.host, args.port, args.workers)
    if args.command == "warnings":
        return warnings_cli.run(args, settings)
    if args.command == "pii":
        return run_closing(pii_cli.run(args, settings))
    if args.command == "audit":
        return run_closing(audit_cli.run(args, settings.database_url))
    if args.command == "backup":
        return backup.backup(settings.database_url, args.file, force=args.force)
    if args.command == "restore":
        return run_closing(backup.restore(settings.database_url, args.file))
    return run_closing(_admin(settings, args))


def run_closing(command: Coroutine[Any, Any, T]) -> T:
    """asyncio.run for a command, closing the database however the command ends.

    A SQLite connection left open by a failure keeps aiosqlite's worker thread,
    and with it the process, alive after the error message.
    """

    async def closing() -> T:
        try:
            return await command
        finally:
            await db.close()

    return asyncio.run(closing())


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    """Run an accounts, apikeys or demo command against a migrated database."""
    if args.command == "accounts" and getattr(args, "password", "") is None:
        args.password = _prompt_password()
    await open_database(settings)
    try:
        # Refused input (UserInputError) is told by main(), as for every command.
        return await _ADMIN_COMMANDS[_command_name(args)](args)
    finally:
        await db.close()


def _command_name(args: argparse.Namespace) -> str:
    sub = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def _prompt_password() -> str:
    # Without a terminal getpass would warn and read standard input, echoed.
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            first = getpass.getpass("Password: ")
            again = getpass.getpass("Password again: ")
        except getpass.GetPassWarning:
            raise CliError(
                "no terminal to ask for the password on; pass --password"
            ) from None
        except EOFError:
            raise CliError("no password given") from None
    if again != first:
        raise CliError("the passwords differ")
    return first


async def _accounts_create(args: argparse.Namespace) -> int:
    account = await auth.create_account(
        SystemClock(),
        username=args.username,
        password=args.password,
        role=_role(args.role),
        region_code=args.region,
        kim_id=args.kim,
        display_name=args.display_name,
    )
    print(
        f"account {account.username} created: role {account.role}, "
        f"region {account.region_id}"
        + (f", KIM {account.kim_id}" if account.kim_id is not None else "")
    )
    return 0


def _role(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise UserInputError(
            Problem(
                ProblemCode.INVALID,
                f"unknown role {text!r}; expected ADMIN, OFFICER or KIM",
                ["role"],
            )
        ) from None


async def _apikeys_create(args: argparse.Namespace) -> int:
    key, row = await auth.create_api_key(SystemClock(), args.name, args.region)
    print(f"API key {row.id} for {row.name} (region {row.region_id}):")
    print(key)
    print("Store it now: it is not shown again.", file=sys.stderr)
    return 0


async def _apikeys_list(args: argparse.Namespace) -> int:
    rows = await auth.list_api_keys(within=args.region)
    header = ("id", "prefix", "region", "created", "revoked", "name")
    print("{:>4}  {:<10}  {:<13}  {:<20}  {:<20}  {}".format(*header))
    for row in rows:
        revoked = (
            row.revoked_at.strftime("%Y-%m-%d %H:%M UTC") if row.revoked_at else "-"
        )
        created = row.created_at.strftime("%Y-%m-%d %H:%M UTC")
        print(
            f"{row.id:>4}  {row.prefix:<10}  {row.region_id:<13}  {created:<20}  "
            f"{revoked:<20}  {row.name}"
        )
    return 0


async def _apikeys_revoke(args: argparse.Namespace) -> int:
    row = await auth.revoke_api_key(SystemClock(), args.id)
    print(f"API key {row.id} ({row.name}) is revoked")
    return 0


async def _demo(args: argparse.Namespace) -> int:
    print(
        "Replacing the demo credentials: the demo accounts get new passwords, and "
        "their old tokens and the old demo partner key stop working."
    )
    await pii_cli.ready(Settings.from_env())  # the demo's reporters are encrypted
    async with _doorbell(Settings.from_env()) as doorbell:
        demo = await load_demo(SystemClock(), doorbell)
    print("Demo data loaded (all of it fictional, marked DEMO):")
    for kim in demo.kims:
        print(f"  KIM {kim.id}: {kim.name} ({kim.region_id})")
    print("Demo accounts (passwords are new on every run):")
    for account in demo.accounts:
        print(
            f"  {account.username:<24} {account.role:<8} {account.region_code:<14} "
            f"password {account.password}"
        )
    print(f"Demo partner API key (region {DEMO_KEY_REGION}): {demo.api_key}")
    print(f"Demo announcements (on the board /board/{DEMO_BOARD}):")
    for row in demo.announcements:
        until = f", until {row.valid_until:%H:%M} UTC" if row.valid_until else ""
        new = "published" if row.id in demo.published else "already showing"
        print(f"  {row.priority.name:<9} {row.title} ({new}{until})")
    print("Demo aspirations (follow them with aspirationTrack):")
    for aspiration in demo.aspirations:
        print(f"  {aspiration.ticket}  {aspiration.title}")
    print(
        "Sign in from GraphiQL with the tokenCreate mutation, then send "
        '{"Authorization": "Bearer <token>"} in the headers tab. Example '
        "operations: examples/ (README, For frontend developers)."
    )
    return 0


@contextlib.asynccontextmanager
async def _doorbell(settings: Settings) -> AsyncIterator[Doorbell]:
    """Rings the servers over Redis if configured; they poll the log anyway."""
    if settings.redis_url is None:
        yield _nobody_rings
        return
    from kimgraph.events.redis_bus import RedisBus  # only when Redis is configured

    bus = RedisBus(settings.redis_url)
    await bus.start()
    try:
        yield bus.publish
    finally:
        await bus.close()


async def _nobody_rings(position: int, /) -> None:
    """Without Redis, servers find the demo's events by polling the event log."""


_ADMIN_COMMANDS = {
    "accounts create": _accounts_create,
    **accounts_cli.COMMANDS,
    "apikeys create": _apikeys_create,
    "apikeys list": _apikeys_list,
    "apikeys revoke": _apikeys_revoke,
    "demo": _demo,
    **units_cli.COMMANDS,
    **reports_cli.COMMANDS,
}


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


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    _check_address(host, port)
    run_closing(prepare_database(settings))
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


async def _import(settings: Settings, file: Path | None, *, national: bool) -> int:
    console = Console(stderr=True)
    if national:
        source = region_import.bundled_source(region_import.BUNDLED_NATIONAL)
    else:
        assert file is not None
        if not await asyncio.to_thread(file.is_file):
            exists = await asyncio.to_thread(file.exists)
            raise CliError(f"{'not a file' if exists else 'no such file'}: {file}")
        source = region_import.file_source(file)
    await db.migrate(settings.database_url)
    await db.init(settings.database_url)
    try:
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            # Off a terminal it would print its last frame, before any message.
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task(f"importing {source.name}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = await region_import.import_regions([source], advance)
    except region_import.RegionImportError as exc:
        for error in exc.errors[:MAX_ERRORS_SHOWN]:
            console.print(str(error), markup=False, highlight=False, soft_wrap=True)
        hidden = len(exc.errors) - MAX_ERRORS_SHOWN
        if hidden > 0:
            console.print(f"… and {hidden} more")
        console.print(f"kimgraph: {exc}", soft_wrap=True)
        return 1
    except gzip.BadGzipFile:
        raise CliError(
            f"{source.name}: not a gzip file (a plain CSV file's name ends in .csv)",
            cli_errors.FAILED,
        ) from None
    except EOFError:
        raise CliError(
            f"{source.name}: the gzip file ends early; it is cut short",
            cli_errors.FAILED,
        ) from None
    except zlib.error as exc:
        raise CliError(
            f"{source.name}: the gzip file is damaged ({exc})", cli_errors.FAILED
        ) from None
    finally:
        await db.close()
    print(
        f"{report.rows} rows: {report.added} added, {report.renamed} renamed, "
        f"{report.unchanged} unchanged"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
